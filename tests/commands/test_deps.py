"""`devbox add` / `remove` / `lock` without a container (no engine needed for these paths)."""

import shutil
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from devbox.cli import app
from devbox.commands.init import init_project
from devbox.errors import ExitCode

runner = CliRunner()


def test_failing_uv_is_one_line_and_changes_nothing(sample_copy: Path, tmp_path: Path) -> None:
    init_project(project_dir=sample_copy)
    fake = tmp_path / "bin" / "uv"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'error: no such package: nopkg' >&2\nexit 1\n")
    fake.chmod(0o755)
    before = (sample_copy / "uv.lock").read_text()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PATH", f"{fake.parent}:/usr/bin:/bin")
        result = runner.invoke(app, ["add", "nopkg", "-C", str(sample_copy)])
    assert result.exit_code == ExitCode.FAILURE
    assert result.output == "devbox: uv add failed: error: no such package: nopkg\n"
    assert (sample_copy / "uv.lock").read_text() == before


def test_host_uv_runs_in_the_project_without_syncing(sample_copy: Path, tmp_path: Path) -> None:
    init_project(project_dir=sample_copy)
    fake = tmp_path / "bin" / "uv"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\necho "$@" > args.txt\necho "# changed" >> uv.lock\n')
    fake.chmod(0o755)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PATH", f"{fake.parent}:/usr/bin:/bin")
        result = runner.invoke(app, ["add", "--dev", "six", "-C", str(sample_copy)])
    assert result.exit_code == 0, result.output
    assert (sample_copy / "args.txt").read_text() == "add --no-sync --dev six\n"
    assert result.output == (
        "devbox: uv ran on the host: uv.lock; a running loop installs it in the container\n"
    )


@pytest.mark.skipif(shutil.which("uv") is None, reason="no uv on PATH")
def test_a_package_not_in_the_registry_says_uvs_reason_not_its_hint(sample_copy: Path) -> None:
    """Real uv: a name the index does not have is uv's `Because ... was not found` line,
    never the `hint:` uv prints after it (issue #23)."""
    init_project(project_dir=sample_copy)
    before = (sample_copy / "pyproject.toml").read_bytes(), (sample_copy / "uv.lock").read_bytes()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("UV_PYTHON", sys.executable)
        result = runner.invoke(app, ["add", "no-such-pkg-xyz-devbox", "-C", str(sample_copy)])
    if any(word in result.output for word in ("lookup address", "Connect", "dns", "timed out")):
        pytest.skip(f"the package index is not reachable: {result.output}")
    assert result.exit_code == ExitCode.FAILURE
    assert result.output.startswith("devbox: uv add failed: error: Failed to add dependencies: ")
    assert "Because no-such-pkg-xyz-devbox was not found in the package registry" in result.output
    assert "hint" not in result.output and "--frozen" not in result.output
    assert result.output.count("\n") == 1
    after = (sample_copy / "pyproject.toml").read_bytes(), (sample_copy / "uv.lock").read_bytes()
    assert after == before
