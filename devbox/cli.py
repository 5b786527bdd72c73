"""Command-line interface: parses options, calls one core function per command, prints.

The one place where a `DevboxError` becomes a message and an exit code, and where
Ctrl-C becomes 130. Core modules are imported inside the commands so that
`devbox --help` stays fast.
"""

import os
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from devbox import __version__
from devbox.engine.modes import EngineName, Mode
from devbox.errors import ConfigError, DevboxError, ExitCode
from devbox.sync.bind_or_copy import SyncMode

_quiet = False


def _warn(message: str) -> None:
    echo(f"warning: {message}", error=True)


def _color(color: str) -> str | None:
    """No colour when NO_COLOR is set (no-color.org)."""
    return None if os.environ.get("NO_COLOR") else color


def echo(message: str, *, error: bool = False) -> None:
    """A devbox message on stderr; -q keeps only errors."""
    if _quiet and not error:
        return
    color = typer.colors.RED if error else typer.colors.CYAN
    typer.secho(f"devbox: {message}", err=True, fg=_color(color))


class _Group(TyperGroup):
    """Maps every `DevboxError` and Ctrl-C to its message and exit code, once."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except DevboxError as exc:
            typer.secho(f"devbox: {exc.message}", err=True, fg=_color(typer.colors.RED))
            raise typer.Exit(int(exc.code)) from None
        except KeyboardInterrupt:
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None


app = typer.Typer(
    cls=_Group,
    no_args_is_help=True,
    add_completion=False,
    # Plain help and usage errors: rich (and markdown-it) cost ~0.2 s of start-up per call.
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="A containerized development loop for uv-managed Python projects.",
)

ProjectDir = Annotated[
    Path,
    typer.Option(
        "--project-dir",
        "-C",
        help="Project folder (default: the current one, or a parent).",
        exists=True,
        file_okay=False,
    ),
]


def _choose_engine(value: EngineName | None) -> EngineName | None:
    """`--engine` (global or per command) travels as $DEVBOX_ENGINE, which the core reads
    and a detached `devbox up` inherits."""
    if value is not None:
        os.environ["DEVBOX_ENGINE"] = value.value
    return value


EngineOpt = Annotated[
    EngineName | None,
    typer.Option(
        "--engine",
        help="docker or podman (default: tool.devbox engine, else the one installed).",
        callback=_choose_engine,
        show_default=False,
    ),
]
ServiceArg = Annotated[
    str | None, typer.Argument(help="Service (default: the watched one).", show_default=False)
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"devbox {__version__}")
        raise typer.Exit()


@app.callback()
def _global(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log every command run.")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print only errors and results.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
    engine: EngineOpt = None,
) -> None:
    import logging  # not at the top: `devbox --help` never needs it

    global _quiet
    _quiet = quiet and not verbose
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
    fix: Annotated[
        bool,
        typer.Option(
            help="Only fix, in place, what --check reports and devbox can fix: the developed "
            "service building `prod` instead of `dev`."
        ),
    ] = False,
    lock: Annotated[bool, typer.Option(help="Run `uv lock` when uv.lock is missing.")] = False,
    command: Annotated[str | None, typer.Option(help="What the app runs (prod).")] = None,
    python_image: Annotated[str | None, typer.Option(help="Base image.")] = None,
    uv_digest: Annotated[str | None, typer.Option(help="Pin uv's image: sha256:...")] = None,
    port: Annotated[
        int | None,
        typer.Option(help="The host port the app is published on, 127.0.0.1:PORT [default: 8000]."),
    ] = None,
    app_port: Annotated[
        int | None,
        typer.Option(
            help="The port the app listens on in the container (the commands init writes "
            "use it) [default: the one your --command names, else 8000]."
        ),
    ] = None,
    service: Annotated[str | None, typer.Option(help="The Compose service name.")] = None,
    devcontainer: Annotated[
        bool,
        typer.Option(
            help="Only the editor's files (.devcontainer/, .vscode/launch.json), "
            "for a project that has its compose files."
        ),
    ] = False,
) -> None:
    """Write a Dockerfile, .dockerignore and compose.yaml for the project, and the
    editor's .devcontainer/ and .vscode/launch.json."""
    if fix and (check or force or devcontainer):
        from devbox.errors import UsageError

        other = "--check" if check else "--force" if force else "--devcontainer"
        raise UsageError(f"--fix and {other} do not go together; run them one at a time")
    if fix:
        from devbox.commands.init import fix_project

        changes = fix_project(project_dir=project_dir)
        for change in changes:
            typer.echo(change)
        if not changes:
            typer.echo(
                "nothing to fix: the developed service does not build `prod` in place of `dev`"
            )
        return
    if check:
        from devbox.commands.init import check_project

        findings = check_project(project_dir=project_dir)
        for finding in findings:
            typer.echo(str(finding))
        if findings:
            raise DevboxError(f"{len(findings)} finding(s) above; fix them or run `devbox init`")
        typer.echo("no drift from best practice")
        return

    from devbox.commands.init import init_devcontainer, init_project
    from devbox.project.scaffold import FileOutcome

    options = {
        "command": command,
        "python-image": python_image,
        "uv-digest": uv_digest,
        "port": port,
        "app-port": app_port,
        "service": service,
    }
    if devcontainer:
        report = init_devcontainer(project_dir=project_dir)
    else:
        report = init_project(
            project_dir=project_dir,
            force=force,
            lock_missing=lock,
            overrides={key: value for key, value in options.items() if value is not None},
        )
    for result in report.files:
        typer.echo(f"{_shown(result.path)}: {result.message}")
        if diff and result.diff:
            typer.echo(result.diff, nl=False)
    for note in report.notes:
        echo(note)
    if report.problems:
        raise ConfigError("; ".join(report.problems))
    differing = [r.path.name for r in report.files if r.outcome is FileOutcome.DIFFERS]
    if differing:
        raise DevboxError(
            f"{', '.join(differing)}: kept yours; --diff shows how they differ, "
            "--force replaces them"
        )


