"""What the container writes comes back: the decisions, without an engine."""

import os
from pathlib import Path

import pytest

from devbox.errors import ConfigError
from devbox.runtime import state
from devbox.sync.rules import RuleSet, parse_watch_rules
from devbox.sync.writeback import (
    Verdict,
    WritesBack,
    beside,
    host_file,
    policy_of,
    verdict,
    write_file,
)

WATCH = {
    "watch": [
        {"action": "sync", "path": ".", "target": "/app", "ignore": [".venv/", "*.log"]},
        {"action": "sync+restart", "path": "./conf", "target": "/etc/app"},
        {"action": "rebuild", "path": "./Dockerfile"},
    ]
}


def rules(project: Path) -> RuleSet:
    parsed = parse_watch_rules(
        WATCH, project_dir=project, compose_file=project / "compose.yaml", service="app"
    )
    return RuleSet(parsed, context_dir=project, dockerignore=["**/__pycache__", "*.pyc"])


def test_container_paths_map_to_the_host_through_the_rule_that_syncs_them(
    tmp_path: Path,
) -> None:
    ruleset = rules(tmp_path)
    found = host_file(ruleset, "/app/pkg/migrations/0001.py")
    assert found is not None and found[1] == tmp_path / "pkg" / "migrations" / "0001.py"
    found = host_file(ruleset, "/etc/app/app.ini")
    assert found is not None and found[1] == tmp_path / "conf" / "app.ini"
    for ignored in (
        "/app/.venv/bin/python",  # the rule's ignore
        "/app/server.log",
        "/app/pkg/__pycache__/m.cpython-313.pyc",  # the .dockerignore
        "/app/m.pyc",
        "/usr/lib/x.py",  # under no target
        "/application/x.py",  # a prefix of the name is not the folder
    ):
        assert host_file(ruleset, ignored) is None, ignored


@pytest.mark.parametrize(
    ("policy", "deleted", "exists", "same", "unchanged", "in_shell", "expected"),
    [
        (WritesBack.OFF, False, False, False, False, False, Verdict.SKIP),
        (WritesBack.NEW, False, False, False, False, False, Verdict.WRITE),  # a new file
        (WritesBack.NEW, False, True, False, True, False, Verdict.SKIP),  # the app's change
        (WritesBack.NEW, False, True, False, True, True, Verdict.WRITE),  # a shell's
        (WritesBack.NEW, False, True, False, False, True, Verdict.BESIDE),  # host changed too
        (WritesBack.ALL, False, True, True, False, False, Verdict.SKIP),  # same bytes
        (WritesBack.ALL, False, True, False, True, False, Verdict.WRITE),
        (WritesBack.ALL, False, True, False, False, False, Verdict.BESIDE),
        (WritesBack.NEW, True, True, False, True, True, Verdict.SKIP),  # deletions: all only
        (WritesBack.ALL, True, True, False, True, False, Verdict.DELETE),
        (WritesBack.ALL, True, True, False, False, False, Verdict.SKIP),  # the host's edit stays
        (WritesBack.ALL, True, False, False, False, False, Verdict.SKIP),
    ],
)
def test_verdicts(
    policy: WritesBack,
    deleted: bool,
    exists: bool,
    same: bool,
    unchanged: bool,
    in_shell: bool,
    expected: Verdict,
) -> None:
    got = verdict(
        policy=policy,
        deleted=deleted,
        exists=exists,
        same=same,
        host_unchanged=unchanged,
        in_shell=in_shell,
    )
    assert got is expected


def test_a_conflict_is_kept_beside_with_the_time(tmp_path: Path) -> None:
    kept = beside(tmp_path / "notes.txt", 0.0)
    assert kept.parent == tmp_path and kept.name.startswith("notes.txt.container-19")


def test_write_file_is_atomic_with_the_container_mode_and_mtime(tmp_path: Path) -> None:
    target = tmp_path / "new" / "deep" / "gen.py"
    write_file(target, b"X = 1\n", mode=0o755, mtime_ns=1_500_000_000_123, project_dir=tmp_path)
    assert target.read_bytes() == b"X = 1\n"
    assert target.stat().st_mode & 0o777 == 0o755
    assert target.stat().st_mtime_ns == 1_500_000_000_123
    assert [p.name for p in target.parent.iterdir()] == ["gen.py"]  # no temporary left


def test_policy_of_reads_tool_devbox(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert policy_of(tmp_path) is WritesBack.NEW
    (tmp_path / "pyproject.toml").write_text('[tool.devbox]\nwrites-back = "all"\n')
    assert policy_of(tmp_path) is WritesBack.ALL
    (tmp_path / "pyproject.toml").write_text('[tool.devbox]\nwrites-back = "some"\n')
    with pytest.raises(ConfigError) as raised:
        policy_of(tmp_path)
    assert raised.value.message == (
        f"{tmp_path / 'pyproject.toml'}: tool.devbox.writes-back: 'some' is unknown; "
        'use "off", "new" or "all"'
    )


def test_a_shell_counts_while_it_runs_and_a_moment_after(tmp_path: Path) -> None:
    assert not state.shell_running(tmp_path)
    with state.shell_marker(tmp_path):
        assert state.shell_running(tmp_path)
    assert state.shell_running(tmp_path)  # its last writes are still on their way
    mark = tmp_path / state.STATE_DIR / state.SHELLS / str(os.getpid())
    mark.write_text('{"ended": 1}')
    assert not state.shell_running(tmp_path)
    assert not mark.exists()  # an old mark is removed
