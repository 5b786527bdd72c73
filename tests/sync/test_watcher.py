"""The watcher on a real folder (watchdog and inotify, no engine)."""

import errno
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

from devbox.errors import DevboxError
from devbox.sync.batcher import Batcher
from devbox.sync.watcher import ProjectWatcher, looks_temporary


@pytest.fixture
def batches(tmp_path: Path) -> Iterator[list[frozenset[Path]]]:
    (tmp_path / "src").mkdir()
    (tmp_path / ".venv").mkdir()
    seen: list[frozenset[Path]] = []
    watcher = ProjectWatcher(
        tmp_path, skip=lambda d: d.name == ".venv", batcher=Batcher(quiet=0.05, max_wait=0.5)
    )
    with watcher:
        assert watcher.watched_folders == 2  # the root and src/, not .venv
        thread = threading.Thread(
            target=lambda: seen.extend(b for b in watcher.batches()), daemon=True
        )
        thread.start()
        yield seen


def wait(seen: list[frozenset[Path]], count: int) -> frozenset[Path]:
    import time

    deadline = time.monotonic() + 5
    while len(seen) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(seen) >= count, seen
    return frozenset().union(*seen)


def test_atomic_save_reports_the_file(tmp_path: Path, batches: list[frozenset[Path]]) -> None:
    (tmp_path / "src" / "a.py.tmp").write_text("x")
    (tmp_path / "src" / "a.py.tmp").replace(tmp_path / "src" / "a.py")
    assert tmp_path / "src" / "a.py" in wait(batches, 1)


def test_delete_and_new_folder(tmp_path: Path, batches: list[frozenset[Path]]) -> None:
    (tmp_path / "src" / "b.py").write_text("x")
    wait(batches, 1)
    (tmp_path / "src" / "b.py").unlink()
    (tmp_path / "pkg").mkdir()  # a new top-level folder gets watched too
    wait(batches, 2)
    (tmp_path / "pkg" / "c.py").write_text("x")
    paths = wait(batches, 3)
    assert {tmp_path / "src" / "b.py", tmp_path / "pkg", tmp_path / "pkg" / "c.py"} <= paths


def test_skipped_folder_is_not_watched(tmp_path: Path, batches: list[frozenset[Path]]) -> None:
    (tmp_path / ".venv" / "lib.py").write_text("x")
    (tmp_path / "src" / "d.py").write_text("x")
    paths = wait(batches, 1)
    assert tmp_path / ".venv" / "lib.py" not in paths


def test_recreated_folder_is_watched_again(tmp_path: Path, batches: list[frozenset[Path]]) -> None:
    import shutil

    (tmp_path / "pkg").mkdir()
    wait(batches, 1)
    shutil.rmtree(tmp_path / "pkg")
    wait(batches, 2)
    (tmp_path / "pkg").mkdir()
    wait(batches, 3)
    (tmp_path / "pkg" / "again.py").write_text("x")
    assert tmp_path / "pkg" / "again.py" in wait(batches, 4)


def test_state_folder_never_triggers(tmp_path: Path, batches: list[frozenset[Path]]) -> None:
    (tmp_path / ".devbox").mkdir()
    (tmp_path / ".devbox" / "state.json").write_text("{}")
    (tmp_path / "src" / "e.py").write_text("x")
    paths = wait(batches, 1)
    assert not any(".devbox" in p.parts for p in paths)


# watchdog's own recursive walk races the removal too; it only warns about a stale callback
@pytest.mark.filterwarnings("ignore:Callback with id:RuntimeWarning")
def test_folders_created_and_removed_quickly(tmp_path: Path) -> None:
    """A top-level folder gone before it is watched is not watched, and the watcher lives on."""
    import shutil
    import time

    seen: list[frozenset[Path]] = []
    errors: list[BaseException] = []
    watcher = ProjectWatcher(tmp_path, skip=lambda d: False, batcher=Batcher(quiet=0.01))

    def consume() -> None:
        try:
            seen.extend(watcher.batches())
        except BaseException as exc:
            errors.append(exc)

    with watcher:
        thread = threading.Thread(target=consume, daemon=True)
        thread.start()
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline and not errors:
            folder = tmp_path / "burst"
            (folder / "a" / "b" / "c").mkdir(parents=True)
            (folder / "a" / "b" / "c" / "x.py").write_text("x")
            shutil.rmtree(folder)
        (tmp_path / "after.py").write_text("x")
        deadline = time.monotonic() + 5
        while tmp_path / "after.py" not in frozenset().union(*seen) and not errors:
            assert time.monotonic() < deadline, "the change after the burst was not reported"
            time.sleep(0.01)
        assert not errors, errors
        assert tmp_path / "burst" in frozenset().union(*seen)  # its deletion still syncs


