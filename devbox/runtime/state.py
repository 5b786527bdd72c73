"""A running `devbox up` session, recorded under the project in `.devbox/state.json`.

`status`, `logs`, `shell` and `down` find the session there. The record is never
trusted blindly: a pid counts only while it is still the process that was recorded
(its creation time matches), so `down` never signals a stranger.
"""

import contextlib
import errno
import json
import math
import os
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import BinaryIO

from devbox.errors import ConfigError, UsageError
from devbox.runtime import process

STATE_DIR = ".devbox"
KEEP_LATENCIES = 200  # recent save->applied times a session keeps for `status`


@dataclass
class Last:
    """The last batch a session applied."""

    what: str
    seconds: float
    at: float


@dataclass
class ShellFacts:
    """What `devbox shell` needs to exec in the recorded container without reading the
    compose files (the slow part of its start-up); valid while `files` are unchanged."""

    client: str  # the session's container CLI
    workdir: str  # the developed service's working dir in its container
    project_services: list[str]  # every service of the project: `shell WORD` may name one
    files: dict[str, int]  # what decides the above (compose files, pyproject.toml, .env)


def fingerprint(paths: Iterable[Path]) -> dict[str, int]:
    """Each file's modification time in ns (-1 when missing): a changed file changes it."""
    stamps = {}
    for path in paths:
        try:
            stamps[str(path)] = path.stat().st_mtime_ns
        except OSError:
            stamps[str(path)] = -1
    return stamps


@dataclass
class State:
    pid: int
    mode: str
    reason: str
    compose_project: str
    service: str
    container: str | None  # the fallback's container; watch mode finds them by label
    services: list[str] = field(default_factory=list)  # every developed service
    started: float = field(default_factory=time.time)
    # The creation time of `pid`: a pid reused by another process after a crash or a
    # reboot does not match it. None (unknown) never matches.
    pid_start: float | None = None
    # Process groups of the session's children (pid -> creation time): they run in
    # sessions of their own, so they outlive a devbox that was killed, and `down` ends them.
    children: dict[str, float | None] = field(default_factory=dict)
    detached: bool = False
    log: str | None = None  # a detached session's output (state.log_path)
    ready: bool = False
    last: Last | None = None
    # Save->applied seconds (first event of a batch -> the container has it) of recent batches.
    latencies: list[float] = field(default_factory=list)
    # Every batch applied in the session (latencies keeps only the recent ones).
    batches: int = 0
    shell: ShellFacts | None = None
    brought_back: int = 0  # files the container wrote that came back to the host (copy sync)
    # The folder the session belongs to, and its identity (`folder_identity`): a copied
    # project carries the record along, and the copy must not act on this session.
    project_dir: str = ""
    project_id: str | None = ""

    def alive(self) -> bool:
        return process.same_process(self.pid, self.pid_start)

    def add_child(self, pid: int) -> None:
        self.children = {str(p): t for p, t in self.live_children().items()}
        self.children[str(pid)] = process.identity(pid)

    def live_children(self) -> dict[int, float | None]:
        """Recorded child groups still led by the same processes (pid reuse is checked)."""
        return {
            int(pid): created
            for pid, created in self.children.items()
            if process.same_process(int(pid), created)
        }


def state_path(project_dir: Path) -> Path:
    return project_dir / STATE_DIR / "state.json"


def state_dir(project_dir: Path) -> Path:
    """`.devbox/`, created (with a .gitignore) when missing; a one-line error when it
    cannot be (a read-only project, or a file of that name)."""
    folder = project_dir / STATE_DIR
    try:
        folder.mkdir(exist_ok=True)
        ignore = folder / ".gitignore"
        if not ignore.exists():
            ignore.write_text("*\n")
        # An existing folder on a read-only mount (or not ours to write) passes the two
        # steps above; access() says so now, not a traceback at the first write.
        if not os.access(folder, os.W_OK | os.X_OK):
            raise OSError(errno.EROFS if _read_only(folder) else errno.EACCES, "")
    except OSError as exc:
        raise ConfigError(
            f"{folder}: cannot write devbox's session state there "
            f"({exc.strerror or os.strerror(exc.errno or errno.EACCES)}); "
            "make the project folder writable, or move away a file named .devbox"
        ) from None
    return folder


