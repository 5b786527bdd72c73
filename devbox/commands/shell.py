"""`devbox shell`: a shell, or one command, in the dev container."""

import os
import sys
from collections.abc import Callable
from pathlib import Path

from devbox.commands.shell_direct import DEFAULT_SHELL, after_service
from devbox.commands.target import find_target
from devbox.defaults import APP_DIR
from devbox.engine.container import dev_image_candidates, exec_options, one_off_args
from devbox.errors import ConfigError, NotRunning, UsageError
from devbox.project.compose import env_pairs, load_compose
from devbox.project.locate import locate
from devbox.runtime import state
from devbox.runtime.signals import interruptible
from devbox.sync.masks import secret_masks
from devbox.sync.rules import RuleSet, load_rules


def shell(
    *,
    project_dir: Path,
    service: str | None = None,
    command: list[str] | None = None,
    user: str | None = None,
    env: list[str] | None = None,
    start: bool = False,
    warn: Callable[[str], None] | None = None,
) -> int:
    """Run `command` (default: an interactive shell) in the dev container; its exit code.

    `devbox shell -- CMD` reaches here with CMD's first word as `service`: a word that
    names no service is the command's first word. With `start` and nothing running, a
    one-off container from the dev image serves instead, removed afterwards.
    """
    project = load_compose(locate(project_dir))
    if service is not None and service not in project.services:
        command = [service, *(command or [])]
        service = None
    elif service is not None:
        command = after_service(command)
    target = find_target(project_dir=project_dir, service=service, project=project, warn=warn)
    engine = target.engine
    options = ["--interactive"]
    if sys.stdin.isatty() and sys.stdout.isatty():
        options.append("--tty")  # only for a terminal, so pipes and CI work
    options += exec_options(env=env_pairs(env), user=user)
    argv = command or DEFAULT_SHELL
    container = target.running_container_name()
    if container is not None:
        options += exec_options(workdir=target.service.working_dir or APP_DIR)
        with state.shell_marker(project.project_dir):  # its writes come back (copy sync)
            return engine.exec(container, argv, options=options).returncode
    if not start:
        raise target.not_running()
    if engine.info(ask=False).sees_project is False:
        raise UsageError(
            f"shell --start bind-mounts {project.project_dir}, which this engine cannot see "
            "(a remote engine); run `devbox up --detach`, then `devbox shell`"
        )
    image = next(
        (i for i in dev_image_candidates(project, target.service) if engine.image_exists(i)), None
    )
    if image is None:
        raise NotRunning(
            f"no dev image for {project.project_dir} yet; run `devbox up` once to build it"
        )
    name = f"devbox-{project.name}-{target.service.name}-oneoff-{os.getpid()}"
    try:
        rules = load_rules(project, target.service)
    except ConfigError:  # rules devbox cannot read sync nothing: hide every secret
        rules = RuleSet((), context_dir=None, dockerignore=())
    masks = secret_masks(rules, project.project_dir)
    run = one_off_args(
        name=name,
        project=project,
        service=target.service,
        image=image,
        masked_files=masks.files,
        masked_folders=masks.folders,
    )
    # Ctrl-C without a TTY ends the client, not the container: remove it whatever happens.
    with interruptible(cleanup=lambda: engine.remove_containers(name)):
        return engine.run(run + options + [image, *argv]).returncode
