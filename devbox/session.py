"""Finding a project's dev session and its containers, the same way in both modes.

Watch mode's containers carry Compose's labels, the fallback's carry devbox's;
both are looked up through the engine, so a session started elsewhere (or one
whose watcher died) is still found.
"""

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from devbox import proc, state
from devbox.compose_file import (
    ComposeProject,
    Service,
    env_pairs,
    find_compose_file,
    load_compose,
)
from devbox.compose_file import watched_service as pick_service
from devbox.container import LABEL_PROJECT, LABEL_SERVICE, exec_options, image_tag
from devbox.defaults import APP_DIR
from devbox.engine import PROJECT_LABEL, ContainerInfo, Engine
from devbox.errors import DevboxError, ExitCode
from devbox.signals import shielded


@dataclass
class Session:
    project: ComposeProject
    service: Service
    engine: Engine
    record: state.State | None

    @property
    def stale(self) -> bool:
        """A recorded session whose devbox process is gone."""
        return self.record is not None and not self.record.alive()

    def containers(self) -> list[ContainerInfo]:
        """The project's containers from either mode (one-off `compose run` ones excluded)."""
        name = self.project.name
        composed = self.engine.containers(
            f"{PROJECT_LABEL}={name}", "com.docker.compose.oneoff=False"
        )
        return composed + self.engine.containers(f"{LABEL_PROJECT}={name}")

    def running_container_name(self) -> str | None:
        """The live session's recorded container (no engine round trip), else a lookup."""
        record = self.record
        if (
            record is not None
            and record.container
            and record.service == self.service.name
            and record.alive()
        ):
            return record.container
        info = self.running_container()
        return info.name if info else None

    def running_container(self) -> ContainerInfo | None:
        for info in self.containers():
            if info.running and info.service == self.service.name:
                return info
        return None


def find_session(
    *, project_dir: Path, service: str | None = None, project: ComposeProject | None = None
) -> Session:
    project = project or load_compose(find_compose_file(project_dir))
    record = state.load(project.project_dir)
    if service is None and record is not None:
        service = record.service
    engine = Engine.for_project(project)
    return Session(
        project=project, service=pick_service(project, service), engine=engine, record=record
    )


def _not_running(session: Session) -> DevboxError:
    stale = " (its devbox up process died; `devbox down` cleans up)" if session.stale else ""
    return DevboxError(
        f"no dev container is running for {session.project.project_dir}{stale}; start it with "
        "`devbox up --detach`, or use `devbox shell --start` for a one-off container",
        ExitCode.NOT_RUNNING,
    )


DEFAULT_SHELL = [
    "sh",
    "-c",
    "if command -v bash >/dev/null 2>&1; then exec bash -i; else exec sh -i; fi",
]


def shell(
    *,
    project_dir: Path,
    service: str | None = None,
    command: list[str] | None = None,
    user: str | None = None,
    env: list[str] | None = None,
    start: bool = False,
) -> int:
    """Run `command` (default: an interactive shell) in the dev container; its exit code.

    `devbox shell -- CMD` reaches here with CMD's first word as `service`: a word that
    names no service is the command's first word.
    """
    project = load_compose(find_compose_file(project_dir))
    if service is not None and service not in project.services:
        command = [service, *(command or [])]
        service = None
    session = find_session(project_dir=project_dir, service=service, project=project)
    options = ["--interactive"]
    if sys.stdin.isatty() and sys.stdout.isatty():
        options.append("--tty")  # only for a terminal, so pipes and CI work
    options += exec_options(env=env_pairs(env), user=user)
    argv = command or DEFAULT_SHELL
    container = session.running_container_name()
    docker = session.engine.docker_cmd
    if container is not None:
        workdir = exec_options(workdir=session.service.working_dir or APP_DIR)
        return proc.run(
            docker("exec", *options, *workdir, container, *argv), capture=False
        ).returncode
    if not start:
        raise _not_running(session)
    name = f"devbox-{session.project.name}-{session.service.name}-oneoff-{os.getpid()}"
    run = docker("run", "--rm", "--init", "--name", name, *options, *_one_off(session), *argv)
    try:
        return proc.run(run, capture=False).returncode
    finally:
        with shielded():  # Ctrl-C without a TTY ends the client, not the container
            session.engine.remove_containers(name)


def _one_off(session: Session) -> list[str]:
    """`docker run` options for a one-off container from the dev image, mounted as in fallback."""
    candidates = [
        image_tag(session.project, session.service),
        f"{session.project.name}-{session.service.name}",
    ]
    for image in candidates:
        if proc.run(session.engine.docker_cmd("image", "inspect", image)).returncode == 0:
            break
    else:
        raise DevboxError(
            f"no dev image for {session.project.project_dir} yet; run `devbox up` once to build it",
            ExitCode.NOT_RUNNING,
        )
    project_dir = session.project.project_dir
    return [
        "--label", f"{LABEL_PROJECT}={session.project.name}",
        "--label", f"{LABEL_SERVICE}={session.service.name}-oneoff",
        "--volume", f"{project_dir}:{APP_DIR}", "--volume", f"{APP_DIR}/.venv",
        "--workdir", APP_DIR, image,
    ]  # fmt: skip


def logs(
    *, project_dir: Path, service: str | None = None, follow: bool = False, tail: str = "all"
) -> int:
    session = find_session(project_dir=project_dir, service=service)
    containers = [c for c in session.containers() if c.service == session.service.name]
    if not containers:
        raise _not_running(session)
    newest = max(containers, key=lambda c: c.started_at.timestamp() if c.started_at else 0.0)
    argv = ["logs", "--tail", tail, *(["--follow"] if follow else []), newest.name]
    return proc.run(session.engine.docker_cmd(*argv), capture=False).returncode
