"""Debouncing of file events into batches: pure logic, driven by the caller's clock.

Like Compose, paths collect in a set and a batch is due once no event arrived for
`quiet` seconds. Unlike Compose, a batch is also due `max_wait` seconds after its
first event, so continuous writes cannot postpone a sync forever.
"""

import math
from dataclasses import dataclass, field

DEFAULT_QUIET = 0.05  # Compose waits 0.5 s
DEFAULT_MAX_WAIT = 0.5  # Compose has no maximum
LONGEST = 60.0  # a longer wait is a typo, not a preference


@dataclass
class Batcher:
    quiet: float = DEFAULT_QUIET
    max_wait: float = DEFAULT_MAX_WAIT
    _paths: set[str] = field(default_factory=set)
    _first: float = 0.0
    _last: float = 0.0
    taken_first: float = 0.0  # the first event of the batch `take` returned last (telemetry)

    def __post_init__(self) -> None:
        figures = (self.quiet, self.max_wait)
        if not all(math.isfinite(f) for f in figures) or not 0 <= self.quiet <= self.max_wait:
            raise ValueError("need 0 <= quiet <= max_wait")
        if self.max_wait > LONGEST:
            raise ValueError(f"need max_wait <= {LONGEST}")

    def add(self, path: str, now: float) -> None:
        if not self._paths:
            self._first = now
        self._paths.add(path)
        self._last = now

    def deadline(self) -> float | None:
        """When the pending batch becomes due, or None when nothing is pending."""
        if not self._paths:
            return None
        return min(self._last + self.quiet, self._first + self.max_wait)

    def take(self, now: float) -> frozenset[str]:
        """The batch if it is due (and start a new one), else an empty set."""
        deadline = self.deadline()
        if deadline is None or now < deadline:
            return frozenset()
        batch, self._paths = frozenset(self._paths), set()
        self.taken_first = self._first
        return batch
