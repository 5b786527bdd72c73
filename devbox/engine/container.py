"""Dev containers (the fallback's, and one-off shells), derived from the compose service:
pure logic.

Older Compose rejects the `develop` key, so the fallback builds from a copy of the
compose file without it, and runs the container with `docker run` arguments taken
from the same service, so both modes behave alike.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from devbox import defaults
from devbox.engine import debug as debugging
from devbox.engine import labels
from devbox.engine.exec_line import exec_options as exec_options  # re-exported
from devbox.engine.owner import cache_volume_name
from devbox.engine.resolve import ResolvedService, old_compose_service, run_command, run_options
from devbox.project.compose import ComposeProject, Service


@dataclass(frozen=True, kw_only=True)
class ContainerSpec:
    name: str
    image: str
    project: str
    service: Service
    bind: Path | None  # host folder mounted at /app, or None with --sync copy
    # Compose's resolved model of the service, where a Compose exists to resolve it:
    # its ports, environment, volumes, entrypoint, ... replace the file's raw values.
    resolved: ResolvedService | None = None
    # Names in `bind` hidden in the container: files (a read-only /dev/null over them)
    # and folders (an empty read-only tmpfs); the host's stay as they are.
    masked_files: tuple[str, ...] = ()
    masked_folders: tuple[str, ...] = ()
    # `uid:gid` devbox runs the container as (the bind-mounted project's owner, see
    # `engine.owner`), or None: the service's or the image's user.
    user: str | None = None
    # The engine name of uv's cache volume devbox mounts at UV_CACHE_DIR, or None when
    # the service mounts one there itself (compose files devbox init writes do).
    cache_volume: str | None = None
    project_dir: Path | None = None  # labelled: another folder's project of one name
    # `devbox up --debug`: the command runs under debugpy, its port published on 127.0.0.1.
    debug: debugging.DebugSpec | None = None


def image_tag(project: ComposeProject, service: Service) -> str:
    return f"devbox-{project.name}-{service.name}:dev"


def container_name(project: ComposeProject, service: Service) -> str:
    return f"devbox-{project.name}-{service.name}"


def run_args(spec: ContainerSpec) -> list[str]:
    """`docker run` arguments (after `run`). The anonymous volume on `.venv` keeps the
    image's environment and shields the host's `.venv` from the container's; masks hide
    the bind mount's secrets (see `ContainerSpec`)."""
    svc = spec.service
    args = ["--rm", "--name", spec.name]
    args += ["--label", labels.label(labels.DEVBOX_PROJECT, spec.project)]
    args += ["--label", labels.label(labels.DEVBOX_SERVICE, svc.name), "--pull", "never"]
    if spec.project_dir is not None:
        args += ["--label", labels.label(labels.DEVBOX_PROJECT_DIR, str(spec.project_dir))]
    if spec.bind is not None:
        args += ["--volume", f"{spec.bind}:{defaults.APP_DIR}"]
        args += mask_args(spec.masked_files, spec.masked_folders)
    args += ["--volume", f"{defaults.APP_DIR}/.venv"]
    args += own_args(spec)
    if spec.resolved is not None:
        options, command = _resolved_args(spec.resolved)
        entrypoint = spec.resolved.entrypoint
    else:
        options = [arg for port in svc.ports for arg in ("--publish", port)]
        options += exec_options(env=svc.environment, workdir=svc.working_dir, user=svc.user)
        command, entrypoint = list(svc.command or ()), None
    if spec.debug is not None:
        whole = debugging.debugged_command(
            entrypoint, spec.resolved.command if spec.resolved else svc.command,
            spec.debug.default_command,
        )  # fmt: skip
        options = [*_without_entrypoint(options), "--publish", spec.debug.publish()]
        sh, *rest = debugging.entrypoint()
        return [*args, *options, "--entrypoint", sh, spec.image, *rest, *whole]
    return [*args, *options, spec.image, *command]


def _without_entrypoint(options: list[str]) -> list[str]:
    kept: list[str] = []
    skip = False
    for arg in options:
        if skip:
            skip = False
        elif arg == "--entrypoint":
            skip = True
        else:
            kept.append(arg)
    return kept


def own_args(spec: ContainerSpec) -> list[str]:
    """devbox's own additions: uv's cache volume (with UV_CACHE_DIR pointing at it, so any
    image uses it), and the mapped user with a HOME it can write (the service's
    environment, applied after these, wins)."""
    args: list[str] = []
    if spec.cache_volume is not None:
        args += ["--volume", f"{spec.cache_volume}:{defaults.UV_CACHE_DIR}"]
        args += ["--env", f"UV_CACHE_DIR={defaults.UV_CACHE_DIR}"]
    if spec.user is not None:
        args += ["--user", spec.user, "--env", f"HOME={defaults.MAPPED_HOME}"]
        args += ["--tmpfs", f"{defaults.MAPPED_HOME}:mode=1777"]  # Podman 4 has no uid=
        args += ["--label", labels.label(labels.DEVBOX_USER, spec.user)]
    return args


def _resolved_args(svc: ResolvedService) -> tuple[list[str], list[str]]:
    """The rest of `docker run` from Compose's resolved model, as Compose would apply it:
    the options before the image, and what follows it."""
    args = [arg for port in svc.ports for arg in ("--publish", port)]
    args += exec_options(env=svc.environment, workdir=svc.working_dir, user=svc.user)
    args += run_options(svc, alias=svc.name)
    return args, run_command(svc)


