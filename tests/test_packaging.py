"""A wheel built with `uv build`, installed with `uv tool install` in a clean place, runs:
`--version` says the one version, `init` finds its templates."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from devbox import __version__
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
    tools, bin_dir = tmp_path / "tools", tmp_path / "bin"
    env = {**os.environ, "UV_TOOL_DIR": str(tools), "UV_TOOL_BIN_DIR": str(bin_dir)}
    installed = subprocess.run(
        [str(UV), "tool", "install", "--quiet", "--python", sys.executable, str(wheel)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert installed.returncode == 0, installed.stderr
    shutil.rmtree(source)  # the installed package must not reach back into a checkout

    assert run(bin_dir / "devbox", "--version") == f"devbox {__version__}\n"
    assert wheel.name.startswith(f"devbox-{__version__}-")
    assert run(bin_dir / "devbox", "init", "--project-dir", sample_copy) == (
        "Dockerfile: created\n.dockerignore: created\ncompose.yaml: created\n"
        "pyproject.toml: unchanged\n.devcontainer/devcontainer.json: created\n"
        ".devcontainer/compose.devcontainer.yaml: created\n.vscode/launch.json: created\n"
    )
    python = next((tools / "devbox" / "bin").glob("python*"))
    code = "from devbox.project.templates import templates_dir; print(templates_dir())"
    location = run(python, "-c", code, cwd=tmp_path)
    assert Path(location.strip()).is_relative_to(tools)
