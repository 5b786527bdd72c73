"""The watcher on a real folder (watchdog and inotify, no engine)."""

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from devbox.sync.batcher import Batcher
from devbox.sync.watcher import ProjectWatcher


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
