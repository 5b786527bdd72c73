"""The CLI: exit codes and exact messages, through typer's CliRunner."""

from pathlib import Path

from typer.testing import CliRunner

from devbox.cli import app
from devbox.errors import ExitCode

runner = CliRunner()


def test_help_lists_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "init" in result.stdout
    assert "up" in result.stdout


def test_init_reports_each_file(sample_copy: Path) -> None:
    result = runner.invoke(app, ["init", "--project-dir", str(sample_copy)])
    assert result.exit_code == 0, result.output
    assert result.stdout == "Dockerfile: created\n.dockerignore: created\ncompose.yaml: created\n"


def test_init_keeps_a_differing_file_and_fails(sample_copy: Path) -> None:
    (sample_copy / "Dockerfile").write_text("FROM mine\n")
    result = runner.invoke(app, ["init", "--project-dir", str(sample_copy)])
    assert result.exit_code == ExitCode.FAILURE
    assert (
        "Dockerfile: differs (kept yours; --force replaces it and keeps a .bak)\n" in result.stdout
    )
    assert (sample_copy / "Dockerfile").read_text() == "FROM mine\n"


def test_init_outside_a_project(tmp_path: Path) -> None:
    result = runner.invoke(app, ["init", "--project-dir", str(tmp_path)])
    assert result.exit_code == ExitCode.CONFIG
    assert result.stderr == (
        f"devbox: {tmp_path / 'pyproject.toml'}: not found; devbox works on uv projects (run `uv init` first)\n"
    )


def test_up_without_compose_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["up", "--project-dir", str(tmp_path)])
    assert result.exit_code == ExitCode.CONFIG
    assert result.stderr == (
        f"devbox: {tmp_path}: no compose.yaml here or in a parent folder; run `devbox init` first\n"
    )


def test_up_with_broken_yaml(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  app: [\n")
    result = runner.invoke(app, ["up", "--project-dir", str(tmp_path)])
    assert result.exit_code == ExitCode.CONFIG
    assert result.stderr.startswith(f"devbox: {tmp_path / 'compose.yaml'}:3:1: ")
    assert result.stderr.endswith("; fix the YAML syntax\n")
