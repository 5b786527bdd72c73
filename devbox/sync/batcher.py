"""Debouncing of file events into batches: pure logic, driven by the caller's clock.

Like Compose, paths collect in a set and a batch is due once no event arrived for
`quiet` seconds. Unlike Compose:
- a batch is also due `max_wait` seconds after its first event, so continuous writes
  cannot postpone a sync forever;
- a path can be *held* (a file still open for writing, or an editor's temp file not yet
  renamed onto its target): the batch then waits for it to be released, at most `settle`
  seconds after its last event (and never past `max_wait`), so a short quiet window never
  splits an atomic save (write temp, rename) or a file written in several calls;
- a burst (`burst_paths` paths or more pending, as `git checkout` makes) may wait up to
  `burst_wait` for quiet instead of `max_wait`: flushing it half-written would copy most
  files twice (once now, again when the rest of the burst rewrites them);
- a batch of `max_paths` paths is due at once, which bounds memory and each batch's work.
"""

import math
from dataclasses import dataclass, field

DEFAULT_QUIET = 0.05  # Compose waits 0.5 s
DEFAULT_MAX_WAIT = 0.2  # Compose has no maximum
DEFAULT_SETTLE = 0.1  # editors fsync a temp file before renaming it: give them this long
BURST_PATHS = 256
BURST_WAIT = 1.0
MAX_PATHS = 50_000
LONGEST = 60.0  # a longer wait is a typo, not a preference


@dataclass
class Batcher:
    quiet: float = DEFAULT_QUIET
    max_wait: float = DEFAULT_MAX_WAIT
    settle: float = DEFAULT_SETTLE
    max_paths: int = MAX_PATHS
    burst_paths: int = BURST_PATHS
    burst_wait: float = BURST_WAIT
    _paths: set[str] = field(default_factory=set)
    _held: dict[str, float] = field(default_factory=dict)  # held path -> its last event
    _first: float = 0.0
    _last: float = 0.0
    taken_first: float = 0.0  # the first event of the batch `take` returned last (telemetry)

    def __post_init__(self) -> None:
        figures = (self.quiet, self.max_wait, self.settle, self.burst_wait)
        if not all(math.isfinite(f) for f in figures) or not 0 <= self.quiet <= self.max_wait:
            raise ValueError("need 0 <= quiet <= max_wait")
        if self.max_wait > LONGEST:
            raise ValueError(f"need max_wait <= {LONGEST}")
        if self.settle < 0 or self.max_paths < 1 or self.burst_paths < 1:
            raise ValueError("need settle >= 0, max_paths >= 1 and burst_paths >= 1")

    def add(self, path: str, now: float, *, hold: bool = False) -> None:
        """Note a change to `path` at `now`; `hold` says the change is half done (the file
        is still open for writing, or is a temp file about to be renamed), and a later
        `add` of the same path without it releases it."""
        if not self._paths:
            self._first = now
        self._paths.add(path)
        self._last = max(self._last, now)
        if hold:
            self._held[path] = now
        else:
            self._held.pop(path, None)

    @property
    def pending(self) -> int:
        return len(self._paths)

    def deadline(self) -> float | None:
        """When the pending batch becomes due, or None when nothing is pending."""
        if not self._paths:
            return None
        if len(self._paths) >= self.max_paths:
            return self._first
        due = self._last + self.quiet
        if self._held:
            due = max(due, max(self._held.values()) + self.settle)
        cap = self.max_wait
        if len(self._paths) >= self.burst_paths:
            cap = max(cap, self.burst_wait)
        return min(due, self._first + cap)

    def take(self, now: float) -> frozenset[str]:
        """The batch if it is due (and start a new one), else an empty set."""
        deadline = self.deadline()
        if deadline is None or now < deadline:
            return frozenset()
        batch, self._paths = frozenset(self._paths), set()
        self._held.clear()
        self.taken_first = self._first
        return batch
