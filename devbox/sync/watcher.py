"""File events from watchdog, debounced into batches of changed paths.

Only the folders the rules can need are watched: the project root itself, and a
recursive watch on each top-level folder that `skip` does not rule out (so
`.venv`, `.git` and ignored trees cost no inotify watches). Symlinks are never
followed. Batches are handed out one at a time; changes made while a batch is
being applied go into the next one.
"""

import contextlib
import errno
import logging
import math
import os
import queue
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirModifiedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch
from watchdog.observers.polling import PollingObserver

from devbox.errors import DevboxError
from devbox.runtime.state import STATE_DIR
from devbox.sync.batcher import Batcher

ObserverFactory = Callable[[], BaseObserver]

POLL_INTERVAL = 1.0  # seconds between scans once inotify is out of watches or instances

# The inotify limit behind each errno, and what running out of it means.
_LIMITS = {
    errno.ENOSPC: ("fs.inotify.max_user_watches", "watch", 524288),
    errno.EMFILE: ("fs.inotify.max_user_instances", "instance", 1024),
}

# Events that say a file may have changed. Opening or reading one does not.
_CHANGES = {"created", "deleted", "modified", "moved", "closed"}


class _Handler(FileSystemEventHandler):
    """Puts (when, path, hold) on the queue: stamped here, on watchdog's thread, so the time
    an event waited in the queue (while a batch was applied) counts towards its batch's
    `max_wait` and its save->applied figure."""

    def __init__(self, events: "queue.Queue[_Event]") -> None:
        self._events = events
        self.reports_closes = False  # inotify says when a written file is closed
        # Wall time the current run of events began (no gap over BURST_GAP): the kernel
        # can only have dropped events that happened after it.
        self.burst_start = time.time()
        self._last = 0.0

    def on_any_event(self, event: FileSystemEvent) -> None:
        # A folder's own "modified" only says its entries changed; those entries have events.
        kind = event.event_type
        if kind not in _CHANGES or isinstance(event, DirModifiedEvent):
            return
        now = time.monotonic()
        if now - self._last > BURST_GAP:
            self.burst_start = time.time()
        self._last = now
        path = os.fsdecode(event.src_path)
        if kind == "moved":  # an atomic save is a move onto the file: both ends are released
            self._events.put((now, path, False))
            self._events.put((now, os.fsdecode(event.dest_path), False))
            return
        if event.is_directory or kind == "deleted":
            self._events.put((now, path, False))
            return
        # A file created or written is held until it is closed (where closes are reported);
        # an editor's temp file, until it is renamed or deleted.
        temporary = looks_temporary(path.rpartition(os.sep)[2])
        hold = temporary or (self.reports_closes and kind in ("created", "modified"))
        self._events.put((now, path, hold))


_Event = tuple[float, str, bool]

BURST_GAP = 1.0  # seconds without events that end a run of them
OVERFLOW = "\0overflow"  # queued when the kernel dropped events: not a path
WATCHDOG_LOGGER = "watchdog.observers.inotify_c"
OVERFLOW_SLACK = 2.0  # seconds before the run's start a rescan looks back (timestamp ticks)


class _OverflowSignal(logging.Handler):
    """watchdog says a kernel queue overflow only in a log line (it re-adds its watches, but
    the events are lost): that line queues OVERFLOW, so the watcher rescans."""

    def __init__(self, events: "queue.Queue[_Event]") -> None:
        super().__init__(logging.WARNING)
        self._events = events

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("Inotify queue overflowed; filesystem events"):
            self._events.put((time.monotonic(), OVERFLOW, False))


# Names editors and libraries give the temp file of an atomic save (write it, then rename it
# onto the target). Swap, lock and backup files are not renamed onto anything: not listed.
_TEMP_SUFFIXES = (".tmp", ".temp", "___jb_tmp___", ".crswap", ".vsctmp")
_TEMP_PREFIXES = (".goutputstream-",)


def looks_temporary(name: str) -> bool:
    """Whether `name` looks like the temp file of an atomic save (pure)."""
    if name.endswith(_TEMP_SUFFIXES) or name.startswith(_TEMP_PREFIXES):
        return True
    # Python's tempfile in the target's folder: `tmp` and 8 random characters.
    return len(name) == 11 and name.startswith("tmp") and "." not in name


# What the fallback needs from watchdog; the kernel is not even asked for opens and reads.
_EVENT_FILTER = [
    FileCreatedEvent,
    DirCreatedEvent,
    FileModifiedEvent,
    FileDeletedEvent,
    DirDeletedEvent,
    FileMovedEvent,
    DirMovedEvent,
    FileClosedEvent,
]


