"""`devbox add`, `devbox remove`, `devbox lock`: change the project's dependencies with uv,
on the host when uv is on PATH, else in the running dev container, else (nothing runs)
in a one-off container from the dev image.

Either way the new pyproject.toml and uv.lock end up on the host (where the watcher,
devbox's or Compose's, takes them into the container and runs `uv sync` there). In a
container uv runs on a scratch copy of the project (`engine.scratch`), never on /app: its
files are read back and written to the host atomically, both or neither, and never over
a host edit made meanwhile (which is kept, and said); the container's /app keeps the
host's files. Ctrl-C stops the uv it started in the container.
"""

import os
import shlex
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from devbox import defaults, uv
from devbox.commands.target import Target, find_target
from devbox.engine import labels, scratch
from devbox.engine.client import Engine
from devbox.engine.container import dev_image_candidates, exec_options, uv_one_off_args
from devbox.engine.owner import cache_volume_name
from devbox.errors import ConfigError, DevboxError, EngineError, NotRunning
from devbox.project.compose import load_compose
from devbox.project.files import write_all
from devbox.project.locate import locate
from devbox.project.ownership import keep_owners, owner_of
from devbox.runtime import process
from devbox.runtime.signals import interruptible
from devbox.sync.archive import make_tar

FILES = ("pyproject.toml", "uv.lock")


class UvFailed(DevboxError):
    """uv refused the change (an unknown package, a conflict): nothing was changed."""


class EditedMeanwhile(ConfigError):
    """The user saved pyproject.toml or uv.lock while uv ran in a container: their edit is
    kept and uv's result dropped."""


@dataclass(frozen=True)
class DepsReport:
    where: str  # "host", the container's name, or "a one-off container from <image>"
    changed: list[str]  # the files whose content changed
    one_off: bool = False  # nothing was running: the next `devbox up` installs the change


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def run_uv(
    *,
    project_dir: Path,
    command: uv.UvCommand,
    again: str,
    service: str | None = None,
    program: str | None = None,
) -> DepsReport:
    """uv's `command` for the project; `program` None: uv looked up on PATH, else run in a
    container. `again` is the devbox command line that repeats the change."""
    project = load_compose(locate(project_dir))
    folder = project.project_dir
    before = {name: _read(folder / name) for name in FILES}
    owners = {folder / name: owner_of(folder / name) for name in FILES}
    program = program or shutil.which(uv.PROGRAM)
    if program is not None:
        result = process.run(command.argv(program), cwd=folder, check=False)
        if result.returncode != 0:
            raise UvFailed(f"uv {command.verb} failed: {_uv_reason(result)}")
        where, one_off = "host", False
    else:
        where, one_off = _in_container(
            project_dir=project_dir,
            service=service,
            job=_Job(command=command, again=again, before=before),
        )
    changed = [name for name in FILES if _read(folder / name) != before[name]]
    # uv (or this process) run as root in a user's project: the files stay the user's.
    keep_owners([folder / name for name in FILES if (folder / name).exists()], owners, folder)
    return DepsReport(where=where, changed=changed, one_off=one_off)


def _uv_reason(result: process.Result) -> str:
    """uv's own reason (its error and deepest cause, never its hint), in one line."""
    said = "\n".join([process.text(result.stdout), process.text(result.stderr)])
    return uv.error_reason(said) or process.reason(result)


@dataclass(frozen=True)
class _Job:
    command: uv.UvCommand
    again: str  # the devbox command line that repeats it
    before: dict[str, bytes | None]  # the host's files before uv ran


def _in_container(*, project_dir: Path, service: str | None, job: _Job) -> tuple[str, bool]:
    """uv in the running dev container, else in a one-off container from the dev image:
    where it ran, and whether that was a one-off."""
    target = find_target(project_dir=project_dir, service=service)
    container = target.running_container_name()
    if container is None:
        return _in_one_off(target, job), True
    engine = target.engine
    # The user devbox runs a bind-mounted dev container as owns its .venv and uv's cache
    # (and its /app is the host's folder); else root, who can write the image's.
    mapped = engine.container_label(container, labels.DEVBOX_USER)
    folder = target.project.project_dir
    _uv_in(engine, container, folder=folder, user=mapped or "0", job=job, bind=bool(mapped))
    return container, False


