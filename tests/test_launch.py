"""The entry point reads `devbox shell ...` exactly as the CLI does, or leaves it to the CLI."""

from pathlib import Path

import pytest
import typer

from devbox.cli import app
from devbox.launch import ShellArgs, parse_shell

SHELL = typer.main.get_command(app).commands["shell"]  # type: ignore[attr-defined]


def cli_reads(args: list[str]) -> ShellArgs:
    params = SHELL.make_context("shell", list(args)).params
    return ShellArgs(
        project_dir=Path(params["project_dir"]),  # typer converts after parsing
        service=params["service"],
        command=list(params["command"]) or None if params["command"] else None,
        user=params["user"],
        env=list(params["env"] or []),
    )


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--", "true"],
        ["true"],
        ["app"],
        ["app", "--", "ls"],
        ["app", "ls", "-la", "--user", "x"],
        ["-u", "0", "--", "id", "-u"],
        ["--user", "0", "-e", "A=1", "--env", "B", "x"],
        ["-C", ".", "--start", "--", "python", "-c", "print(1)"],
        ["--project-dir", ".", "--no-start"],
        ["--", "--", "x"],
        ["--", "-x"],
    ],
)
def test_the_entry_point_reads_shell_as_the_cli_does(args: list[str]) -> None:
    assert parse_shell(["shell", *args]) == cli_reads(args)


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["-v", "shell"],
        ["status"],
        ["shell", "--help"],
        ["shell", "-h"],
        ["shell", "--engine", "docker"],
        ["shell", "--user=0"],
        ["shell", "-Cfoo"],
        ["shell", "-u"],
        ["shell", "-u", "-e", "x"],
        ["shell", "-C", "no/such/folder", "x"],
        ["shell", "--", ""],
    ],
)
def test_anything_else_is_left_to_the_cli(argv: list[str]) -> None:
    assert parse_shell(argv) is None


def test_a_project_folder_is_kept_as_given(tmp_path: Path) -> None:
    parsed = parse_shell(["shell", "-C", str(tmp_path)])
    assert parsed is not None and parsed.project_dir == tmp_path
