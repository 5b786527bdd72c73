"""Ctrl-C and SIGTERM for the long-running commands: one context, used everywhere.

Inside `interruptible`, SIGTERM behaves as Ctrl-C; either ends the block with
`Interrupted` (exit code 130 at the entry point) after the clean-up ran, and the
clean-up itself is shielded, so a second Ctrl-C cannot leave a container behind.
"""

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

from devbox.errors import Interrupted
from devbox.output import Echo


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def shielded() -> Iterator[None]:
    """Ignore Ctrl-C and SIGTERM while cleaning up."""
    if not _main_thread():
        yield
        return
    previous = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def interruptible(
    *,
    cleanup: Callable[[], object] | None = None,
    stopping: str | None = None,
    echo: Echo | None = None,
) -> Iterator[None]:
    """Run a block that Ctrl-C or SIGTERM may end, then `cleanup` whatever happened.

    An interruption says `stopping: <stopping>` (when given) and becomes `Interrupted`.
    """
    previous = signal.signal(signal.SIGTERM, _interrupt) if _main_thread() else None
    try:
        yield
    except KeyboardInterrupt:
        if stopping and echo is not None:
            echo(f"stopping: {stopping}")
        raise Interrupted() from None
    finally:
        if cleanup is not None:
            with shielded():
                cleanup()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


@contextmanager
def deferred() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM back until the block ends, then act on them: for the few
    lines between starting a child and recording it, which an interruption must not split
    (an unrecorded child is never stopped)."""
    if not _main_thread():
        yield
        return
    caught: list[int] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        caught.append(signum)

    previous = {s: signal.signal(s, hold) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if caught:
            signal.raise_signal(caught[0])
