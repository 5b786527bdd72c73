"""Command-line interface: parses options, calls one core function per command, prints.

Core modules are imported inside the commands so that `devbox --help` stays fast.
"""

import logging
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from devbox.errors import DevboxError, ExitCode
from devbox.modes import Mode, SyncMode


class _Group(TyperGroup):
    """The one place where a DevboxError becomes a message and an exit code."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except DevboxError as exc:
            typer.secho(f"devbox: {exc.message}", err=True, fg=typer.colors.RED)
            raise typer.Exit(int(exc.code)) from None
        except KeyboardInterrupt:
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None


app = typer.Typer(
    cls=_Group,
    no_args_is_help=True,
    add_completion=False,
    help="A containerized development loop for uv-managed Python projects.",
)

ProjectDir = Annotated[
    Path,
    typer.Option(
        "--project-dir", "-C", help="Project folder (default: the current one, or a parent)."
    ),
]


def echo(message: str, *, error: bool = False) -> None:
    color = typer.colors.RED if error else typer.colors.CYAN
    typer.secho(f"devbox: {message}", err=True, fg=color)


@app.callback()
def _global(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log every command run.")
    ] = False,
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING, format="devbox: %(message)s"
    )


@app.command()
def init(
    project_dir: ProjectDir = Path(),
    force: Annotated[
        bool, typer.Option(help="Replace differing files, keeping each as <name>.bak.")
    ] = False,
    diff: Annotated[bool, typer.Option(help="Show how differing files differ.")] = False,
    check: Annotated[
        bool, typer.Option(help="Only report drift from best practice; write nothing.")
    ] = False,
    lock: Annotated[bool, typer.Option(help="Run `uv lock` when uv.lock is missing.")] = False,
    command: Annotated[str | None, typer.Option(help="What the app runs (prod).")] = None,
    python_image: Annotated[str | None, typer.Option(help="Base image.")] = None,
    uv_digest: Annotated[str | None, typer.Option(help="Pin uv's image: sha256:...")] = None,
    port: Annotated[int | None, typer.Option(help="The app's port.")] = None,
    service: Annotated[str | None, typer.Option(help="The Compose service name.")] = None,
) -> None:
    """Write a Dockerfile, .dockerignore and compose.yaml for the project."""
    if check:
        from devbox.check import check_project

        findings = check_project(project_dir=project_dir)
        for finding in findings:
            typer.echo(str(finding))
        if findings:
            raise typer.Exit(int(ExitCode.FAILURE))
        typer.echo("no drift from best practice")
        return

    from devbox.scaffold import Outcome, init_project

    options = {
        "command": command,
        "python-image": python_image,
        "uv-digest": uv_digest,
        "port": port,
        "service": service,
    }
    report = init_project(
        project_dir=project_dir,
        force=force,
        lock_missing=lock,
        overrides={key: value for key, value in options.items() if value is not None},
    )
    for result in report.files:
        typer.echo(f"{result.path.name}: {result.message}")
        if diff and result.diff:
            typer.echo(result.diff, nl=False)
    for note in report.notes:
        echo(note)
    if any(r.outcome is Outcome.DIFFERS for r in report.files):
        raise typer.Exit(int(ExitCode.FAILURE))


@app.command()
def up(
    project_dir: ProjectDir = Path(),
    mode: Annotated[
        Mode, typer.Option(help="watch: Compose watch; fallback: docker run + devbox's watcher.")
    ] = Mode.AUTO,
    service: Annotated[
        str | None, typer.Argument(help="Service to develop (default: the watched one).")
    ] = None,
    sync: Annotated[
        SyncMode, typer.Option(help="Fallback: bind-mount the sources, or copy each change in.")
    ] = SyncMode.BIND,
    quiet_ms: Annotated[
        int, typer.Option(help="Fallback: sync once no file changed for this long.")
    ] = 50,
    max_wait_ms: Annotated[
        int, typer.Option(help="Fallback: sync at least this often while files keep changing.")
    ] = 500,
) -> None:
    """Run the dev container and keep it in step with your edits, until Ctrl-C."""
    from devbox.batcher import Batcher
    from devbox.up import up as run_up

    try:
        batcher = Batcher(quiet=quiet_ms / 1000, max_wait=max_wait_ms / 1000)
    except ValueError:
        raise typer.BadParameter("--quiet-ms must be between 0 and --max-wait-ms") from None
    run_up(
        project_dir=project_dir, mode=mode, service=service, sync=sync, batcher=batcher, echo=echo
    )


def main() -> None:
    app(prog_name="devbox")
