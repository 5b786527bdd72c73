"""`devbox add`, `devbox remove`, `devbox lock`: change the project's dependencies with uv,
on the host when uv is on PATH, else in the running dev container, else (nothing runs)
in a one-off container from the dev image.

Either way the new pyproject.toml and uv.lock end up on the host (where the watcher,
devbox's or Compose's, takes them into the container and runs `uv sync` there). A lock
written inside the container (copy or watch mode) is read back and written atomically,
never over a host edit made meanwhile; rewriting it from the host also gives the files
back to the host user when the container's root wrote them through a bind mount.
"""

import hashlib
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from devbox import defaults
from devbox.commands.session import Session, find_session
from devbox.defaults import APP_DIR
from devbox.engine import labels
from devbox.engine.client import Engine
from devbox.engine.container import dev_image_candidates, exec_options, uv_one_off_args
from devbox.engine.owner import cache_volume_name
from devbox.errors import CommandFailed, ConfigError, DevboxError, EngineError, NotRunning
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


@dataclass(frozen=True)
class DepsReport:
    where: str  # "host", the container's name, or "a one-off container from <image>"
    changed: list[str]  # the files whose content changed
    one_off: bool = False  # nothing was running: the next `devbox up` installs the change


def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


def _last_line(output: Sequence[str] | str) -> str:
    lines = output.splitlines() if isinstance(output, str) else list(output)
    lines = [line.strip() for line in lines if line.strip()]
    return lines[-1] if lines else "no output"


def run_uv(
    *, project_dir: Path, args: Sequence[str], service: str | None = None, uv: str | None = None
) -> DepsReport:
    """`uv ARGS` for the project; `uv` None: looked up on PATH."""
    project = load_compose(locate(project_dir))
    folder = project.project_dir
    before = {name: _digest(folder / name) for name in FILES}
    owners = {folder / name: owner_of(folder / name) for name in FILES}
    uv = uv or shutil.which("uv")
    if uv is not None:
        try:
            process.run([uv, *args], cwd=folder)
        except CommandFailed as exc:
            raise UvFailed(f"uv {args[0]} failed: {_last_line(exc.output)}") from None
        where, one_off = "host", False
    else:
        where, one_off = _in_container(
            project_dir=project_dir, service=service, args=args, before=before
        )
    changed = [name for name in FILES if _digest(folder / name) != before[name]]
    # uv (or this process) run as root in a user's project: the files stay the user's.
    keep_owners([folder / name for name in FILES if (folder / name).exists()], owners, folder)
    return DepsReport(where=where, changed=changed, one_off=one_off)


def _in_container(
    *, project_dir: Path, service: str | None, args: Sequence[str], before: dict[str, str | None]
) -> tuple[str, bool]:
    """uv in the running dev container, else in a one-off container from the dev image:
    where it ran, and whether that was a one-off."""
    session = find_session(project_dir=project_dir, service=service)
    container = session.running_container_name()
    if container is None:
        return _in_one_off(session, args=args, before=before), True
    engine = session.engine
    # The user devbox runs a bind-mounted dev container as owns its .venv and uv's cache
    # (and writes the project as the host user); else root, who can write the image's.
    mapped = engine.container_label(container, labels.DEVBOX_USER)
    # The container may still hold older files (copy and watch modes sync on events);
    # a mapped container bind-mounts the project (and `docker cp --archive` would look
    # its uid up in a passwd file that has none).
    _uv_in(
        session.engine,
        container,
        folder=session.project.project_dir,
        user=mapped or "0",
        copy_in=mapped is None,
        args=args,
        before=before,
    )
    return container, False


def _in_one_off(session: Session, *, args: Sequence[str], before: dict[str, str | None]) -> str:
    """Nothing runs (say, the app crashes at start for want of the package being added):
    uv runs in an idle container from the dev image, the project's files copied in and
    the new ones brought back, as with a running one; the container is removed after."""
    project, svc, engine = session.project, session.service, session.engine
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
            reason = _last_line(process.text(started.stderr))
            raise EngineError(
                f"a container from {image} to run uv in did not start: {reason}; install uv, "
                "or start the dev container with `devbox up --detach`"
            )
        _uv_in(
            engine,
            name,
            folder=project.project_dir,
            user="0",
            copy_in=True,
            args=args,
            before=before,
        )
    return f"a one-off container from {image}"


def _uv_in(
    engine: Engine,
    container: str,
    *,
    folder: Path,
    user: str,
    copy_in: bool,
    args: Sequence[str],
    before: dict[str, str | None],
) -> None:
    """`uv ARGS` in a running container, and its pyproject.toml and uv.lock written back to
    the host atomically, never over a host edit made meanwhile."""
    if copy_in:
        copies = {f"{APP_DIR}/{name}": (None, folder / name) for name in FILES}
        engine.copy_tar(
            container,
            make_tar(
                {k: v for k, v in copies.items() if v[1].is_file()},
                keep=lambda _rule, _path: True,
            ),
        )
    options = exec_options(workdir=APP_DIR, user=user)
    result = engine.exec(container, ["uv", *args], options=options, capture=True)
    if result.returncode != 0:
        reason = _last_line(process.text(result.stderr))
        raise UvFailed(f"uv {args[0]} in {container} failed: {reason}")
    changes: list[tuple[Path, str]] = []
    for name in FILES:
        data = engine.read_file(container, f"{APP_DIR}/{name}")
        if data is None:
            continue
        path = folder / name
        now = _digest(path)
        new = hashlib.sha256(data).hexdigest()
        if now not in (before[name], new):
            raise ConfigError(
                f"{path}: changed on the host while uv ran in {container}; not overwritten: "
                f"run `devbox {args[0]}` again"
            )
        # Also when unchanged on the host through a bind mount: rewritten by this
        # process, the file belongs to the host user again, not to the container's root
        # (and `run_uv` gives it back its owner when this process is root).
        changes.append((path, data.decode("utf-8")))
    write_all(changes)


def add(
    *, project_dir: Path, packages: Sequence[str], dev: bool = False, service: str | None = None
) -> DepsReport:
    """`uv add --no-sync`: the lock changes; the container's .venv is synced by the running
    loop (`uv sync` in the container), the host's .venv is left alone."""
    args = ["add", "--no-sync", *(["--dev"] if dev else []), *packages]
    return run_uv(project_dir=project_dir, args=args, service=service)


def remove(
    *, project_dir: Path, packages: Sequence[str], dev: bool = False, service: str | None = None
) -> DepsReport:
    args = ["remove", "--no-sync", *(["--dev"] if dev else []), *packages]
    return run_uv(project_dir=project_dir, args=args, service=service)


def lock(*, project_dir: Path, service: str | None = None) -> DepsReport:
    return run_uv(project_dir=project_dir, args=["lock"], service=service)
