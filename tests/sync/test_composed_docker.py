"""Compose mode (plain `devbox up` on Compose 2.40: Compose runs the project, devbox syncs)
against the real engine: the fallback's whole scenario in bind and copy sync, Compose's
own end-to-end watch scenario in copy sync, a remote engine (copy chosen by itself), and
a failed build keeping the old container."""

import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.commands.test_up_fallback_docker import run_scenario
from tests.support import (
    dangling_volumes,
    docker_lines,
    http_json,
    interrupt,
    start_devbox,
    wait_for,
)

pytestmark = pytest.mark.docker

IMAGE = "python:3.13-slim-trixie"  # provisioned on every engine (scripts/provision-*)


def compose_leftovers(project: str) -> list[str]:
    label = f"label=com.docker.compose.project={project}"
    return docker_lines("ps", "-aq", "--filter", label) + docker_lines(
        "network", "ls", "-q", "--filter", label
    )


@pytest.mark.parametrize("sync", ["bind", "copy"])
def test_the_fallback_scenario_in_compose_mode(
    initialized_sample: tuple[Path, int], compose_2_40: str, tmp_path: Path, sync: str
) -> None:
    """Edits, a new and a deleted file, a dependency installed without a rebuild, a broken
    pyproject.toml keeping the old container: as in the fallback, in Compose's container."""
    project, port = initialized_sample
    name = f"{project.name}-sample-app-1"
    output = run_scenario(project, port, tmp_path / "up.log", "--sync", sync, name=name)
    assert "compose mode: Compose 2.40.3 runs the project and devbox syncs it" in output
    assert f"container {name} running ({sync} sync)" in output
    assert compose_leftovers(project.name) == []


def in_container(name: str, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", "exec", name, *argv], capture_output=True, text=True, check=False
    )


def content(name: str, path: str) -> str | None:
    result = in_container(name, "cat", f"/app/data/{path}")
    return result.stdout if result.returncode == 0 else None


def soon(check: Callable[[], object], what: str) -> None:
    wait_for(check, timeout=20, what=what)


def exists(name: str, path: str) -> bool:
    return in_container(name, "test", "-e", f"/app/data/{path}").returncode == 0


@pytest.fixture
def watch_project(tmp_path: Path) -> Path:
    """Compose's e2e watch project: one service from a plain image (no `build:`), `./data`
    synced to `/app/data`, `*.foo` and `./ignored` left out."""
    project = tmp_path / f"e2e-{uuid.uuid4().hex[:8]}"
    (project / "data").mkdir(parents=True)
    (project / "compose.yaml").write_text(
        "services:\n"
        "  app:\n"
        f"    image: {IMAGE}\n"
        "    init: true\n"
        '    command: ["sleep", "infinity"]\n'
        "    develop:\n"
        "      watch:\n"
        "        - action: sync\n"
        "          path: ./data\n"
        "          target: /app/data\n"
        "          ignore: ['*.foo', './ignored']\n"
    )
    return project


def test_compose_e2e_watch_scenario_in_copy_mode(
    watch_project: Path, compose_2_40: str, tmp_path: Path
) -> None:
    project = watch_project
    name = f"{project.name}-app-1"
    data = project / "data"
    volumes_before = dangling_volumes()
    log_path = tmp_path / "up.log"
    with log_path.open("wb") as log:
        devbox = start_devbox(["up", "--sync", "copy", "--project-dir", str(project)], log=log)
        try:
            wait_for(lambda: "watching " in log_path.read_text(), timeout=120, what="the watch")
            # create
            (data / "hello.txt").write_text("hello world\n")
            wait_for(
                lambda: content(name, "hello.txt") == "hello world\n",
                timeout=20,
                what="the new file",
            )
            # modify
            (data / "hello.txt").write_text("hello you\n")
            soon(lambda: content(name, "hello.txt") == "hello you\n", "the change")
            # ignored: a *.foo file and anything under ./ignored
            (data / "ignored.foo").write_text("foo\n")
            (data / "ignored").mkdir()
            (data / "ignored" / "hello.txt").write_text("ignored\n")
            # a new folder, several levels deep
            (data / "sub" / "deep").mkdir(parents=True)
            (data / "sub" / "deep" / "file.txt").write_text("deep\n")
            wait_for(
                lambda: content(name, "sub/deep/file.txt") == "deep\n",
                timeout=20,
                what="the folder",
            )
            # rapid rewrites: the last one wins
            for i in range(50):
                (data / "rapid.txt").write_text(f"{i}\n")
                time.sleep(0.005)
            soon(lambda: content(name, "rapid.txt") == "49\n", "the last rewrite")
            assert not exists(name, "ignored.foo")
            assert not exists(name, "ignored")
            # delete a file, then a whole folder
            (data / "hello.txt").unlink()
            soon(lambda: not exists(name, "hello.txt"), "the deletion")
            for path in sorted((data / "sub").rglob("*"), reverse=True):
                path.unlink() if path.is_file() else path.rmdir()
            (data / "sub").rmdir()
            soon(lambda: not exists(name, "sub"), "the folder's deletion")
            assert exists(name, "rapid.txt")
        finally:
            code = interrupt(devbox)
    output = log_path.read_text()
    assert code == 130, output
    assert "Traceback" not in output
    assert compose_leftovers(project.name) == []
    assert dangling_volumes() <= volumes_before


def test_remote_engine_in_compose_mode_copies_by_itself(
    initialized_sample: tuple[Path, int], compose_2_40: str, remote_engine: str, tmp_path: Path
) -> None:
    project, port = initialized_sample
    name = f"{project.name}-sample-app-1"
    log_path = tmp_path / "up.log"
    with log_path.open("wb") as log:
        devbox = start_devbox(["up", "--project-dir", str(project)], log=log)
        try:
            wait_for(lambda: http_json(port, "/"), timeout=240, what="the app")
            app_py = project / "src" / "sample_app" / "app.py"
            app_py.write_text(app_py.read_text().replace("hello from", "remote in"))
            wait_for(
                lambda: http_json(port, "/") == {"message": "remote in sample-app"},
                timeout=30,
                what="the edit",
            )
            new = project / "src" / "sample_app" / "new.py"
            new.write_text("VALUE = 1\n")
            path = "/app/src/sample_app/new.py"
            soon(lambda: in_container(name, "test", "-f", path).returncode == 0, "the new file")
        finally:
            code = interrupt(devbox)
    output = log_path.read_text()
    assert code == 130, output
    assert f"it cannot see {project}: sources are copied in" in output
    assert f"container {name} running (copy sync)" in output
    assert compose_leftovers(project.name) == []
