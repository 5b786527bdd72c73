"""`devbox doctor`'s pure parts: verdicts, formatting, the inotify comparison; the CLI."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from devbox.cli import app
from devbox.commands import doctor as doctor_module
from devbox.commands.doctor import (
    Check,
    DoctorReport,
    Verdict,
    base_image,
    buildkit_check,
    compose_check,
    compose_v1_check,
    disk_check,
    fail,
    inotify_check,
    ok,
    warn,
)
from devbox.engine.versions import Version
from devbox.errors import ExitCode
from devbox.sync.watcher import watch_needs

runner = CliRunner()


def test_a_line_shows_the_fix_only_when_there_is_something_to_do() -> None:
    assert ok("engine", "Docker 28.0.0").line() == "ok    engine: Docker 28.0.0"
    assert Check("x", Verdict.OK, "fine", "unused").line() == "ok    x: fine"
    assert warn("disk", "1.0 GB free", "prune").line() == "warn  disk: 1.0 GB free; fix: prune"
    assert fail("engine", "down", "start it").line() == "fail  engine: down; fix: start it"


def test_the_report_fails_only_on_a_failing_check() -> None:
    report = DoctorReport(project=None, checks=[ok("a", "x"), warn("b", "y")])
    assert report.failures == 0
    assert report.error() is None
    report = DoctorReport(project="/p", checks=[fail("a", "x", "f"), fail("b", "y")])
    error = report.error()
    assert error is not None and error.failures == 2 and error.code == ExitCode.FAILURE
    assert report.to_dict()["checks"] == [
        {"name": "a", "verdict": "fail", "detail": "x", "fix": "f"},
        {"name": "b", "verdict": "fail", "detail": "y", "fix": None},
    ]


def test_compose_verdicts() -> None:
    assert compose_check(Version(2, 40, 3)) == ok(
        "compose", "2.40.3: compose mode (`--mode watch` runs Compose watch)"
    )
    assert compose_check(Version(2, 22, 0)).verdict is Verdict.OK
    old = compose_check(Version(2, 21, 0))
    assert old.verdict is Verdict.WARN and "fallback mode" in old.detail
    assert compose_check(None).verdict is Verdict.WARN
    assert compose_v1_check(None, has_v2=False) == ok("compose v1", "not installed")
    assert compose_v1_check(Version(1, 29, 2), has_v2=True).verdict is Verdict.OK
    assert compose_v1_check(Version(1, 29, 2), has_v2=False).verdict is Verdict.WARN


def test_buildkit_verdicts() -> None:
    assert buildkit_check(buildx=True, client=Version(28, 2, 2)).verdict is Verdict.OK
    assert buildkit_check(buildx=False, client=Version(20, 10, 24)).verdict is Verdict.OK
    missing = buildkit_check(buildx=False, client=Version(28, 2, 2))
    assert missing.verdict is Verdict.FAIL
    assert missing.fix is not None and "buildx" in missing.fix


@pytest.mark.parametrize(
    ("folders", "instances", "verdict"),
    [
        (100, 3, Verdict.OK),
        (600, 3, Verdict.WARN),  # over half the watches: editors share them
        (1001, 3, Verdict.WARN),  # more than the limit: the fallback polls
        (10, 70, Verdict.WARN),  # over half the instances
        (10, 129, Verdict.WARN),
    ],
)
def test_inotify_against_injected_limits(folders: int, instances: int, verdict: Verdict) -> None:
    check = inotify_check(folders=folders, instances=instances, max_watches=1000, max_instances=128)
    assert check.verdict is verdict
    assert check.detail.startswith(f"{folders} folders to watch ({instances} inotify instances)")


def test_inotify_over_the_limit_names_the_sysctl() -> None:
    check = inotify_check(folders=2000, instances=3, max_watches=1000, max_instances=128)
    assert check.fix == (
        "sudo sysctl fs.inotify.max_user_watches=524288 fs.inotify.max_user_instances=1024"
    )
    unknown = inotify_check(folders=1, instances=1, max_watches=None, max_instances=None)
    assert unknown.verdict is Verdict.WARN


def test_watch_needs_counts_the_folders_the_watcher_would_watch(tmp_path: Path) -> None:
    for folder in ("src/a/b", "src/c", ".venv/lib/x", ".devbox", "docs"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "file.py").write_text("")

    def skip(path: Path) -> bool:
        return path.name == ".venv"

    # the root; src, src/a, src/a/b, src/c; docs. One instance per scheduled watch.
    assert watch_needs(tmp_path, skip) == (6, 3)
    assert watch_needs(tmp_path, lambda p: False) == (9, 4)


def test_disk_verdicts() -> None:
    assert disk_check(6 * 1024**3, "/var/lib/docker") == ok(
        "disk", "6.0 GB free at /var/lib/docker"
    )
    low = disk_check(4 * 1024**3, "/var/lib/docker")
    assert low.verdict is Verdict.WARN and low.detail.startswith("4.0 GB free")
    assert disk_check(None, "remote").verdict is Verdict.WARN


def test_base_image_is_the_first_stage() -> None:
    text = "ARG X=1\nFROM --platform=linux/amd64 python:3.13-slim AS dev\nFROM dev AS prod\n"
    assert base_image(text) == "python:3.13-slim"
    assert base_image("ARG IMG=python\nFROM ${IMG}\n") is None
    assert base_image("") is None


def test_cli_prints_every_line_then_fails(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    report = DoctorReport(
        project=str(tmp_path), checks=[ok("engine", "Docker 28"), fail("disk", "full", "prune")]
    )
    monkeypatch.setattr(doctor_module, "doctor", lambda **_: report)
    result = runner.invoke(app, ["doctor", "--project-dir", str(tmp_path)])
    assert result.exit_code == ExitCode.FAILURE
    assert result.stdout == "ok    engine: Docker 28\nfail  disk: full; fix: prune\n"
    assert result.stderr == "devbox: 1 check(s) failed; see the fixes above\n"

    result = runner.invoke(app, ["doctor", "--json", "--project-dir", str(tmp_path)])
    assert result.exit_code == ExitCode.FAILURE
    assert json.loads(result.stdout)["failures"] == 1


def test_cli_exits_0_when_nothing_fails(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    report = DoctorReport(project=None, checks=[warn("uv pin", "no project")])
    monkeypatch.setattr(doctor_module, "doctor", lambda **_: report)
    result = runner.invoke(app, ["doctor", "--project-dir", str(tmp_path)])
    assert result.exit_code == 0
    assert result.stdout == "warn  uv pin: no project\n"


def test_the_dockerignore_line_judges_what_a_build_copies(tmp_path: Path) -> None:
    from devbox.commands.doctor import _project_checks
    from devbox.project.secrets import block_lines

    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "id_rsa").write_text("KEY\n")
    (tmp_path / ".dockerignore").write_text(".venv\n.env\n")
    [line] = [c for c in _project_checks(tmp_path, None, "app") if c.name == ".dockerignore"]
    assert line.verdict is Verdict.FAIL
    assert "a build copies these secrets into the image: a/b/id_rsa" in line.detail
    (tmp_path / ".dockerignore").write_text("\n".join([".venv", *block_lines()]))
    [line] = [c for c in _project_checks(tmp_path, None, "app") if c.name == ".dockerignore"]
    assert line == ok(
        ".dockerignore", "a build copies neither .venv nor secrets (.env, keys, credentials)"
    )


def test_python_wheels_check_names_the_packages_that_would_build(tmp_path: Path) -> None:
    from tests.project.test_wheels import LOCK

    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
    )
    (tmp_path / "uv.lock").write_text(LOCK)
    (tmp_path / "Dockerfile").write_text("FROM python:3.13-slim-bookworm\n")
    check = doctor_module._wheels(tmp_path, (tmp_path / "Dockerfile").read_text())
    assert check.verdict is Verdict.WARN
    assert check.detail == (
        "uv.lock has no Python 3.13 wheel for fastcore==1.0: they build from source, which "
        "needs a compiler (slim images have none)"
    )
    assert check.fix is not None and check.fix.startswith(
        "start your Dockerfile FROM python:3.12-... (the lock has wheels for 3.12), or "
        "`uv lock --upgrade-package fastcore`"
    )
    good = doctor_module._wheels(tmp_path, "FROM python:3.12-slim\n")
    assert good == ok("python wheels", "uv.lock has wheels for Python 3.12 (python:3.12-slim)")
    assert doctor_module._wheels(tmp_path, "FROM mycorp/base:1\n").detail.startswith("not checked")
