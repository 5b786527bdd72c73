"""`devbox doctor` against the real engine: all clear on an initialized project; an
unreachable engine is a failing line with its fix and a non-zero exit."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from devbox.commands.init import init_project

pytestmark = pytest.mark.docker

ENGINE_LINES = ("engine", "compose", "compose v1", "buildkit", "disk")


def run_doctor(project: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "devbox", "doctor", "--project-dir", str(project)],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=False,
        timeout=180,
    )


def test_doctor_on_an_initialized_project(sample_copy: Path, compose_2_40: str) -> None:
    init_project(project_dir=sample_copy)
    result = run_doctor(sample_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = {line.split(":")[0][6:]: line for line in result.stdout.splitlines()}
    for name in ENGINE_LINES:
        assert lines[name].startswith("ok    "), result.stdout
    assert (
        lines["compose"]
        == "ok    compose: 2.40.3: compose mode (`--mode watch` runs Compose watch)"
    )
    for name in (".dockerignore", "sync rules", "uv pin", "python wheels"):
        assert lines[name].startswith("ok    "), result.stdout
    # the base image is local: the probe container sees the project
    assert lines["project visible"].startswith("ok    project visible: "), result.stdout


def test_doctor_without_an_engine(sample_copy: Path, tmp_path: Path) -> None:
    init_project(project_dir=sample_copy)
    result = run_doctor(sample_copy, DOCKER_HOST=f"unix://{tmp_path / 'no-such.sock'}")
    assert result.returncode == 1, result.stdout + result.stderr
    engine = result.stdout.splitlines()[0]
    assert engine.startswith("fail  engine: cannot reach the Docker engine: "), engine
    assert engine.endswith("; fix: start Docker (or set DOCKER_HOST / DOCKER_CONTEXT)")
    assert result.stderr == "devbox: 1 check(s) failed; see the fixes above\n"
