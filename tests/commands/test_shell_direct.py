"""`devbox shell` on a live session: the exec comes from the session record alone, and
any doubt hands over to the full path (None)."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from devbox.commands.shell_direct import (
    DEFAULT_SHELL,
    after_service,
    facts_files,
    recorded_exec,
    shell_facts,
)
from devbox.project.compose import load_compose
from devbox.project.locate import locate
from devbox.runtime import state
from tests.fakes import session_record

COMPOSE = """\
services:
  app:
    build: .
    working_dir: /srv
  db:
    image: postgres:16
"""


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project whose session record names this (live) process and container `c1`."""
    monkeypatch.delenv("DEVBOX_ENGINE", raising=False)
    monkeypatch.delenv("COMPOSE_FILE", raising=False)
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    project = load_compose(locate(tmp_path))
    facts = shell_facts(project, project.services["app"], "docker")
    state.save(tmp_path, session_record(os.getpid(), container="c1", shell=facts))
    return tmp_path


def direct(project: Path, *words: str, **options: object) -> list[str] | None:
    service, command = (words[0], list(words[1:])) if words else (None, None)
    return recorded_exec(
        project_dir=project,
        service=service,
        command=command or None,
        user=options.get("user"),  # type: ignore[arg-type]
        env=options.get("env"),  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("command", "runs"),
    [
        (None, None),
        (["--"], None),
        (["--", "ls", "-l"], ["ls", "-l"]),
        (["--", "--", "x"], ["--", "x"]),
        (["ls", "--", "x"], ["ls", "--", "x"]),
    ],
)
def test_the_separator_after_service_is_dropped(
    command: list[str] | None, runs: list[str] | None
) -> None:
    assert after_service(command) == runs


def test_shell_service_separator_command_runs_the_command(live: Path) -> None:
    # `devbox shell app -- ls`: the CLI stops reading options at `app`, so `--` arrives.
    assert direct(live, "app", "--", "ls") == [
        "docker", "exec", "--interactive", "--workdir", "/srv", "c1", "ls",
    ]  # fmt: skip
    # `devbox shell -- git log -- x`: no service named; CMD is kept as it is.
    assert direct(live, "git", "log", "--", "x")[-4:] == ["git", "log", "--", "x"]  # type: ignore[index]


def test_the_recorded_container_is_exec_d_in_its_working_dir(live: Path) -> None:
    # `devbox shell -- true`: typer hands `true` over as the service word.
    assert direct(live, "true") == [
        "docker", "exec", "--interactive", "--workdir", "/srv", "c1", "true",
    ]  # fmt: skip
    assert direct(live, "app", "ls", "-l", env=["A=1", "B"], user="0") == [
        "docker", "exec", "--interactive", "--env", "A=1", "--env", "B",
        "--workdir", "/srv", "--user", "0", "c1", "ls", "-l",
    ]  # fmt: skip
    assert direct(live) == [
        "docker", "exec", "--interactive", "--workdir", "/srv", "c1", *DEFAULT_SHELL,
    ]  # fmt: skip


def test_another_service_goes_the_full_way(live: Path) -> None:
    assert direct(live, "db", "true") is None


def test_a_dependency_edit_keeps_the_direct_way(live: Path) -> None:
    pyproject = live / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + 'dependencies = ["six"]\n')
    os.utime(pyproject, ns=(1, 1))
    assert direct(live, "true") is not None


def test_edited_files_go_the_full_way(live: Path) -> None:
    for name in ("compose.yaml", ".env"):
        path = live / name
        before = path.stat().st_mtime_ns if path.exists() else None
        path.write_text(path.read_text() + "\n" if path.exists() else "A=1\n")
        os.utime(path, ns=(1, 1))  # a different time, whatever the clock's resolution
        assert direct(live, "true") is None, name
        if before is None:
            path.unlink()
        else:
            os.utime(path, ns=(before, before))
        assert direct(live, "true") is not None, name


def test_an_override_file_added_later_goes_the_full_way(live: Path) -> None:
    (live / "compose.override.yaml").write_text("services: {}\n")
    assert direct(live, "true") is None


def test_another_engine_goes_the_full_way(live: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEVBOX_ENGINE", "podman")
    assert direct(live, "true") is None
    monkeypatch.setenv("DEVBOX_ENGINE", "docker")
    assert direct(live, "true") is not None


def test_only_a_known_client_is_run(live: Path) -> None:
    record = state.load(live)
    assert record is not None and record.shell is not None
    record.shell.client = "rm"
    state.save(live, record)
    assert direct(live, "true") is None


def test_no_live_record_goes_the_full_way(live: Path) -> None:
    record = state.load(live)
    assert record is not None
    dead = subprocess.Popen(["true"])
    dead.wait()
    state.save(live, session_record(dead.pid, container="c1", shell=record.shell))
    assert direct(live, "true") is None
    state.save(live, session_record(os.getpid(), container="c1"))  # an older devbox's record
    assert direct(live, "true") is None
    state.save(live, session_record(os.getpid(), container=None, shell=record.shell))
    assert direct(live, "true") is None
    state.clear(live)
    assert direct(live, "true") is None


def test_facts_name_what_decides_them(live: Path) -> None:
    record = state.load(live)
    assert record is not None and record.shell is not None
    assert record.shell.project_services == ["app", "db"]
    assert sorted(record.shell.files) == sorted(
        str(p) for p in facts_files(live, (live / "compose.yaml",))
    )
    assert record.shell.files[str(live / ".env")] == -1  # missing: its creation counts


HEAVY = ("yaml", "ruamel", "python_on_whales", "watchdog", "tomlkit", "filelock", "pydantic")


def imported_by(code: str, cwd: Path) -> set[str]:
    """The top-level modules a fresh interpreter holds after running `code`."""
    script = textwrap.dedent(code) + "\nprint(' '.join(sorted(sys.modules)))\n"
    out = subprocess.run(
        [sys.executable, "-c", "import sys\n" + script],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return set(out.split())


def test_the_direct_path_imports_no_compose_reader(live: Path) -> None:
    modules = imported_by(
        """
        from pathlib import Path
        from devbox.commands.shell_direct import recorded_exec
        argv = recorded_exec(project_dir=Path(), service="true", command=None, user=None, env=None)
        assert argv is not None
        """,
        live,
    )
    assert not {m.split(".")[0] for m in modules} & set(HEAVY)
    assert not {"devbox.project.compose", "devbox.engine.client", "devbox.commands.shell"} & modules
