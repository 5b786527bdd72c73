"""`devbox shell` on a live session, as directly as `docker exec`: the container, its
working dir, the engine and the project's service names come from the session record
(`.devbox/state.json`), so no compose file is parsed and the engine is asked nothing.

Any doubt (no live record, files changed since `devbox up` recorded them, another
engine chosen, another service named) returns None: `devbox.commands.shell` then takes
its full path, which reads the files and asks the engine.
"""

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from devbox.defaults import APP_DIR
from devbox.engine.exec_line import exec_cmd, exec_options
from devbox.engine.modes import EngineName
from devbox.errors import DevboxError
from devbox.project.locate import locate
from devbox.runtime import process, state

if TYPE_CHECKING:  # types only: importing the compose reader is the cost this path avoids
    from devbox.project.compose import ComposeProject, Service

ENGINE_ENV = "DEVBOX_ENGINE"  # as devbox.engine.kind, which this path does not import
CLIENTS = tuple(name.value for name in EngineName)
DEFAULT_SHELL = [
    "sh",
    "-c",
    "if command -v bash >/dev/null 2>&1; then exec bash -i; else exec sh -i; fi",
]


def after_service(command: list[str] | None) -> list[str] | None:
    """The command of `devbox shell SERVICE -- CMD`: the CLI stops reading options at
    SERVICE, so the `--` between SERVICE and CMD reaches here and is dropped (one, as
    a shell's `--`; a later one is CMD's own)."""
    if command and command[0] == "--":
        return command[1:] or None
    return command


def facts_files(project_dir: Path, compose_files: tuple[Path, ...]) -> list[Path]:
    """What decides the recorded shell facts: the compose files (services, working_dir) and
    .env (Compose's interpolation). Not pyproject.toml: `uv add` edits it all day, and the
    session's engine is recorded (a later `[tool.devbox] engine` is for the next `up`)."""
    return [*compose_files, project_dir / ".env"]


def shell_facts(project: "ComposeProject", service: "Service", client: str) -> state.ShellFacts:
    """What `devbox up` records for this path, from the files it has just read."""
    return state.ShellFacts(
        client=client,
        workdir=service.working_dir or APP_DIR,
        project_services=sorted(project.services),
        files=state.fingerprint(facts_files(project.project_dir, project.files)),
    )


def recorded_exec(
    *,
    project_dir: Path,
    service: str | None,
    command: list[str] | None,
    user: str | None,
    env: list[str] | None,
) -> list[str] | None:
    """The exec command line into the live session's container, or None when only the
    full path can tell what to do."""
    try:
        paths = locate(project_dir)
    except DevboxError:
        return None  # the full path says what is wrong
    record = state.load(paths.dir)
    facts = record.shell if record is not None else None
    if record is None or facts is None or not record.container:
        return None
    if service is not None and service != record.service:
        if service in facts.project_services:
            return None  # another service: its container is looked up
        command = [service, *(command or [])]  # `devbox shell -- CMD`: CMD's first word
    else:
        command = after_service(command)
    chosen = os.environ.get(ENGINE_ENV)
    if facts.client not in CLIENTS or (chosen and chosen != facts.client):
        return None  # only a known client is run from a file in the project
    if state.fingerprint(facts_files(paths.dir, paths.compose_files)) != facts.files:
        return None
    if not record.alive():
        return None
    options = ["--interactive"]
    if sys.stdin.isatty() and sys.stdout.isatty():
        options.append("--tty")  # only for a terminal, so pipes and CI work
    # `-e` values go through as given: docker's `-e KEY` and `-e KEY=VALUE` semantics.
    options += [arg for value in env or [] for arg in ("--env", value)]
    options += exec_options(user=user, workdir=facts.workdir)
    return exec_cmd(facts.client, record.container, command or DEFAULT_SHELL, options)


def shell_direct(
    *,
    project_dir: Path,
    service: str | None = None,
    command: list[str] | None = None,
    user: str | None = None,
    env: list[str] | None = None,
) -> int | None:
    """Run the exec as one child on this terminal and return its exit code; None when
    the full path must serve."""
    argv = recorded_exec(
        project_dir=project_dir,
        service=service,
        command=command,
        user=user,
        env=env,
    )
    if argv is None:
        return None
    with state.shell_marker(project_dir):  # its writes come back (copy sync)
        return process.run(argv, check=False, capture=False).returncode
