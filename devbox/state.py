"""A running `devbox up` session, recorded under the project in `.devbox/state.json`.

`status`, `logs`, `shell` and `down` find the session there. The record is never
trusted blindly: its watcher pid is checked, and a dead one makes it stale.
"""

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

STATE_DIR = ".devbox"


@dataclass
class Last:
    """The last batch a session applied."""

    what: str
    seconds: float
    at: float


@dataclass
class State:
    pid: int
    mode: str
    reason: str
    compose_project: str
    service: str
    container: str | None  # the fallback's container; watch mode finds them by label
    started: float = field(default_factory=time.time)
    # The kernel's start time of `pid`: a pid reused by another process after a crash
    # or a reboot does not match it, so `down` never signals a stranger.
    pid_start: str | None = None
    # Process groups of the session's children (pid -> start time): they run in sessions
    # of their own, so they outlive a devbox that was killed, and `down` ends them.
    children: dict[str, str | None] = field(default_factory=dict)
    detached: bool = False
    ready: bool = False
    last: Last | None = None

    def __post_init__(self) -> None:
        if self.pid_start is None:
            self.pid_start = process_start(self.pid)

    def alive(self) -> bool:
        return pid_alive(self.pid) and process_start(self.pid) == self.pid_start

    def add_child(self, pid: int) -> None:
        self.children = {str(p): self.children[str(p)] for p in self.live_children()}
        self.children[str(pid)] = process_start(pid)

    def live_children(self) -> list[int]:
        """Recorded child groups still led by the same processes (pid reuse is checked)."""
        return [
            int(pid)
            for pid, started in self.children.items()
            if pid_alive(int(pid)) and process_start(int(pid)) == started
        ]


def process_start(pid: int) -> str | None:
    """Field 22 of /proc/<pid>/stat (start time in clock ticks), or None if unknown."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def pid_alive(pid: int) -> bool:
    if pid <= 1:
        return False  # never a devbox process; os.kill(-1 or 0, ...) would hit many
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped) counts as dead.
    try:
        status = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except (OSError, IndexError):
        return True
    return status != "Z"


def state_path(project_dir: Path) -> Path:
    return project_dir / STATE_DIR / "state.json"


def log_path(project_dir: Path) -> Path:
    return project_dir / STATE_DIR / "up.log"


def save(project_dir: Path, state: State) -> None:
    """Write atomically, so a reader never sees half a file."""
    path = state_path(project_dir)
    path.parent.mkdir(exist_ok=True)
    (path.parent / ".gitignore").write_text("*\n")
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(state), indent=2))
    tmp.replace(path)


def load(project_dir: Path) -> State | None:
    """The recorded session, or None; a corrupt record counts as none."""
    try:
        data = json.loads(state_path(project_dir).read_text())
        last = data.pop("last", None)
        record = State(**data, last=Last(**last) if last else None)
    except (OSError, ValueError, TypeError):
        return None
    return record if isinstance(record.pid, int) and record.pid > 1 else None


def clear(project_dir: Path, pid: int | None = None) -> None:
    """Remove the record (only if it is `pid`'s, when given)."""
    current = load(project_dir)
    if pid is not None and current is not None and current.pid != pid:
        return
    state_path(project_dir).unlink(missing_ok=True)
