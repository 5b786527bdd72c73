"""`devbox down`: end the project's session and remove what either mode left."""

from collections.abc import Callable
from pathlib import Path

from devbox.commands.target import name_clash
from devbox.engine.client import Engine
from devbox.errors import EngineError
from devbox.project.compose import load_compose
from devbox.project.locate import locate
from devbox.runtime import process, state

STOP_TIMEOUT = 30.0


def down(
    *, project_dir: Path, volumes: bool = False, warn: Callable[[str], None] | None = None
) -> list[str]:
    """Stop the session's devbox process (only if it provably is the recorded one), end the
    process groups it left, then remove the project's containers and networks (named
    volumes only with `volumes`). What was done, one line each."""
    project = load_compose(locate(project_dir))
    engine = Engine.for_project(project)
    engine_error: EngineError | None = None
    try:
        engine.server_version()  # bounded: an engine that never answers is an error, not a hang
        containers = engine.project_containers()
    except EngineError as exc:
        containers, engine_error = [], exc  # the session's process is still stopped first
    clash = name_clash(project, containers)  # before anything is stopped
    if clash is not None:
        raise clash
    done = []
    record = state.load(project.project_dir, warn=warn)
    if record is not None:
        # It removes its own containers as on Ctrl-C.
        if process.terminate(record.pid, record.pid_start, timeout=STOP_TIMEOUT):
            done.append(f"stopped devbox up (pid {record.pid})")
        groups = process.end_groups(record.live_children())
        if groups:
            done.append(f"ended {len(groups)} leftover process group(s)")
    if engine_error is not None:
        raise engine_error
    done += engine.remove_project(volumes=volumes)
    state.clear(project.project_dir)
    return done
