"""Batch planning: which actions a batch of changed paths asks for (no engine)."""

from pathlib import Path

import pytest

from devbox.sync.plan import BindMount, plan_batch
from devbox.sync.rules import RuleSet, parse_watch_rules

WATCH = {
    "watch": [
        {"action": "sync", "path": ".", "target": "/app", "ignore": [".venv/"]},
        {"action": "rebuild", "path": "./pyproject.toml"},
        {"action": "sync+restart", "path": "./conf", "target": "/etc/app"},
        {
            "action": "sync+exec",
            "path": "./static",
            "target": "/srv",
            "exec": {"command": "reload"},
        },
    ]
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name in ("src/app.py", "pyproject.toml", "conf/app.ini", "static/a.css", ".venv/x.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    return tmp_path


def rules(project: Path) -> RuleSet:
    parsed = parse_watch_rules(
        WATCH, project_dir=project, compose_file=project / "compose.yaml", service="app"
    )
    return RuleSet(parsed, context_dir=project, dockerignore=[".git"])


def test_bind_mount_makes_syncs_immediate(project: Path) -> None:
    plan = plan_batch(
        [project / "src/app.py"],
        rules(project),
        bind=BindMount(project, "/app"),
        compose_file=project / "compose.yaml",
    )
    assert (plan.bind_synced, plan.copies, plan.deletes, plan.rebuild) == (1, {}, set(), False)
    assert plan.actions() == ["sync (bind mount)"]


def test_copy_mode_copies_and_deletes(project: Path) -> None:
    gone = project / "src" / "old.py"
    plan = plan_batch(
        [project / "src/app.py", gone],
        rules(project),
        bind=None,
        compose_file=project / "compose.yaml",
    )
    assert set(plan.copies) == {"/app/src/app.py"}
    assert plan.deletes == {"/app/src/old.py"}
    assert plan.actions() == ["copy 1, delete 1"]


def test_dependency_change_syncs_uv_instead_of_rebuilding(project: Path) -> None:
    plan = plan_batch(
        [project / "pyproject.toml"],
        rules(project),
        bind=None,
        compose_file=project / "compose.yaml",
    )
    assert not plan.rebuild
    assert plan.dependencies == [project / "pyproject.toml"]
    assert set(plan.copies) == {"/app/pyproject.toml"}  # every matching rule applies
    assert plan.actions() == ["copy 1, delete 0", "uv sync"]


def test_other_rebuild_paths_still_rebuild(project: Path) -> None:
    (project / "Dockerfile").write_text("FROM x")
    watch = {"watch": [{"action": "rebuild", "path": "./Dockerfile"}, *WATCH["watch"]]}
    parsed = parse_watch_rules(
        watch, project_dir=project, compose_file=project / "compose.yaml", service="app"
    )
    ruleset = RuleSet(parsed, context_dir=project, dockerignore=[".git"])
    batch = [project / "Dockerfile", project / "pyproject.toml"]
    plan = plan_batch(batch, ruleset, bind=None, compose_file=project / "compose.yaml")
    assert plan.rebuild
    assert plan.actions()[0] == "rebuild" and "uv sync" not in plan.actions()


def test_restart_and_exec_rules(project: Path) -> None:
    batch = [project / "conf/app.ini", project / "static/a.css"]
    plan = plan_batch(
        batch,
        rules(project),
        bind=BindMount(project, "/app"),
        compose_file=project / "compose.yaml",
    )
    assert plan.restart
    assert [spec.command for spec in plan.execs] == [("reload",)]
    # /etc/app and /srv are outside the bind mount: copied like Compose does
    assert set(plan.copies) == {"/etc/app/app.ini", "/srv/a.css"}
    assert plan.bind_synced == 2  # the same files under the `.` rule


def test_ignored_paths_plan_nothing(project: Path) -> None:
    plan = plan_batch(
        [project / ".venv/x.py", project / ".git/HEAD"],
        rules(project),
        bind=None,
        compose_file=project / "compose.yaml",
    )
    assert plan.empty


def test_compose_file_change_reloads_rules(project: Path) -> None:
    plan = plan_batch(
        [project / "compose.yaml"],
        rules(project),
        bind=BindMount(project, "/app"),
        compose_file=project / "compose.yaml",
    )
    assert plan.reload_rules and not plan.empty
