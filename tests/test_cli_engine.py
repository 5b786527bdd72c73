"""`--engine`: global or per command, carried to the core (and a detached up) as DEVBOX_ENGINE."""

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from devbox.cli import app

runner = CliRunner()


@pytest.mark.parametrize("where", ["global", "command"])
def test_engine_option_selects_podman(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEVBOX_ENGINE", "docker")  # restored after the test
    args = ["down", "--project-dir", str(tmp_path)]
    args = ["--engine", "podman", *args] if where == "global" else [*args, "--engine", "podman"]
    result = runner.invoke(app, args)  # no compose file: fails after the option is read
    assert result.exit_code == 3, result.output
    assert os.environ["DEVBOX_ENGINE"] == "podman"


def test_an_unknown_engine_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--engine", "lxc", "status", "--project-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "'lxc' is not one of 'docker', 'podman'" in result.output