def compose_without_develop(
    data: dict[str, Any], *, images: dict[str, str], folder: Path | None = None
) -> str:
    """The (merged) compose model without `develop` keys and with the given image tags, for
    old Compose, which rejects `develop` (and optional `env_file` entries: see
    `strip_develop`; `folder` is where their paths start)."""
    services = {
        name: {
            **old_compose_service(service, folder),
            **({"image": images[name]} if name in images else {}),
        }
        for name, service in data.get("services", {}).items()
    }
    return yaml.safe_dump({**data, "services": services}, sort_keys=False)


def mask_args(files: Sequence[str], folders: Sequence[str]) -> list[str]:
    """Hide names of the bind-mounted project: a read-only /dev/null over each file, an
    empty read-only tmpfs over each folder. The host's files are not touched."""
    args = [
        arg for name in files for arg in ("--volume", f"/dev/null:{defaults.APP_DIR}/{name}:ro")
    ]
    return args + [arg for name in folders for arg in ("--tmpfs", f"{defaults.APP_DIR}/{name}:ro")]


def one_off_args(
    *,
    name: str,
    project: ComposeProject,
    service: Service,
    image: str,
    masked_files: Sequence[str] = (),
    masked_folders: Sequence[str] = (),
) -> list[str]:
    """`docker run` arguments (after `run`, before the command) of a one-off container from
    the dev image, mounted (and masked) as the fallback mounts its container."""
    app = defaults.APP_DIR
    return [
        "--rm", "--init", "--name", name,
        "--label", labels.label(labels.DEVBOX_PROJECT, project.name),
        "--label", labels.label(labels.DEVBOX_SERVICE, f"{service.name}-oneoff"),
        "--volume", f"{project.project_dir}:{app}",
        *mask_args(masked_files, masked_folders),
        "--volume", f"{app}/.venv",
        "--workdir", app,
    ]  # fmt: skip


def uv_one_off_args(
    *, name: str, project: ComposeProject, service: Service, image: str
) -> list[str]:
    """`docker run --detach` arguments of an idle container from the dev image, for uv to
    run in by exec (`devbox add` with nothing running): the project is copied in, not
    mounted (any engine), and uv's cache volume is mounted, so resolving is warm."""
    return [
        "--rm", "--init", "--name", name,
        "--label", labels.label(labels.DEVBOX_PROJECT, project.name),
        "--label", labels.label(labels.DEVBOX_SERVICE, f"{service.name}-uv"),
        "--volume", f"{cache_volume_name(project.name)}:{defaults.UV_CACHE_DIR}",
        "--env", f"UV_CACHE_DIR={defaults.UV_CACHE_DIR}",
        "--user", "0", "--workdir", defaults.APP_DIR,
        "--entrypoint", "sleep", image, "infinity",
    ]  # fmt: skip


def dev_image_candidates(project: ComposeProject, service: Service) -> list[str]:
    """The dev image's tag as the fallback builds it, then as Compose names it."""
    return [image_tag(project, service), f"{project.name}-{service.name}"]


def _literal(word: str) -> str:
    """A word Compose's interpolation leaves as it is."""
    return word.replace("$", "$$")


CACHE_KEY = "devbox-uv-cache"  # the override's key for uv's cache volume devbox adds


def compose_override(specs: Sequence[ContainerSpec]) -> str | None:
    """A compose file laid over the project's in compose mode: what `run_args` gives a
    fallback container (the project bind-mounted at /app with an anonymous volume on
    `.venv` and its secrets masked, the owner's uid, uv's cache), for Compose itself to
    apply. Compose merges `volumes` by target, so a mount of the user's own at /app is
    replaced, not doubled. None when there is nothing to add."""
    services: dict[str, Any] = {}
    volumes: dict[str, Any] = {}
    for spec in specs:
        svc = spec.service
        mounts: list[dict[str, Any]] = []
        environment: dict[str, str] = {}
        service: dict[str, Any] = {}
        if spec.bind is not None:
            app = defaults.APP_DIR
            mounts.append({"type": "bind", "source": str(spec.bind), "target": app})
            mounts += [
                {
                    "type": "bind",
                    "source": "/dev/null",
                    "target": f"{app}/{name}",
                    "read_only": True,
                }
                for name in spec.masked_files
            ]
            mounts += [
                {"type": "tmpfs", "target": f"{app}/{name}", "read_only": True}
                for name in spec.masked_folders
            ]
            mounts.append({"type": "volume", "target": f"{app}/.venv"})
        if spec.cache_volume is not None:
            mounts.append({"type": "volume", "source": CACHE_KEY, "target": defaults.UV_CACHE_DIR})
            volumes[CACHE_KEY] = {"name": spec.cache_volume, "external": True}
            environment["UV_CACHE_DIR"] = defaults.UV_CACHE_DIR
        if spec.user is not None:
            service["user"] = spec.user
            if not any(key == "HOME" for key, _ in svc.environment):
                environment["HOME"] = defaults.MAPPED_HOME
            service["tmpfs"] = [f"{defaults.MAPPED_HOME}:mode=1777"]
            service["labels"] = {labels.DEVBOX_USER: spec.user}
        if spec.debug is not None:
            resolved = spec.resolved
            whole = debugging.debugged_command(
                resolved.entrypoint if resolved else None,
                resolved.command if resolved else svc.command,
                spec.debug.default_command,
            )
            # `$$`: Compose would interpolate the script's (and a resolved command's) `$`.
            service["entrypoint"] = [_literal(w) for w in debugging.entrypoint()]
            service["command"] = [_literal(w) for w in whole]
            service["ports"] = [spec.debug.publish()]
        if mounts:
            service["volumes"] = mounts
        if environment:
            service["environment"] = environment
        if service:
            services[svc.name] = service
    if not services:
        return None
    data: dict[str, Any] = {"services": services}
    if volumes:
        data["volumes"] = volumes
    return yaml.safe_dump(data, sort_keys=False)
