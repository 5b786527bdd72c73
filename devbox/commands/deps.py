"""`devbox add`, `devbox remove`, `devbox lock`: change the project's dependencies with uv,
on the host when uv is on PATH, else in the running dev container.

Either way the new pyproject.toml and uv.lock end up on the host (where the watcher,
devbox's or Compose's, takes them into the container and runs `uv sync` there). A lock
written inside the container (copy or watch mode) is read back and written atomically,
never over a host edit made meanwhile; rewriting it from the host also gives the files
back to the host user when the container's root wrote them through a bind mount.
"""

import hashlib
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from devbox.commands.session import find_session
from devbox.defaults import APP_DIR
from devbox.engine import labels
from devbox.engine.container import exec_options
from devbox.errors import CommandFailed, ConfigError, DevboxError, NotRunning
from devbox.project.compose import load_compose
from devbox.project.files import write_all
from devbox.project.locate import locate
from devbox.project.ownership import keep_owners, owner_of
from devbox.runtime import process
from devbox.sync.archive import make_tar

FILES = ("pyproject.toml", "uv.lock")


class UvFailed(DevboxError):
    """uv refused the change (an unknown package, a conflict): nothing was changed."""


@dataclass(frozen=True)
class DepsReport:
    where: str  # "host" or the container's name
    changed: list[str]  # the files whose content changed


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
        where = "host"
    else:
        where = _in_container(project_dir=project_dir, service=service, args=args, before=before)
    changed = [name for name in FILES if _digest(folder / name) != before[name]]
    # uv (or this process) run as root in a user's project: the files stay the user's.
    keep_owners([folder / name for name in FILES if (folder / name).exists()], owners, folder)
    return DepsReport(where=where, changed=changed)


def _in_container(
    *, project_dir: Path, service: str | None, args: Sequence[str], before: dict[str, str | None]
) -> str:
    session = find_session(project_dir=project_dir, service=service)
    container = session.running_container_name()
    if container is None:
        raise NotRunning(
            "uv is not on PATH and no dev container is running to run it in; install uv, "
            "or start one with `devbox up --detach`"
        )
    engine, folder = session.engine, session.project.project_dir
    # The user devbox runs a bind-mounted dev container as owns its .venv and uv's cache
    # (and writes the project as the host user); else root, who can write the image's.
    mapped = engine.container_label(container, labels.DEVBOX_USER)
    user = mapped or "0"
    if mapped is None:
        # The container may still hold older files (copy and watch modes sync on events);
        # a mapped container bind-mounts the project (and `docker cp --archive` would look
        # its uid up in a passwd file that has none).
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
    return container


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
