"""File events from watchdog, debounced into batches of changed paths.

Only the folders the rules can need are watched: the project root itself, and a
recursive watch on each top-level folder that `skip` does not rule out (so
`.venv`, `.git` and ignored trees cost no inotify watches). Symlinks are never
followed. Batches are handed out one at a time; changes made while a batch is
being applied go into the next one.
"""

import queue
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from watchdog.events import DirModifiedEvent, FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch

from devbox.errors import DevboxError
from devbox.runtime.state import STATE_DIR
from devbox.sync.batcher import Batcher

# Events that say a file may have changed. Opening or reading one does not.
_CHANGES = {"created", "deleted", "modified", "moved", "closed"}


class _Handler(FileSystemEventHandler):
    def __init__(self, events: "queue.Queue[str]") -> None:
        self._events = events

    def on_any_event(self, event: FileSystemEvent) -> None:
        # A folder's own "modified" only says its entries changed; those entries have events.
        if event.event_type not in _CHANGES or isinstance(event, DirModifiedEvent):
            return
        self._events.put(str(event.src_path))
        if event.event_type == "moved":  # an atomic save is a move onto the file
            self._events.put(str(event.dest_path))


class ProjectWatcher:
    """Watches `root` and yields batches of changed absolute paths."""

    def __init__(self, root: Path, *, skip: Callable[[Path], bool], batcher: Batcher) -> None:
        self.root = root
        self._skip = skip
        self._batcher = batcher
        self._events: queue.Queue[str] = queue.Queue()
        self._handler = _Handler(self._events)
        self._observer: BaseObserver = Observer()
        self._watched: dict[Path, ObservedWatch] = {}

    def __enter__(self) -> "ProjectWatcher":
        try:
            self._observer.schedule(self._handler, str(self.root), recursive=False)
            for child in sorted(self.root.iterdir()):
                self._watch_folder(child)
            self._observer.start()
        except OSError as exc:
            raise DevboxError(
                f"{self.root}: cannot watch files ({exc.strerror}); raise the inotify limits "
                "(sysctl fs.inotify.max_user_watches / max_user_instances) or ignore big folders "
                "in .dockerignore"
            ) from None
        return self

    def __exit__(self, *exc: object) -> None:
        self._observer.stop()
        self._observer.join(timeout=5)

    @property
    def watched_folders(self) -> int:
        return len(self._watched) + 1

    def _watch_folder(self, path: Path) -> bool:
        """Watch a top-level folder; whether a new watch was added."""
        if path.name == STATE_DIR or path.is_symlink() or not path.is_dir() or self._skip(path):
            return False  # devbox's own state never triggers a batch
        if path in self._watched:
            return False
        self._watched[path] = self._observer.schedule(self._handler, str(path), recursive=True)
        return True

    def batches(self) -> Iterator[frozenset[Path]]:
        """Blocks until a batch is due and yields it; runs until the caller stops iterating."""
        while True:
            deadline = self._batcher.deadline()
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                path = self._events.get(timeout=timeout)
            except queue.Empty:
                pass
            else:
                self._on_path(Path(path))
            batch = self._batcher.take(time.monotonic())
            if batch:
                yield frozenset(Path(p) for p in batch)

    def _on_path(self, path: Path) -> None:
        now = time.monotonic()
        if path.parent == self.root:
            if path.name == STATE_DIR:
                return
            if path in self._watched and not path.is_dir():
                # deleted: forget the dead watch, so a folder created again is watched anew
                self._observer.unschedule(self._watched.pop(path))
            elif self._watch_folder(path):
                # Files written before the watch existed have no events: report them all,
                # as Compose does when a folder is created.
                for inner in path.rglob("*"):
                    self._batcher.add(str(inner), now)
        elif self.root / STATE_DIR in path.parents:
            return
        self._batcher.add(str(path), now)