class _LimitedObserver(Observer):  # type: ignore[valid-type,misc]
    """inotify that runs out of watches for the paths named in `full`."""

    def __init__(self, full: set[str]) -> None:
        super().__init__()
        self.full = full

    def schedule(self, handler: Any, path: str, **kwargs: Any) -> Any:
        if Path(path).name in self.full:
            raise OSError(errno.ENOSPC, "No space left on device")
        return super().schedule(handler, path, **kwargs)


def _watch(watcher: ProjectWatcher) -> list[frozenset[Path]]:
    seen: list[frozenset[Path]] = []
    threading.Thread(target=lambda: seen.extend(watcher.batches()), daemon=True).start()
    return seen


def test_watch_limit_falls_back_to_polling(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    warnings: list[str] = []
    watcher = ProjectWatcher(
        tmp_path,
        skip=lambda d: False,
        batcher=Batcher(quiet=0.05),
        on_warning=warnings.append,
        observer_factory=lambda: _LimitedObserver({tmp_path.name}),
        poll_interval=0.05,
    )
    with watcher:
        assert watcher.polling
        assert watcher.watched_folders == 2
        seen = _watch(watcher)
        (tmp_path / "src" / "a.py").write_text("x")
        assert tmp_path / "src" / "a.py" in wait(seen, 1)
    assert len(warnings) == 1
    assert "fs.inotify.max_user_watches" in warnings[0]
    assert "polling" in warnings[0]


def test_instance_limit_names_its_sysctl(tmp_path: Path) -> None:
    def no_instances() -> BaseObserver:
        raise OSError(errno.EMFILE, "Too many open files")

    warnings: list[str] = []
    with ProjectWatcher(
        tmp_path,
        skip=lambda d: False,
        batcher=Batcher(),
        on_warning=warnings.append,
        observer_factory=no_instances,
    ) as watcher:
        assert watcher.polling
    assert len(warnings) == 1
    assert "fs.inotify.max_user_instances" in warnings[0]


def test_watch_limit_hit_by_a_new_folder(tmp_path: Path) -> None:
    warnings: list[str] = []
    watcher = ProjectWatcher(
        tmp_path,
        skip=lambda d: False,
        batcher=Batcher(quiet=0.05),
        on_warning=warnings.append,
        observer_factory=lambda: _LimitedObserver({"pkg"}),
        poll_interval=0.05,
    )
    with watcher:
        assert not watcher.polling
        seen = _watch(watcher)
        (tmp_path / "pkg").mkdir()
        wait(seen, 1)
        assert watcher.polling
        (tmp_path / "pkg" / "b.py").write_text("x")
        assert tmp_path / "pkg" / "b.py" in wait(seen, 2)
    assert len(warnings) == 1


def test_other_errors_still_fail(tmp_path: Path) -> None:
    def broken() -> BaseObserver:
        raise OSError(errno.EACCES, "Permission denied")

    with (
        pytest.raises(DevboxError, match="cannot watch files"),
        ProjectWatcher(tmp_path, skip=lambda d: False, batcher=Batcher(), observer_factory=broken),
    ):
        pass


def test_idle_batches_come_while_nothing_changes(tmp_path: Path) -> None:
    import time

    watcher = ProjectWatcher(tmp_path, skip=lambda d: False, batcher=Batcher(quiet=0.05))
    with watcher:
        started = time.monotonic()
        batches = watcher.batches(idle=0.2)
        assert next(batches) == frozenset()
        assert next(batches) == frozenset()
        assert 0.35 < time.monotonic() - started < 2


@pytest.mark.parametrize(
    ("name", "temporary"),
    [
        (".a.py.tmp", True),
        ("a.py___jb_tmp___", True),
        (".goutputstream-QX1Y2Z", True),
        ("tmpab3k_x9z", True),  # Python's tempfile beside the target
        ("a.py", False),
        ("a.py~", False),  # a backup: renamed away from, never onto the target
        (".a.py.swp", False),
        ("tmp_utils.py", False),
    ],
)
def test_temp_files_of_atomic_saves_are_recognised(name: str, temporary: bool) -> None:
    assert looks_temporary(name) is temporary


def test_a_slow_atomic_save_is_one_batch(tmp_path: Path) -> None:
    """An editor that fsyncs its temp file for longer than the quiet window before renaming
    it: the save still arrives as one batch holding the target (no batch with only the
    temp file, which would copy it in and delete it again)."""
    (tmp_path / "src").mkdir()
    batcher = Batcher(quiet=0.005, max_wait=10.0, settle=10.0)
    seen: list[frozenset[Path]] = []
    with ProjectWatcher(tmp_path, skip=lambda d: False, batcher=batcher) as watcher:
        thread = threading.Thread(
            target=lambda: seen.extend(b for b in watcher.batches()), daemon=True
        )
        thread.start()
        tmp = tmp_path / "src" / ".a.py.tmp"
        tmp.write_text("saved")
        time.sleep(0.2)  # 40 quiet windows
        tmp.replace(tmp_path / "src" / "a.py")
        first = wait(seen, 1)
    assert tmp_path / "src" / "a.py" in first


def test_a_file_written_in_pieces_is_batched_once_closed(tmp_path: Path) -> None:
    """A slow writer pauses longer than the quiet window between two writes: no batch
    comes before it closes the file (inotify reports the close), so the container never
    gets half of it."""
    (tmp_path / "src").mkdir()
    batcher = Batcher(quiet=0.005, max_wait=10.0, settle=10.0)
    seen: list[frozenset[Path]] = []
    with ProjectWatcher(tmp_path, skip=lambda d: False, batcher=batcher) as watcher:
        thread = threading.Thread(
            target=lambda: seen.extend(b for b in watcher.batches()), daemon=True
        )
        thread.start()
        with (tmp_path / "src" / "big.py").open("w") as out:
            out.write("first half\n")
            out.flush()
            time.sleep(0.2)  # 40 quiet windows
            assert seen == []
            out.write("second half\n")
        assert tmp_path / "src" / "big.py" in wait(seen, 1)


def test_a_kernel_queue_overflow_rescans_what_changed(tmp_path: Path) -> None:
    """watchdog re-adds its watches after an overflow but the events are lost; its log line
    (the only signal it gives) makes the watcher report every file changed since the run of
    events began (here: written just before the watch, so it had no event), and say so,
    while files older than that stay out of the batch."""
    import logging

    from devbox.sync.watcher import OVERFLOW_SLACK

    (tmp_path / "src").mkdir()
    old = tmp_path / "src" / "old.py"
    old.write_text("x")
    time.sleep(OVERFLOW_SLACK + 0.5)
    lost = tmp_path / "src" / "lost.py"
    lost.write_text("x")  # before the watch: no event, as if the kernel had dropped it
    warnings: list[str] = []
    seen: list[frozenset[Path]] = []
    watcher = ProjectWatcher(
        tmp_path, skip=lambda d: False, batcher=Batcher(quiet=0.05), on_warning=warnings.append
    )
    with watcher:
        thread = threading.Thread(target=lambda: seen.extend(watcher.batches()), daemon=True)
        thread.start()
        (tmp_path / "src" / "seen.py").write_text("x")
        assert lost not in wait(seen, 1)
        logging.getLogger("watchdog.observers.inotify_c").warning(
            "Inotify queue overflowed; filesystem events were lost"
        )
        paths = wait(seen, 2)
    assert lost in paths and old not in paths
    assert len(warnings) == 1 and warnings[0].startswith(
        "the kernel dropped file events (inotify queue overflow): "
    )
    assert "raise `sysctl fs.inotify.max_queued_events`" in warnings[0]
