"""`devbox up` fallback (docker run + devbox's watcher) against a real engine.

The same scenario runs under Compose 2.21.0, Compose v1 only, and no Compose at
all, with the sources bind-mounted, and once more with `--sync copy`.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import (
    dangling_volumes,
    docker_lines,
    http_json,
    interrupt,
    start_devbox,
    wait_for,
)

pytestmark = pytest.mark.docker

UV = Path(sys.executable).parent / "uv"


@pytest.fixture
def no_compose_at_all(
    no_compose_plugin: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No plugin and no docker-compose v1 on PATH: only the docker client."""
    bin_dir = tmp_path / "only-docker"
    bin_dir.mkdir()
    docker = subprocess.run(
        ["sh", "-c", "command -v docker"], capture_output=True, text=True, check=True
    )
    (bin_dir / "docker").symlink_to(os.path.realpath(docker.stdout.strip()))
    monkeypatch.setenv("PATH", str(bin_dir))


def in_container(name: str, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", "exec", name, *argv], capture_output=True, text=True, check=False
    )


def run_scenario(
    project: Path, port: int, log_path: Path, *extra: str, name: str | None = None
) -> str:
    """The dev loop's whole scenario; `name`: the dev container (default: the fallback's)."""
    name = name or f"devbox-{project.name}-sample-app"
    volumes_before = dangling_volumes()
    app_py = project / "src" / "sample_app" / "app.py"
    pyproject = project / "pyproject.toml"
    with log_path.open("wb") as log:
        devbox = start_devbox(["up", "--project-dir", str(project), *extra], log=log)
        try:
            assert wait_for(lambda: http_json(port, "/"), timeout=180, what="the app") == {
                "message": "hello from sample-app"
            }
            # an edited source is served by the running (reloading) app
            app_py.write_text(app_py.read_text().replace("hello from", "edited in"))
            wait_for(
                lambda: http_json(port, "/") == {"message": "edited in sample-app"},
                timeout=30,
                what="the edit",
            )

            # a new file appears, a deleted one disappears
            extra_py = project / "src" / "sample_app" / "extra.py"
            extra_py.write_text("VALUE = 1\n")
            wait_for(
                lambda: (
                    in_container(name, "test", "-f", "/app/src/sample_app/extra.py").returncode == 0
                ),
                timeout=20,
                what="the new file",
            )
            extra_py.unlink()
            wait_for(
                lambda: (
                    in_container(name, "test", "-e", "/app/src/sample_app/extra.py").returncode == 1
                ),
                timeout=20,
                what="the deletion",
            )

            # a new dependency is installed by `uv sync` in the running container
            assert in_container(name, "python", "-c", "import six").returncode == 1
            good = pyproject.read_text()
            pyproject.write_text(
                good.replace(
                    'dependencies = ["bottle>=0.13"]',
                    'dependencies = ["bottle>=0.13", "six>=1.16"]',
                )
            )
            subprocess.run(
                [str(UV), "lock", "--quiet", "--python", sys.executable], cwd=project, check=True
            )
            wait_for(
                lambda: in_container(name, "python", "-c", "import six").returncode == 0,
                timeout=180,
                what="the new dependency",
            )
            wait_for(lambda: http_json(port, "/health"), timeout=30, what="the app after the sync")

            # a broken pyproject.toml keeps the old container serving and says why
            failure = (
                "error: build failed: the previous container keeps running; save a fix to retry"
            )
            failures = log_path.read_text().count(failure)
            broken = pyproject.read_text()
            pyproject.write_text(broken.replace("[project]", "[project"))
            wait_for(
                lambda: log_path.read_text().count(failure) == failures + 1,
                timeout=120,
                what="the build error",
            )
            # the old container serves (its app may be restarting after the sync above)
            wait_for(lambda: http_json(port, "/health"), timeout=30, what="the old container")
            assert in_container(name, "python", "-c", "import six").returncode == 0
            # fixing it recovers: `uv sync` in the container succeeds again, and the app serves
            synced = log_path.read_text().count("pyproject.toml: ")
            pyproject.write_text(broken)
            wait_for(
                lambda: log_path.read_text().count("pyproject.toml: ") > synced,
                timeout=120,
                what="the sync after the fix",
            )
            wait_for(lambda: http_json(port, "/health"), timeout=30, what="the app after the fix")
        finally:
            code = interrupt(devbox)
    output = log_path.read_text()
    assert code == 130, output
    assert docker_lines("ps", "-aq", "--filter", f"label=dev.devbox.project={project.name}") == []
    assert dangling_volumes() <= volumes_before
    return output


def test_compose_2_21(
    initialized_sample: tuple[Path, int], compose_2_21: str, tmp_path: Path
) -> None:
    output = run_scenario(*initialized_sample, tmp_path / "up.log")
    assert "fallback mode: Compose 2.21.0 is older than 2.22.0" in output


def test_compose_v1(
    initialized_sample: tuple[Path, int], no_compose_plugin: str, tmp_path: Path
) -> None:
    output = run_scenario(*initialized_sample, tmp_path / "up.log")
    assert "fallback mode: no Compose v2 plugin found; Compose v1 1.29.2 has no watch" in output


def test_no_compose(
    initialized_sample: tuple[Path, int], no_compose_at_all: None, tmp_path: Path
) -> None:
    output = run_scenario(*initialized_sample, tmp_path / "up.log")
    assert "fallback mode: no Compose v2 plugin found (no `compose watch`)" in output


def test_sync_copy(initialized_sample: tuple[Path, int], compose_2_21: str, tmp_path: Path) -> None:
    project, port = initialized_sample
    output = run_scenario(project, port, tmp_path / "up.log", "--sync", "copy")
    assert "(copy sync)" in output
    assert "copy 1, delete 0" in output


def test_sync_restart_in_copy_mode_keeps_synced_edits(
    initialized_sample: tuple[Path, int], compose_2_21: str, tmp_path: Path
) -> None:
    """A restart recreates the container from the image built at start; the edits synced
    since then must be copied in again, or the restart would revert them."""
    project, port = initialized_sample
    compose = project / "compose.yaml"
    compose.write_text(compose.read_text().replace("- action: sync\n", "- action: sync+restart\n"))
    app_py = project / "src" / "sample_app" / "app.py"
    log_path = tmp_path / "up.log"
    with log_path.open("wb") as log:
        devbox = start_devbox(["up", "--project-dir", str(project), "--sync", "copy"], log=log)
        try:
            wait_for(lambda: http_json(port, "/"), timeout=180, what="the app")
            for word in ("first", "second"):
                app_py.write_text(app_py.read_text().replace("hello from", f"{word} edit in", 1))
                app_py.write_text(app_py.read_text().replace("first edit in", f"{word} edit in"))
                expected = {"message": f"{word} edit in sample-app"}

                def served(expected: dict[str, str] = expected) -> bool:
                    return http_json(port, "/") == expected

                wait_for(served, timeout=60, what=f"{word} edit")
        finally:
            interrupt(devbox)
    output = log_path.read_text()
    assert output.count("restart") >= 2, output
    assert docker_lines("ps", "-aq", "--filter", f"label=dev.devbox.project={project.name}") == []
