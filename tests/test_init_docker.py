"""Files written by `devbox init` build with BuildKit and the production image serves."""

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.support import http_json, wait_for

pytestmark = pytest.mark.docker


def build(project: Path, target: str, tag: str) -> None:
    result = subprocess.run(
        ["docker", "build", "--target", target, "--tag", tag, str(project)],
        capture_output=True,
        text=True,
        env={**os.environ, "DOCKER_BUILDKIT": "1"},
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]


def test_init_then_build_and_serve(initialized_sample: tuple[Path, int]) -> None:
    project, _ = initialized_sample
    tag = f"devbox-test/{project.name}"
    build(project, "dev", f"{tag}:dev")
    build(project, "prod", f"{tag}:prod")
    port = free_port()
    name = f"{project.name}-prod"
    subprocess.run(
        [
            "docker",
            "run",
            "-d",
            "--rm",
            "--name",
            name,
            "-p",
            f"127.0.0.1:{port}:8000",
            f"{tag}:prod",
        ],
        check=True,
        capture_output=True,
    )
    try:
        assert wait_for(lambda: http_json(port, "/health"), timeout=30, what="/health") == {
            "status": "ok"
        }
        user = subprocess.run(
            ["docker", "exec", name, "id", "-u"], capture_output=True, text=True, check=True
        ).stdout.strip()
        assert user != "0"
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)
        subprocess.run(
            ["docker", "rmi", f"{tag}:dev", f"{tag}:prod"], capture_output=True, check=False
        )
