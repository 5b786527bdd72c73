"""devbox beyond the local Docker daemon, against real engines (scripts/provision-extra):
a second dockerd that cannot see the project (a "remote" engine), and Podman."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import docker_lines, http_json, interrupt, start_devbox, wait_for

pytestmark = pytest.mark.docker

UV = Path(sys.executable).parent / "uv"
HELLO = {"message": "hello from sample-app"}


def devbox(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "devbox", *args], capture_output=True, text=True, check=False
    )


def in_container(client: str, name: str, *argv: str) -> int:
    result = subprocess.run([client, "exec", name, *argv], capture_output=True, check=False)
    return result.returncode


def edit_is_served(project: Path, port: int) -> None:
    app_py = project / "src" / "sample_app" / "app.py"
    app_py.write_text(app_py.read_text().replace("hello from", "edited in"))
    wait_for(
        lambda: http_json(port, "/") == {"message": "edited in sample-app"},
        timeout=30,
        what="the edit",
    )


def test_remote_engine_copies_the_sources_and_refuses_bind(
    initialized_sample: tuple[Path, int], remote_engine: str, tmp_path: Path
) -> None:
    project, port = initialized_sample
    refused = devbox("up", "--mode", "fallback", "--sync", "bind", "--project-dir", str(project))
    assert refused.returncode == 2, refused.stderr
    assert refused.stderr.splitlines()[-1] == (
        f"devbox: --sync bind: the engine (docker at {remote_engine}) cannot see {project}, so "
        "the container would get an empty /app; use --sync copy (or auto, the default)"
    )
    name = f"devbox-{project.name}-sample-app"
    log_path = tmp_path / "up.log"
    with log_path.open("wb") as log:
        child = start_devbox(["up", "--mode", "fallback", "--project-dir", str(project)], log=log)
        try:
            assert wait_for(lambda: http_json(port, "/"), timeout=180, what="the app") == HELLO
            status = devbox("status", "--project-dir", str(project))
            assert "cannot see the project folder (copy)" in status.stdout, status.stdout
            edit_is_served(project, port)

            gone = project / "src" / "sample_app" / "gone.py"
            gone.write_text("VALUE = 1\n")
            path = "/app/src/sample_app/gone.py"
            wait_for(
                lambda: in_container("docker", name, "test", "-f", path) == 0,
                timeout=20,
                what="the new file",
            )
            gone.unlink()
            wait_for(
                lambda: in_container("docker", name, "test", "-e", path) == 1,
                timeout=20,
                what="the deletion",
            )

            burst = project / "burst"
            burst.mkdir()
            for i in range(2000):
                (burst / f"f{i}.txt").write_text(str(i))
            count = ["sh", "-c", "test $(ls /app/burst | wc -l) -eq 2000"]
            wait_for(
                lambda: in_container("docker", name, *count) == 0,
                timeout=60,
                what="2,000 files in the container",
            )
        finally:
            code = interrupt(child)
    output = log_path.read_text()
    assert code == 130, output
    assert f"it cannot see {project}: sources are copied in" in output
    assert "(copy sync)" in output
    assert docker_lines("ps", "-aq", "--filter", f"label=dev.devbox.project={project.name}") == []
    one_off = devbox("shell", "--start", "--project-dir", str(project), "--", "true")
    assert one_off.returncode == 2, one_off.stderr
    assert "shell --start bind-mounts" in one_off.stderr
    docker_lines("image", "rm", "--force", f"devbox-{project.name}-sample-app:dev")


def test_podman_sample(
    initialized_sample: tuple[Path, int], podman_engine: None, tmp_path: Path
) -> None:
    project, port = initialized_sample
    name = f"devbox-{project.name}-sample-app"
    image = f"localhost/{name}:dev"

    def podman(*args: str) -> list[str]:
        result = subprocess.run(["podman", *args], capture_output=True, text=True, check=True)
        return result.stdout.split()

    try:
        started = devbox("up", "--detach", "--project-dir", str(project))
        assert started.returncode == 0, started.stderr
        assert "fallback mode: Podman has no Compose watch" in started.stderr
        assert wait_for(lambda: http_json(port, "/"), timeout=60, what="the app") == HELLO
        edit_is_served(project, port)

        # a new dependency rebuilds the image with Podman
        assert in_container("podman", name, "python", "-c", "import six") == 1
        pyproject = project / "pyproject.toml"
        pyproject.write_text(
            pyproject.read_text().replace(
                'dependencies = ["bottle>=0.13"]', 'dependencies = ["bottle>=0.13", "six>=1.16"]'
            )
        )
        subprocess.run(
            [str(UV), "lock", "--quiet", "--python", sys.executable], cwd=project, check=True
        )
        wait_for(
            lambda: in_container("podman", name, "python", "-c", "import six") == 0,
            timeout=180,
            what="the rebuilt container",
        )
        wait_for(lambda: http_json(port, "/health"), timeout=30, what="the app after the rebuild")

        # uv lock saved two files: a second rebuild may still be recreating the container
        shell = ["shell", "--project-dir", str(project), "--", "sh", "-c"]
        wait_for(lambda: devbox(*shell, "exit 0").returncode == 0, timeout=60, what="a shell")
        failed = devbox(*shell, "exit 3")
        assert failed.returncode == 3, failed.stderr

        smoke = devbox("smoke", "--rm-image", "--project-dir", str(project))
        assert smoke.returncode == 0, smoke.stderr
        assert "smoke test passed" in smoke.stderr

        stopped = devbox("down", "--project-dir", str(project))
        assert stopped.returncode == 0, stopped.stderr
        assert podman("ps", "-aq", "--filter", f"label=dev.devbox.project={project.name}") == []
        assert podman("ps", "-aq", "--filter", "label=dev.devbox.smoke") == []
    finally:
        devbox("down", "--volumes", "--project-dir", str(project))  # uv's cache volume too
        subprocess.run(["podman", "rmi", "--force", image], capture_output=True, check=False)


def test_podman_runs_with_a_docker_config_folder_without_config_json(
    sample_copy: Path, podman_engine: None, compose_2_40: str
) -> None:
    """Podman 4.3's `run` refuses to start anything when $DOCKER_CONFIG has no config.json
    (a Compose-plugins-only folder, as here): doctor's probe container must still run."""
    assert not (Path(compose_2_40) / "config.json").exists()
    assert devbox("init", "--project-dir", str(sample_copy)).returncode == 0
    result = devbox("doctor", "--json", "--project-dir", str(sample_copy))
    checks = {check["name"]: check for check in json.loads(result.stdout)["checks"]}
    assert checks["project visible"]["verdict"] == "ok", checks["project visible"]