def log_path(project_dir: Path) -> Path:
    """Where a detached session writes its output (the app's logs included): outside the
    project. A file written on every request inside the tree starves Compose watch, whose
    500 ms quiet period starts again at every event anywhere under a watched path, so
    nothing synced while the app was busy. `$XDG_STATE_HOME/devbox/` (`~/.local/state`),
    else the temp folder; one folder per project path, private to the user.

    The temp folder is shared with every user: `devbox-<uid>` there is created by devbox
    (exclusively, 0700), or used only if it is a real folder (not a link), owned by this
    user and private; anything else another user may have planted is refused."""
    import hashlib
    import tempfile

    project = project_dir.resolve()
    name = f"{project.name or 'root'}-{hashlib.sha256(str(project).encode()).hexdigest()[:12]}"
    xdg = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    shared = Path(tempfile.gettempdir()) / f"devbox-{os.getuid()}"
    problems = []
    for base in (Path(xdg) / "devbox", shared):
        if (base.resolve() / name).is_relative_to(project):
            problems.append(f"{base} is inside the project")
            continue
        try:
            if base is shared:
                if not base.parent.exists():
                    base.parent.mkdir(parents=True)  # TMPDIR itself
                _private_folder(base)
            else:
                base.mkdir(mode=0o700, parents=True, exist_ok=True)
            _private_folder(base / name)
        except OSError as exc:
            problems.append(f"{base}: {exc.strerror}")
            continue
        return base / name / "up.log"
    raise ConfigError(
        "no folder outside the project for the background session's log ("
        + "; ".join(problems)
        + "); set XDG_STATE_HOME to a writable folder"
    )


def _private_folder(folder: Path) -> None:
    """Create `folder` (mode 0700, failing if it exists), or accept the existing one only
    when it is a folder, not a link, owned by this user and closed to everyone else; an
    `OSError` naming what is wrong otherwise."""
    import stat

    with contextlib.suppress(FileExistsError):
        folder.mkdir(mode=0o700)  # the umask can only narrow it
    info = os.lstat(folder)
    if stat.S_ISLNK(info.st_mode):
        raise OSError(errno.ELOOP, "a symbolic link, not a folder devbox made (refused)")
    if not stat.S_ISDIR(info.st_mode):
        raise OSError(errno.ENOTDIR, os.strerror(errno.ENOTDIR))
    if info.st_uid != os.getuid():
        raise OSError(errno.EPERM, f"owned by uid {info.st_uid}, not by you (refused)")
    if info.st_mode & 0o077:
        mode = oct(info.st_mode & 0o777)[2:]
        raise OSError(errno.EPERM, f"mode {mode}, open to other users; devbox needs 0700")


def open_log(path: Path) -> BinaryIO:
    """The detached session's log, created or truncated, never through a link (`O_NOFOLLOW`)
    and only when it is a regular file of this user's."""
    import stat

    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, 0o600)
    except OSError as exc:
        why = "a symbolic link (refused)" if exc.errno == errno.ELOOP else exc.strerror
        raise ConfigError(
            f"{path}: cannot write the session's log there ({why}); remove it"
        ) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid():
        os.close(fd)
        raise ConfigError(f"{path}: not a file of yours (refused); remove it")
    return os.fdopen(fd, "wb")