def _in_one_off(target: Target, job: _Job) -> str:
    """Nothing runs (say, the app crashes at start for want of the package being added):
    uv runs in an idle container from the dev image, the project's files copied in and
    the new ones brought back, as with a running one; the container is removed after."""
    project, svc, engine = target.project, target.service, target.engine
    image = next((i for i in dev_image_candidates(project, svc) if engine.image_exists(i)), None)
    if image is None:
        raise NotRunning(
            f"uv is not on PATH, no dev container of {svc.name} is running and it has no dev "
            "image to run uv in yet; install uv, or run `devbox up` once to build the image"
        )
    name = f"devbox-{project.name}-{svc.name}-uv-{os.getpid()}"
    engine.ensure_cache_volume(cache_volume_name(project.name), defaults.CACHE_VOLUME)
    with interruptible(cleanup=lambda: engine.remove_containers(name)):
        started = engine.run_detached(
            uv_one_off_args(name=name, project=project, service=svc, image=image)
        )
        if started.returncode != 0:
            raise EngineError(
                f"a container from {image} to run uv in did not start: "
                f"{process.reason(started, 'no output')}; install uv, "
                "or start the dev container with `devbox up --detach`"
            )
        _uv_in(engine, name, folder=project.project_dir, user="0", job=job, bind=False)
    return f"a one-off container from {image}"


def _uv_in(
    engine: Engine, container: str, *, folder: Path, user: str, job: _Job, bind: bool
) -> None:
    """uv in a running container, on a scratch copy of the project there (`engine.scratch`),
    and its pyproject.toml and uv.lock written back to the host atomically; a host file
    edited meanwhile keeps the edit, and then neither file is written. The container's own
    files are never uv's to change: the running loop syncs the host's in."""
    work = scratch.scratch_dir()
    as_user = exec_options(user=user)

    def clean_up() -> None:
        engine.exec(container, scratch.end_cmd(work), options=as_user, capture=True)

    with interruptible(cleanup=clean_up):
        # bind: /app's files are the host's (and `docker cp --archive` would look the
        # mapped uid up in a passwd file that has none); else the host's are copied in.
        prepare = scratch.prepare_cmd(work, FILES, copy_from_app=bind)
        prepared = engine.exec(container, prepare, options=as_user, capture=True)
        if prepared.returncode != 0:
            raise EngineError(
                f"could not prepare {work} in {container} for uv: {process.reason(prepared)}"
            )
        if not bind:
            copies = {f"{work}/{name}": (None, folder / name) for name in FILES}
            engine.copy_tar(
                container,
                make_tar(
                    {k: v for k, v in copies.items() if v[1].is_file()},
                    keep=lambda _rule, _path: True,
                ),
            )
        result = engine.exec(
            container,
            scratch.recorded_cmd(work, job.command.argv()),
            options=exec_options(workdir=work, user=user),
            capture=True,
        )
        if result.returncode != 0:
            raise UvFailed(f"uv {job.command.verb} in {container} failed: {_uv_reason(result)}")
        written = {name: engine.read_file(container, f"{work}/{name}") for name in FILES}
    _write_back(folder, written, job=job, container=container)


def _write_back(
    folder: Path, written: dict[str, bytes | None], *, job: _Job, container: str
) -> None:
    """uv's files written to the host atomically, both or neither: a host file edited since
    uv started keeps the edit, and the lock is not brought back without its pyproject.toml."""
    changes: list[tuple[Path, str]] = []
    for name, data in written.items():
        path = folder / name
        now = _read(path)
        if data is None or data == now:
            continue
        if now != job.before[name]:
            raise EditedMeanwhile(
                f"{path}: changed on the host while uv ran in {container}; your edit is "
                f"kept and uv's change is not applied: run `{job.again}` again"
            )
        changes.append((path, data.decode("utf-8")))
    write_all(changes)


def _again(verb: str, packages: Sequence[str], dev: bool, group: str | None) -> str:
    flags = [*(["--dev"] if dev else []), *(["--group", group] if group else [])]
    return shlex.join(["devbox", verb, *flags, *packages])


def add(
    *,
    project_dir: Path,
    packages: Sequence[str],
    dev: bool = False,
    group: str | None = None,
    service: str | None = None,
) -> DepsReport:
    """`uv add --no-sync`: the lock changes; the container's .venv is synced by the running
    loop (`uv sync` in the container), the host's .venv is left alone."""
    return run_uv(
        project_dir=project_dir,
        command=uv.add(packages, dev=dev, group=group),
        again=_again("add", packages, dev, group),
        service=service,
    )


def remove(
    *,
    project_dir: Path,
    packages: Sequence[str],
    dev: bool = False,
    group: str | None = None,
    service: str | None = None,
) -> DepsReport:
    return run_uv(
        project_dir=project_dir,
        command=uv.remove(packages, dev=dev, group=group),
        again=_again("remove", packages, dev, group),
        service=service,
    )


def lock(*, project_dir: Path, service: str | None = None) -> DepsReport:
    return run_uv(project_dir=project_dir, command=uv.lock(), again="devbox lock", service=service)