def _shown(path: Path) -> str:
    """A file init wrote, by name (the editor's with their folder)."""
    if path.parent.name in (".devcontainer", ".vscode"):
        return f"{path.parent.name}/{path.name}"
    return path.name


@app.command()
def up(
    project_dir: ProjectDir = Path(),
    mode: Annotated[
        Mode,
        typer.Option(
            help="compose (the default with Compose >= 2.22): Compose runs the project, "
            "devbox syncs; watch: `docker compose watch`; fallback: docker run + devbox's "
            "watcher (older Compose, none, Podman)."
        ),
    ] = Mode.AUTO,
    service: Annotated[
        str | None, typer.Argument(help="Service to develop (default: the watched one).")
    ] = None,
    sync: Annotated[
        SyncMode,
        typer.Option(
            help="Not in watch mode: bind-mount the sources, or copy each change in "
            "(auto: bind when the engine sees the project folder, else copy)."
        ),
    ] = SyncMode.AUTO,
    quiet_ms: Annotated[
        int | None,
        typer.Option(
            help="Not in watch mode: sync once no file changed for this long "
            "[default: 50, 5 with --sync copy]."
        ),
    ] = None,
    detach: Annotated[
        bool, typer.Option("--detach", "-d", help="Run in the background; `devbox down` stops it.")
    ] = False,
    max_wait_ms: Annotated[
        int,
        typer.Option(help="Not in watch mode: sync at least this often while files keep changing."),
    ] = 200,
    engine: EngineOpt = None,
    restart_on_exit: Annotated[
        bool,
        typer.Option(help="Fallback: start the container again at once when it exits."),
    ] = False,
    debug: Annotated[
        bool,
        typer.Option(
            help="Run the service's command under debugpy, listening on 127.0.0.1:5678 "
            "(or the next free port); not with --mode watch."
        ),
    ] = False,
    debug_port: Annotated[
        int,
        typer.Option(min=1, max=65535, help="With --debug: the host port (or the next free one)."),
    ] = 5678,
) -> None:
    """Run the dev container and keep it in step with your edits, until Ctrl-C."""
    from devbox.commands.up import UpOptions
    from devbox.commands.up import up as run_up

    options = UpOptions(
        mode=mode,
        service=service,
        sync=sync,
        quiet_ms=quiet_ms,
        max_wait_ms=max_wait_ms,
        restart_on_exit=restart_on_exit,
        debug=debug,
        debug_port=debug_port,
    )
    run_up(project_dir=project_dir, options=options, detach=detach, echo=echo)


@app.command(context_settings={"allow_interspersed_args": False})
def shell(
    service: ServiceArg = None,
    command: Annotated[
        list[str] | None, typer.Argument(help="Command to run after `--` (default: a shell).")
    ] = None,
    project_dir: ProjectDir = Path(),
    user: Annotated[str | None, typer.Option("--user", "-u", help="As `docker exec -u`.")] = None,
    env: Annotated[
        list[str] | None, typer.Option("--env", "-e", help="KEY=VALUE, as `docker exec -e`.")
    ] = None,
    start: Annotated[
        bool, typer.Option(help="Nothing running? Use a one-off container from the dev image.")
    ] = False,
    engine: EngineOpt = None,
) -> None:
    """Open a shell in the dev container, or run `devbox shell [SERVICE] -- CMD ...`."""
    from devbox.commands.shell_direct import shell_direct

    # A live session's recorded container first: as fast as `docker exec` itself.
    code = shell_direct(
        project_dir=project_dir, service=service, command=command, user=user, env=env
    )
    if code is None:
        from devbox.commands.shell import shell as run_shell

        code = run_shell(
            project_dir=project_dir,
            service=service,
            command=command,
            user=user,
            env=env,
            start=start,
            warn=_warn,
        )
    raise typer.Exit(code)