def _ignore_warning(message: str) -> None:
    """The default `on_warning`: callers with a terminal pass their echo."""


def _folder_identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of a real folder at `path`; None if gone, a file or a symlink."""
    try:
        st = path.lstat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino) if path.is_dir() and not path.is_symlink() else None


def _contents(folder: Path) -> list[Path]:
    """Everything under `folder` now; whatever vanishes meanwhile is simply not listed."""
    found: list[Path] = []
    for parent, dirs, files in os.walk(folder):  # errors are ignored; links are not followed
        found += [Path(parent, name) for name in (*dirs, *files)]
    return found


class ProjectWatcher:
    """Watches `root` and yields batches of changed absolute paths.

    When inotify runs out of watches or instances, it says which sysctl to raise through
    `on_warning` and polls instead: slower, but a session that syncs beats one that stops.
    """

    def __init__(
        self,
        root: Path,
        *,
        skip: Callable[[Path], bool],
        batcher: Batcher,
        on_warning: Callable[[str], None] = _ignore_warning,
        observer_factory: ObserverFactory = Observer,
        poll_interval: float = POLL_INTERVAL,
    ) -> None:
        self.root = root
        self._root_name = str(root)
        self._state_prefix = f"{self._root_name}{os.sep}{STATE_DIR}{os.sep}"
        self._skip = skip
        self._batcher = batcher
        self._on_warning = on_warning
        self._factory = observer_factory
        self._poll_interval = poll_interval
        self._events: queue.Queue[_Event] = queue.Queue()
        self._handler = _Handler(self._events)
        self._overflow = _OverflowSignal(self._events)
        self._observer: BaseObserver | None = None
        self._watched: dict[Path, tuple[ObservedWatch, tuple[int, int]]] = {}
        self.polling = False

    def __enter__(self) -> "ProjectWatcher":
        logging.getLogger(WATCHDOG_LOGGER).addHandler(self._overflow)
        try:
            try:
                self._start(self._factory)
            except OSError as exc:
                if exc.errno not in _LIMITS:
                    raise
                self._fall_back_to_polling(exc)
        except OSError as exc:
            raise DevboxError(
                f"{self.root}: cannot watch files ({exc.strerror}); raise the inotify limits "
                "(sysctl fs.inotify.max_user_watches / max_user_instances) or ignore big folders "
                "in .dockerignore"
            ) from None
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop()
        logging.getLogger(WATCHDOG_LOGGER).removeHandler(self._overflow)

    @property
    def watched_folders(self) -> int:
        return len(self._watched) + 1

    def _start(self, factory: ObserverFactory) -> None:
        """Watch the root and its top-level folders with a new observer."""
        self._watched.clear()
        self._observer = factory()
        self._handler.reports_closes = type(self._observer).__name__ == "InotifyObserver"
        try:
            self._observer.schedule(
                self._handler, str(self.root), recursive=False, event_filter=_EVENT_FILTER
            )
            for child in sorted(self.root.iterdir()):
                self._watch_folder(child)
            self._observer.start()
        except BaseException:
            self._observer = None  # never started: nothing to stop
            raise

    def _stop(self) -> None:
        if self._observer is not None and self._observer.is_alive():
            self._observer.stop()
            self._observer.join(timeout=5)
        self._observer = None

    def _fall_back_to_polling(self, exc: OSError) -> None:
        """Replace inotify with a polling observer, saying which limit to raise."""
        sysctl, kind, suggested = _LIMITS[exc.errno or 0]
        self._stop()
        self._on_warning(
            f"inotify {kind} limit reached ({exc.strerror}): polling for changes every "
            f"{self._poll_interval:g} s instead; to watch again, raise it with "
            f"`sudo sysctl {sysctl}={suggested}`"
        )
        self.polling = True
        self._start(lambda: PollingObserver(timeout=self._poll_interval))

    def _watch_folder(self, path: Path) -> bool:
        """Watch a top-level folder; whether a new watch was added."""
        if path.name == STATE_DIR or path in self._watched:
            return False  # devbox's own state never triggers a batch
        identity = _folder_identity(path)
        if identity is None or self._skip(path):
            return False
        assert self._observer is not None
        try:
            watch = self._observer.schedule(
                self._handler, str(path), recursive=True, event_filter=_EVENT_FILTER
            )
        except (FileNotFoundError, NotADirectoryError):
            return False  # gone already: its event is still reported, so a delete syncs
        except OSError as exc:
            if exc.errno not in _LIMITS or self.polling or not self._observer.is_alive():
                raise  # while starting, __enter__ falls back
            self._fall_back_to_polling(exc)  # watches everything again, this folder included
            return path in self._watched
        self._watched[path] = (watch, identity)
        return True

    def _unwatch_folder(self, path: Path) -> None:
        watch, _ = self._watched.pop(path)
        if self._observer is not None:
            with contextlib.suppress(KeyError):  # the observer dropped it already
                self._observer.unschedule(watch)

    def batches(self, *, idle: float | None = None) -> Iterator[frozenset[Path]]:
        """Blocks until a batch is due and yields it; runs until the caller stops iterating.

        With `idle`, an empty batch comes after every `idle` seconds without one, so the
        caller can look after other things (the container's health) between edits."""
        last = time.monotonic()
        while True:
            deadline = self._batcher.deadline()
            if idle is not None:
                deadline = min(deadline or math.inf, last + idle)
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                event = self._events.get(timeout=timeout)
            except queue.Empty:
                pass
            else:
                # Everything queued meanwhile (during the last batch) joins the batcher
                # before it decides, so a batch due at once still takes all of it.
                self._on_event(*event)
                with contextlib.suppress(queue.Empty):
                    while True:
                        self._on_event(*self._events.get_nowait())
            batch = self._batcher.take(time.monotonic())
            if batch:
                last = time.monotonic()
                yield frozenset(Path(p) for p in batch)
            elif idle is not None and time.monotonic() >= last + idle:
                last = time.monotonic()
                yield frozenset()

    def resend(self, path: Path) -> None:
        """Sync `path` again as if it had been saved (any thread): the write-back's way to
        put the host's version back where the container's lost to it."""
        self._events.put((time.monotonic(), str(path), False))

    def _on_event(self, now: float, name: str, hold: bool) -> None:
        if name == OVERFLOW:
            self._rescan(now)
            return
        # Plain string tests: a burst of `git checkout` brings thousands of events.
        if name.startswith(self._state_prefix):
            return  # devbox's own state never triggers a batch
        if name.rpartition(os.sep)[0] == self._root_name:  # a top-level entry
            path = Path(name)
            if path.name == STATE_DIR:
                return
            watched = self._watched.get(path)
            if watched is not None and watched[1] != _folder_identity(path):
                # deleted or replaced: forget the dead watch, so a folder there now is watched
                self._unwatch_folder(path)
            if self._watch_folder(path):
                # Files written before the watch existed have no events: report them all,
                # as Compose does when a folder is created.
                for inner in _contents(path):
                    self._batcher.add(str(inner), now)
        self._batcher.add(name, now, hold=hold)

    def _rescan(self, now: float) -> None:
        """The kernel dropped events: every watched file changed since the run of events
        began joins the batcher, so nothing stays stale (a deletion the kernel dropped is
        not seen: it is said)."""
        since = self._handler.burst_start - OVERFLOW_SLACK
        changed = [
            path
            for path in changed_since(self.root, since, self._skip)
            if not str(path).startswith(self._state_prefix)
        ]
        for path in changed:
            self._batcher.add(str(path), now)
        self._on_warning(
            f"the kernel dropped file events (inotify queue overflow): {len(changed)} files "
            "changed meanwhile are synced again; files deleted meanwhile may stay in the "
            "container until they change again (raise `sysctl fs.inotify.max_queued_events`)"
        )


def changed_since(root: Path, since: float, skip: Callable[[Path], bool]) -> list[Path]:
    """Files under `root` (not in skipped folders, links not followed) whose content or
    metadata changed at or after `since` (wall clock)."""
    found: list[Path] = []
    for parent, dirs, files in os.walk(root):
        here = Path(parent)
        dirs[:] = [d for d in dirs if d != STATE_DIR and not skip(here / d)]
        for name in files:
            path = here / name
            try:
                st = path.lstat()
            except OSError:
                continue
            if max(st.st_mtime, st.st_ctime) >= since:
                found.append(path)
    return found


def watch_needs(root: Path, skip: Callable[[Path], bool]) -> tuple[int, int]:
    """(inotify watches, inotify instances) a `ProjectWatcher` on `root` would take: one
    watch per folder it covers (recursive watches cover every subfolder), one instance
    per scheduled watch (watchdog opens one per watch), the root included."""
    folders, instances = 1, 1
    for child in sorted(root.iterdir()):
        if child.name == STATE_DIR or _folder_identity(child) is None or skip(child):
            continue
        instances += 1
        folders += 1 + sum(len(dirs) for _, dirs, _ in os.walk(child))
    return folders, instances
