"""A bind-mounted dev container runs as the project folder's owner (real engine): what it
creates in the project is the host user's, and a new dependency still installs in the running
container (its .venv and uv's cache volume are that user's), without a rebuild."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import docker_lines, http_json, interrupt, start_devbox, wait_for

pytestmark = pytest.mark.docker

HOST_USER = (1000, 1000)  # CI runs as root: the project is handed to an ordinary user


def owner(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_uid, info.st_gid


def in_container(name: str, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", "exec", name, *argv], capture_output=True, text=True, check=False
    )


def devbox(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "devbox", *args], capture_output=True, text=True, env=env
    )


def chown_tree(folder: Path, uid: int, gid: int) -> None:
    os.chown(folder, uid, gid)
    for path in folder.rglob("*"):
        os.chown(path, uid, gid, follow_symlinks=False)


def test_bind_fallback_runs_as_the_project_owner(
    compose_2_21: str, initialized_sample: tuple[Path, int], tmp_path: Path
) -> None:
    project, port = initialized_sample
    chown_tree(project, *HOST_USER)
    name = f"devbox-{project.name}-sample-app"
    cache = f"{project.name}_uv-cache"
    log_path = tmp_path / "up.log"
    with log_path.open("wb") as log:
        up = start_devbox(["up", "-C", str(project), "--sync", "bind"], log=log)
        try:
            wait_for(lambda: http_json(port, "/health"), timeout=180, what="the app")
            assert in_container(name, "id", "-u").stdout.strip() == "1000"
            # what the container creates in the project is the host user's
            assert in_container(name, "touch", "/app/newfile").returncode == 0
            assert owner(project / "newfile") == HOST_USER
            image = docker_lines("inspect", "--format", "{{.Image}} {{.Id}}", name)

            # `devbox add` with uv on the host (root here): the files stay the user's, and
            # the running container installs the package as that user (no rebuild)
            # (the project pins Python 3.13: this interpreter, so uv downloads none)
            host_uv = {**os.environ, "UV_PYTHON": sys.executable}
            added = devbox("add", "six", "-C", str(project), env=host_uv)
            assert added.returncode == 0, added.stderr
            assert owner(project / "uv.lock") == owner(project / "pyproject.toml") == HOST_USER
            wait_for(
                lambda: in_container(name, "python", "-c", "import six").returncode == 0,
                timeout=120,
                what="six in the container",
            )
            # uv's cache is the named volume, filled by the container's user
            # (uv may still be removing its temporary build folders: only stdout counts)
            listed = in_container(name, "find", "/opt/uv-cache", "-mindepth", "1", "-user", "0")
            assert listed.stdout == "", listed.stdout
            assert in_container(name, "ls", "-A", "/opt/uv-cache").stdout.strip()

            # no uv on PATH: uv runs in the container as the user; the lock comes back theirs
            bin_dir = tmp_path / "no-uv"
            bin_dir.mkdir()
            docker = shutil.which("docker")
            assert docker is not None
            (bin_dir / "docker").symlink_to(os.path.realpath(docker))
            env = {**os.environ, "PATH": str(bin_dir)}
            added = devbox("add", "toml", "-C", str(project), env=env)
            assert added.returncode == 0, added.stderr
            assert f"devbox: uv ran in {name}" in added.stderr
            assert 'name = "toml"' in (project / "uv.lock").read_text()
            assert owner(project / "uv.lock") == owner(project / "pyproject.toml") == HOST_USER
            wait_for(
                lambda: in_container(name, "python", "-c", "import toml").returncode == 0,
                timeout=120,
                what="toml in the container",
            )
            assert docker_lines("inspect", "--format", "{{.Image}} {{.Id}}", name) == image
            wait_for(lambda: http_json(port, "/health"), timeout=30, what="the app")
        finally:
            assert interrupt(up) == 130, log_path.read_text()
    # devbox's own session state (.devbox/) is written by devbox, root here, not the container
    root_owned = [
        p for p in project.rglob("*") if p.lstat().st_uid == 0 and ".devbox" not in p.parts
    ]
    assert root_owned == [], root_owned

    # uv's cache outlives the session and `down`; `down --volumes` removes it
    assert devbox("down", "-C", str(project)).returncode == 0
    assert docker_lines("volume", "ls", "-q", "--filter", f"name={cache}") == [cache]
    assert devbox("down", "--volumes", "-C", str(project)).returncode == 0
    assert docker_lines("volume", "ls", "-q", "--filter", f"name={cache}") == []
