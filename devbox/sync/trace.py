"""Per-batch timings of the fallback's sync, for finding where latency goes.

Set `DEVBOX_SYNC_TRACE=<file>` and every batch appends one JSON line: its size and the
monotonic times of its first event, its flush by the batcher, its plan, the end of the
stream (tar and deletes written) and the receiver's ack. Off (and free) otherwise.
"""

import json
import os
import time

_FILE = os.environ.get("DEVBOX_SYNC_TRACE")


def enabled() -> bool:
    return bool(_FILE)


def now() -> float:
    return time.monotonic()


def record(**fields: object) -> None:
    """Append one batch's figures (a no-op unless tracing is on)."""
    if not _FILE:
        return
    try:
        with open(_FILE, "a") as out:  # noqa: PTH123 (one short append per batch)
            out.write(json.dumps(fields) + "\n")
    except OSError:
        pass  # a trace must never break a sync
