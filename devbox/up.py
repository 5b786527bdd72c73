"""`devbox up`: the daily command. Picks a mode, runs the dev loop, cleans up on exit."""

from pathlib import Path

from devbox import compose_file, proc
from devbox.batcher import Batcher
from devbox.engine import Engine, compose_v1_version
from devbox.errors import DevboxError, ExitCode
from devbox.modes import Mode, SyncMode, choose_mode
from devbox.output import Echo
from devbox.signals import shielded, sigterm_as_interrupt


def up(
    *,
    project_dir: Path,
    mode: Mode = Mode.AUTO,
    service: str | None = None,
    sync: SyncMode = SyncMode.BIND,
    batcher: Batcher | None = None,
    echo: Echo,
) -> None:
    """Run the dev loop for the project in `project_dir` until Ctrl-C or SIGTERM.

    `sync` and `batcher` (quiet period, maximum wait) apply to the fallback mode.
    """
    project = compose_file.load_compose(compose_file.find_compose_file(project_dir))
    compose_file.watched_service(project, service)  # fail early on a project with nothing to watch
    engine = Engine(
        project_dir=project.project_dir, compose_file=project.file, project_name=project.name
    )
    engine.server_version()
    compose = engine.compose_version()
    chosen, reason = choose_mode(mode, compose, None if compose else compose_v1_version())
    echo(reason)
    if chosen is Mode.WATCH:
        run_compose_watch(engine, echo=echo)
    else:
        from devbox.fallback import run_fallback

        run_fallback(
            engine=engine, project=project, service=service, sync=sync, batcher=batcher, echo=echo
        )


def run_compose_watch(engine: Engine, *, echo: Echo) -> None:
    """`docker compose watch` with its output streamed; on exit, remove what it started."""
    child = proc.start(engine.compose_cmd("watch"))
    try:
        with sigterm_as_interrupt():
            code = child.wait()
        if code != 0:
            raise DevboxError(
                f"docker compose watch exited with code {code} (see its output above)"
            )
    except KeyboardInterrupt:
        echo("stopping: removing the project's containers, networks and anonymous volumes")
        raise DevboxError("interrupted", ExitCode.INTERRUPTED) from None
    finally:
        with shielded():
            proc.stop(child)
            engine.compose_teardown()