@app.command()
def status(
    service: ServiceArg = None,
    project_dir: ProjectDir = Path(),
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON report.")] = False,
    engine: EngineOpt = None,
) -> None:
    """Mode, versions, containers, watch rules and the last sync of the project's session."""
    import json

    from devbox.commands.status import describe
    from devbox.commands.status import status as get_status

    report = get_status(project_dir=project_dir, service=service, warn=_warn)
    text = json.dumps(report.to_dict(), indent=2) if as_json else "\n".join(describe(report))
    typer.echo(text)


@app.command()
def logs(
    service: ServiceArg = None,
    project_dir: ProjectDir = Path(),
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new lines.")
    ] = False,
    tail: Annotated[str, typer.Option(help="Lines to show from the end, or `all`.")] = "all",
    engine: EngineOpt = None,
) -> None:
    """The dev container's output."""
    from devbox.commands.logs import logs as run_logs

    raise typer.Exit(run_logs(project_dir=project_dir, service=service, follow=follow, tail=tail))


Packages = Annotated[list[str], typer.Argument(help="Packages, as uv takes them (`httpx>=0.27`).")]
Dev = Annotated[bool, typer.Option("--dev", help="The dev dependency group.")]
Group = Annotated[str | None, typer.Option("--group", help="This dependency group.")]


def _deps_done(report: Any) -> None:
    changed = ", ".join(report.changed) or "nothing changed"
    where = "on the host" if report.where == "host" else f"in {report.where}"
    then = "the next `devbox up` installs it" if report.one_off else "a running loop installs it"
    echo(f"uv ran {where}: {changed}; {then} in the container")


@app.command()
def add(
    packages: Packages, dev: Dev = False, group: Group = None, project_dir: ProjectDir = Path()
) -> None:
    """Add packages with uv (on the host, else in the dev container); the running loop
    installs them in the container without a rebuild."""
    from devbox.commands.deps import add as run_add

    _deps_done(run_add(project_dir=project_dir, packages=packages, dev=dev, group=group))


@app.command()
def remove(
    packages: Packages, dev: Dev = False, group: Group = None, project_dir: ProjectDir = Path()
) -> None:
    """Remove packages with uv; the running loop uninstalls them in the container."""
    from devbox.commands.deps import remove as run_remove

    _deps_done(run_remove(project_dir=project_dir, packages=packages, dev=dev, group=group))


@app.command(name="lock")
def lock_command(project_dir: ProjectDir = Path()) -> None:
    """`uv lock` for the project (on the host, else in the dev container)."""
    from devbox.commands.deps import lock

    _deps_done(lock(project_dir=project_dir))


@app.command()
def down(
    project_dir: ProjectDir = Path(),
    volumes: Annotated[bool, typer.Option(help="Also remove the project's named volumes.")] = False,
    engine: EngineOpt = None,
) -> None:
    """Stop the session (and its background watcher); remove its containers and networks."""
    from devbox.commands.down import down as run_down

    done = run_down(project_dir=project_dir, volumes=volumes, warn=_warn)
    echo(f"removed: {', '.join(done)}" if done else "nothing was running")


@app.command()
def doctor(
    project_dir: ProjectDir = Path(),
    service: ServiceArg = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON report.")] = False,
) -> None:
    """Check the engine, Compose, BuildKit, inotify, disk and the project's files."""
    import json

    from devbox.commands.doctor import doctor as run_doctor

    report = run_doctor(project_dir=project_dir, service=service)
    text = json.dumps(report.to_dict(), indent=2) if as_json else "\n".join(report.lines())
    typer.echo(text)
    error = report.error()
    if error is not None:
        raise error


@app.command()
def smoke(
    project_dir: ProjectDir = Path(),
    health_path: Annotated[
        str | None, typer.Option(help="Path that must answer 2xx (default: [tool.devbox]).")
    ] = None,
    command: Annotated[
        str | None,
        typer.Option(help="Check by running this in the container instead; it must exit 0."),
    ] = None,
    timeout: Annotated[
        float, typer.Option(min=1, max=3600, help="Seconds the container has to become healthy.")
    ] = 30.0,
    rm_image: Annotated[bool, typer.Option("--rm-image", help="Remove the image after.")] = False,
    junit: Annotated[Path | None, typer.Option(help="Write a JUnit XML report here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON report on stdout.")] = False,
    engine: EngineOpt = None,
) -> None:
    """Build the prod image, start it and check that it answers: a smoke test for CI."""
    from devbox.commands.smoke import smoke as run_smoke
    from devbox.commands.smoke_report import summary, to_json, warnings

    report = run_smoke(
        project_dir=project_dir,
        health_path=health_path,
        command=command,
        timeout=timeout,
        rm_image=rm_image,
        junit=junit,
        echo=echo,
    )
    for line in summary(report):
        echo(line)
    for line in warnings(report):
        echo(line, error=True)
    if as_json:
        typer.echo(to_json(report))
    error = report.error()
    if error is not None:
        raise error


def main() -> None:
    app(prog_name="devbox")