def _read_only(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def already_running(project_dir: Path, pid: int | None) -> UsageError:
    """The refusal of a second `devbox up` in one project."""
    holder = f" (pid {pid})" if pid is not None else ""
    return UsageError(
        f"devbox up is already running for {project_dir}{holder}; `devbox down` stops it"
    )


def refuse_if_running(project_dir: Path, warn: Callable[[str], None] | None = None) -> None:
    """Refuse early (before detaching or asking the engine) when a live session is recorded;
    `session_lock` then settles a race between two starts. A record that is not a file
    (a folder of that name) could never be written: refused now, not after a detached
    start waited for it in vain."""
    path = state_path(project_dir)
    if (path.exists() or path.is_symlink()) and not path.is_file():
        raise ConfigError(f"{path}: is not a file (devbox records the session there); move it away")
    running = load(project_dir, warn=warn)
    if running is not None and running.alive():
        raise already_running(project_dir, running.pid)


@contextmanager
def session_lock(project_dir: Path) -> Iterator[None]:
    """Held for a `devbox up` session's life: a second one in the same project refuses
    (the lock dies with its holder, so a killed session never blocks the next)."""
    from filelock import FileLock, Timeout  # only `up` locks: other commands start faster

    lock = FileLock(state_dir(project_dir) / "up.lock")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        record = load(project_dir)
        raise already_running(project_dir, record.pid if record is not None else None) from None
    try:
        yield
    finally:
        lock.release()


def save(project_dir: Path, state: State) -> None:
    """Write atomically (a unique temp file, then rename), so a reader never sees half a file."""
    import tempfile  # only writers pay for it: `devbox shell` reads the record

    path = state_dir(project_dir) / "state.json"
    state.project_dir = str(project_dir.resolve())
    state.project_id = folder_identity(project_dir)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".state-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as out:
            json.dump(asdict(state), out, indent=2)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _number(value: object) -> float | None:
    """A finite number (a bool, NaN or an overflowed `1e400` is none)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        with contextlib.suppress(OverflowError):
            number = float(value)
            if math.isfinite(number):
                return number
    return None


class CorruptRecord(ValueError):
    """A session record devbox cannot trust: a field of the wrong type or value."""


def folder_identity(folder: Path) -> str | None:
    """`device:inode` of a folder: a copy (`cp -a`) at the same path is another folder."""
    try:
        info = folder.stat()
    except OSError:
        return None
    return f"{info.st_dev}:{info.st_ino}"


def _text(data: dict[str, object], key: str, *, optional: bool = False) -> str | None:
    value = data.get(key)
    if isinstance(value, str) or (optional and value is None):
        return value
    raise CorruptRecord(f"{key} must be {'a string or null' if optional else 'a string'}")


def _parse(data: object) -> State:
    """A record from its JSON, every field checked; `CorruptRecord` names the first wrong one.

    What `down` signals or `shell` runs in (pids, process groups, the container) must be
    exactly right; the session's figures (`last`, `latencies`, `batches`) only inform
    `status`, so mistyped ones are dropped instead."""
    if not isinstance(data, dict):
        raise CorruptRecord("not a JSON object")
    pid = data.get("pid")
    if type(pid) is not int or not 1 < pid < 2**31:
        raise CorruptRecord("pid must be a process id")  # 0, 1, -1 would signal many
    children = data.get("children", {})
    if not isinstance(children, dict) or not all(
        isinstance(k, str) and k.isascii() and k.isdigit() and 1 < int(k) < 2**31 for k in children
    ):
        raise CorruptRecord("children must map process ids to start times")
    services = data.get("services", [])
    if not isinstance(services, list) or not all(isinstance(s, str) for s in services):
        raise CorruptRecord("services must be a list of names")
    for key in ("detached", "ready"):
        if not isinstance(data.get(key, False), bool):
            raise CorruptRecord(f"{key} must be true or false")
    last = data.get("last")
    seen = None
    if isinstance(last, dict):
        what, seconds, at = last.get("what"), _number(last.get("seconds")), _number(last.get("at"))
        if isinstance(what, str) and seconds is not None and at is not None:
            seen = Last(what=what, seconds=seconds, at=at)
    figures = data.get("latencies")
    batches = _number(data.get("batches"))
    back = _number(data.get("brought_back"))
    return State(
        pid=pid,
        mode=_text(data, "mode") or "",
        reason=_text(data, "reason") or "",
        compose_project=_text(data, "compose_project") or "",
        service=_text(data, "service") or "",
        container=_text(data, "container", optional=True),
        services=list(services),
        started=_number(data.get("started")) or 0.0,
        pid_start=_number(data.get("pid_start")),
        children={k: _number(v) for k, v in children.items()},
        detached=bool(data.get("detached", False)),
        log=_text(data, "log", optional=True) if "log" in data else None,
        ready=bool(data.get("ready", False)),
        last=seen,
        latencies=[
            v for v in map(_number, figures if isinstance(figures, list) else []) if v is not None
        ],
        batches=int(batches) if batches is not None and 0 <= batches < 2**53 else 0,
        brought_back=int(back) if back is not None and 0 <= back < 2**53 else 0,
        shell=_shell_facts(data.get("shell")),
        project_dir=str(data.get("project_dir") or ""),
        project_id=str(data.get("project_id") or ""),
    )


def load(project_dir: Path, *, warn: Callable[[str], None] | None = None) -> State | None:
    """The project's recorded session, or None.

    A record written for another folder (the project was copied with `cp -a`, or moved)
    is none: its session is that folder's, and nothing here may stop it, exec in its
    container or write its files. A corrupt record is none too; with `warn`, it is set
    aside (renamed next to it, so it is looked at once, not on every command) and said so."""
    path = state_path(project_dir)
    try:
        raw = path.read_bytes()
    except OSError:
        return None  # none, or a folder of that name (`up` refuses that one)
    try:
        record = _parse(json.loads(raw))
    except (ValueError, RecursionError) as exc:  # JSON errors and CorruptRecord
        why = str(exc) if isinstance(exc, CorruptRecord) else "not valid JSON"
        if warn is not None:
            warn(_set_aside(path, why))
        return None
    if record.project_dir != str(project_dir.resolve()) or record.project_id != folder_identity(
        project_dir
    ):
        return None
    return record


def _set_aside(path: Path, why: str) -> str:
    aside = path.with_name(f"state.corrupt-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.json")
    try:
        path.rename(aside)
    except OSError as exc:
        return (
            f"{path}: corrupt session record ({why}), ignored; "
            f"could not set it aside ({exc.strerror})"
        )
    return f"{path}: corrupt session record ({why}); set aside as {aside.name} and ignored"


def _shell_facts(data: object) -> ShellFacts | None:
    """The record's shell facts when well-typed, else None (`shell` then reads the files)."""
    try:
        facts = ShellFacts(**data)  # type: ignore[arg-type]
    except TypeError:
        return None
    strings = isinstance(facts.client, str) and isinstance(facts.workdir, str)
    names = isinstance(facts.project_services, list) and all(
        isinstance(n, str) for n in facts.project_services
    )
    files = isinstance(facts.files, dict) and all(
        isinstance(k, str) and type(v) is int for k, v in facts.files.items()
    )
    return facts if strings and names and files else None


def clear(project_dir: Path, pid: int | None = None) -> None:
    """Remove the record (only if it is `pid`'s, when given). One that cannot be removed
    (the tree became read-only) stays: its pid is dead, so it counts as no session."""
    current = load(project_dir)
    if pid is not None and current is not None and current.pid != pid:
        return
    with contextlib.suppress(OSError):
        state_path(project_dir).unlink(missing_ok=True)


@dataclass
class Recorder:
    """Keeps the session's state file up to date as the session goes.

    A write that fails mid-session (the project made read-only, `.devbox` removed and
    unwritable, a full disk) never ends the session: `warn` says so once, and the record
    is written again at the next change that can be."""

    project_dir: Path
    record: State
    warn: Callable[[str], None] | None = None
    failing: bool = False

    def save(self) -> None:
        try:
            save(self.project_dir, self.record)
        except (OSError, ConfigError) as exc:
            if not self.failing and self.warn is not None:
                folder = self.project_dir / STATE_DIR
                read_only = "Read-only file system" if _read_only(folder) else "not writable"
                why = exc.strerror if isinstance(exc, OSError) else read_only
                self.warn(
                    f"cannot update {state_path(self.project_dir)} ({why}); the session "
                    "goes on, but `devbox status` and `down` may show an older state"
                )
            self.failing = True
        else:
            self.failing = False

    def ready(self, container: str | None = None) -> None:
        self.record.ready = True
        self.record.container = container or self.record.container
        self.save()

    def child(self, child: process.Child) -> None:
        """Record a child's process group, so `down` can end it if devbox dies first."""
        self.record.add_child(child.pid)
        self.save()

    def applied(self, what: str, seconds: float, latency: float | None = None) -> None:
        """Record a batch; `latency` (save->applied seconds) joins the session's figures."""
        self.record.last = Last(what=what, seconds=round(seconds, 3), at=time.time())
        self.record.batches += 1
        if latency is not None:
            kept = [*self.record.latencies, round(latency, 4)]
            self.record.latencies = kept[-KEEP_LATENCIES:]
        self.save()

    def brought_back(self) -> None:
        """A file the container wrote came back to the host."""
        self.record.brought_back += 1
        self.save()


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (`share` in 0..1) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * share // 1))
    return ordered[int(rank) - 1]


SHELLS = "shells"  # `.devbox/shells/<pid>`: a `devbox shell` runs (its creation time inside)


@contextmanager
def shell_marker(project_dir: Path) -> Iterator[None]:
    """Mark a `devbox shell` as running while the block runs: what the container writes
    meanwhile is the user's doing, and comes back to the host (sync/writeback.py)."""
    pid = os.getpid()
    path = project_dir / STATE_DIR / SHELLS / str(pid)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(process.identity(pid)))
    except OSError:  # a read-only project: nothing to mark, the shell runs all the same
        yield
        return
    try:
        yield
    finally:
        # Kept a moment: the container's last writes reach the host after the shell ends.
        with contextlib.suppress(OSError):
            path.write_text(json.dumps({"ended": time.time()}))


SHELL_GRACE = 2.0  # seconds a shell's writes still count as the shell's after it ended


def shell_running(project_dir: Path) -> bool:
    """Whether a `devbox shell` of this project runs, or ended in the last few seconds
    (older marks are removed)."""
    folder = project_dir / STATE_DIR / SHELLS
    try:
        marks = list(folder.iterdir())
    except OSError:
        return False
    for mark in marks:
        try:
            data = json.loads(mark.read_text())
            if isinstance(data, dict):
                ended = _number(data.get("ended"))
                live = ended is not None and time.time() - ended < SHELL_GRACE
            else:
                live = process.same_process(int(mark.name), _number(data))
        except (OSError, ValueError):
            live = False
        if live:
            return True
        mark.unlink(missing_ok=True)
    return False
