"""A wheel built with `uv build` and installed in a clean venv finds its templates."""

import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

UV = Path(sys.executable).parent / "uv"


def run(*args: str | Path, cwd: Path | None = None) -> str:
    result = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, cwd=cwd, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_wheel_ships_templates(tmp_path: Path, sample_copy: Path) -> None:
    source = tmp_path / "src"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(".venv", ".git", "*_cache", "dist"))
    run(UV, "build", "--wheel", "--out-dir", tmp_path / "dist", cwd=source)
    wheel = next((tmp_path / "dist").glob("devbox-*.whl"))
    venv = tmp_path / "venv"
    run(UV, "venv", "--quiet", "--python", sys.executable, venv)
    run(UV, "pip", "install", "--quiet", "--python", venv / "bin" / "python", wheel)
    shutil.rmtree(source)  # the installed package must not reach back into a checkout

    assert run(venv / "bin" / "devbox", "init", "--project-dir", sample_copy) == (
        "Dockerfile: created\n.dockerignore: created\ncompose.yaml: created\n"
        "pyproject.toml: unchanged\n.devcontainer/devcontainer.json: created\n"
        ".devcontainer/compose.devcontainer.yaml: created\n.vscode/launch.json: created\n"
    )
    code = "from devbox.project.templates import templates_dir; print(templates_dir())"
    location = run(venv / "bin" / "python", "-c", code, cwd=tmp_path)
    assert Path(location.strip()).is_relative_to(venv)
