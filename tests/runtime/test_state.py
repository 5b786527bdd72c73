import json
import os
import subprocess
import tempfile
from pathlib import Path

import pytest

from devbox.runtime import process, state
from tests.fakes import session_record


def record(pid: int) -> state.State:
    return session_record(pid)


def test_round_trip_and_clear(tmp_path: Path) -> None:
    saved = record(os.getpid())
    saved.last = state.Last(what="src/a.py: sync", seconds=0.01, at=1.0)
    state.save(tmp_path, saved)
    loaded = state.load(tmp_path)
    assert loaded == saved and loaded.alive()
    state.clear(tmp_path, pid=os.getpid() + 1)  # someone else's: kept
    assert state.load(tmp_path) is not None
    state.clear(tmp_path, pid=os.getpid())
    assert state.load(tmp_path) is None


def test_dead_pid_is_stale(tmp_path: Path) -> None:
    child = subprocess.Popen(["true"])
    child.wait()
    assert not record(child.pid).alive()


def test_corrupt_record_counts_as_none(tmp_path: Path) -> None:
    state.state_path(tmp_path).parent.mkdir()
    state.state_path(tmp_path).write_text("{not json")
    assert state.load(tmp_path) is None


def test_a_reused_pid_is_not_the_session(tmp_path: Path) -> None:
    saved = record(os.getpid())
    saved.pid_start = 1.0  # another process's start time: this pid was reused
    assert not saved.alive()


def test_pids_that_would_signal_many_processes_are_refused(tmp_path: Path) -> None:
    for pid in (-1, 0, 1):
        state.save(tmp_path, record(pid))
        assert state.load(tmp_path) is None
        assert process.identity(pid) is None


def test_children_are_tracked_while_they_live(tmp_path: Path) -> None:
    saved = record(os.getpid())
    child = subprocess.Popen(["sleep", "30"])
    try:
        saved.add_child(child.pid)
        saved.children["999999"] = 1.0  # a long-gone process: never reported
        state.save(tmp_path, saved)
        loaded = state.load(tmp_path)
        assert loaded is not None and list(loaded.live_children()) == [child.pid]
    finally:
        child.kill()
        child.wait()
    assert list(loaded.live_children()) == []


def test_a_second_session_is_refused_while_the_first_holds_the_lock(tmp_path: Path) -> None:
    import pytest

    from devbox.errors import UsageError

    state.save(tmp_path, record(os.getpid()))
    with state.session_lock(tmp_path):
        with pytest.raises(UsageError) as caught, state.session_lock(tmp_path):
            pass
        assert caught.value.message == (
            f"devbox up is already running for {tmp_path} (pid {os.getpid()}); "
            "`devbox down` stops it"
        )
    with state.session_lock(tmp_path):  # released with its holder
        pass


def test_a_file_named_devbox_is_a_clear_error(tmp_path: Path) -> None:
    import pytest

    from devbox.errors import ConfigError

    (tmp_path / ".devbox").write_text("mine")
    with pytest.raises(ConfigError) as caught:
        state.save(tmp_path, record(os.getpid()))
    assert caught.value.message == (
        f"{tmp_path / '.devbox'}: cannot write devbox's session state there (File exists); "
        "make the project folder writable, or move away a file named .devbox"
    )
    assert (tmp_path / ".devbox").read_text() == "mine"


def test_mistyped_records_count_as_none(tmp_path: Path) -> None:
    path = state.state_path(tmp_path)
    path.parent.mkdir()
    for text in ('{"pid": 2e30}', '{"pid": "12"}', "[1]", '{"pid": true}', "null"):
        path.write_text(text)
        assert state.load(tmp_path) is None


def test_the_recorder_keeps_a_bounded_list_of_save_to_applied_times(tmp_path: Path) -> None:
    recorder = state.Recorder(tmp_path, session_record(os.getpid()))
    for i in range(state.KEEP_LATENCIES + 5):
        recorder.applied("src/a.py: copy 1, delete 0", 0.01, latency=i / 1000)
    recorder.applied("uv.lock: rebuild", 2.0)  # no save->applied figure: not counted
    loaded = state.load(tmp_path)
    assert loaded is not None
    assert len(loaded.latencies) == state.KEEP_LATENCIES
    assert loaded.latencies[0] == 0.005 and loaded.latencies[-1] == 0.204
    assert loaded.batches == state.KEEP_LATENCIES + 6  # every batch counts
    assert state.percentile([0.03, 0.01, 0.02], 0.5) == 0.02
    assert state.percentile([float(i) for i in range(1, 101)], 0.95) == 95.0


def test_the_recorder_counts_every_batch_beyond_the_kept_latencies(tmp_path: Path) -> None:
    recorder = state.Recorder(tmp_path, session_record(os.getpid()))
    for i in range(state.KEEP_LATENCIES + 5):
        recorder.applied("src/a.py: copy 1, delete 0", 0.01, latency=i / 1000)
    recorder.applied("uv.lock: uv sync", 2.0)
    loaded = state.load(tmp_path)
    assert loaded is not None and loaded.batches == state.KEEP_LATENCIES + 6
    path = state.state_path(tmp_path)
    path.write_text(path.read_text().replace(f'"batches": {loaded.batches}', '"batches": "x"'))
    mistyped = state.load(tmp_path)
    assert mistyped is not None and mistyped.batches == 0


def test_a_record_with_mistyped_latencies_keeps_only_the_numbers(tmp_path: Path) -> None:
    state.save(tmp_path, session_record(os.getpid()))
    path = state.state_path(tmp_path)
    text = path.read_text().replace('"latencies": []', '"latencies": [0.1, "x", true]')
    path.write_text(text.replace('"batches": 0', '"batches": "many"'))
    loaded = state.load(tmp_path)
    assert loaded is not None and loaded.latencies == [0.1] and loaded.batches == 0


def test_a_record_that_cannot_be_written_warns_once_and_the_session_goes_on(
    tmp_path: Path,
) -> None:
    warnings: list[str] = []
    recorder = state.Recorder(tmp_path, session_record(os.getpid()), warn=warnings.append)
    (tmp_path / state.STATE_DIR).write_text("a file where the folder goes")
    recorder.applied("src/a.py: copy 1, delete 0", 0.01)
    recorder.ready("c")
    assert warnings == [
        f"cannot update {state.state_path(tmp_path)} (not writable); the session goes on, "
        "but `devbox status` and `down` may show an older state"
    ]
    state.clear(tmp_path, pid=os.getpid())  # nothing to remove, no error
    (tmp_path / state.STATE_DIR).unlink()
    recorder.applied("src/b.py: copy 1, delete 0", 0.01)  # writable again: saved
    loaded = state.load(tmp_path)
    assert loaded is not None and loaded.ready and loaded.last is not None
    assert loaded.last.what == "src/b.py: copy 1, delete 0"
    assert len(warnings) == 1


def test_a_detached_sessions_log_is_outside_the_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inside the tree, the app's request log would starve Compose watch's debouncer."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    project = tmp_path / "shop"
    project.mkdir()
    log = state.log_path(project)
    assert log.parent.parent == tmp_path / "state" / "devbox"
    assert log.name == "up.log" and log.parent.name.startswith("shop-")
    assert not log.is_relative_to(project)
    assert log.parent.stat().st_mode & 0o077 == 0  # the app's output is the user's alone
    assert state.log_path(project) == log  # the same folder every time: status can find it
    other = tmp_path / "elsewhere" / "shop"
    other.mkdir(parents=True)
    assert state.log_path(other) != log  # two projects of one name keep their own logs


def test_a_state_home_inside_the_project_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "home"  # HOME is the project (a container's /app, say)
    project.mkdir()
    monkeypatch.setenv("XDG_STATE_HOME", str(project / ".local/state"))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    log = state.log_path(project)
    assert log.is_relative_to(tmp_path / "tmp") and not (project / ".local").exists()


def test_no_folder_for_the_log_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from devbox.errors import ConfigError

    (tmp_path / "file").write_text("")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "file"))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "file"))
    with pytest.raises(ConfigError) as caught:
        state.log_path(tmp_path / "shop")
    assert caught.value.message == (
        "no folder outside the project for the background session's log "
        f"({tmp_path / 'file'}/devbox: Not a directory; "
        f"{tmp_path / 'file'}/devbox-{os.getuid()}: Not a directory); "
        "set XDG_STATE_HOME to a writable folder"
    )


def test_a_copied_project_does_not_own_the_originals_record(tmp_path: Path) -> None:
    """`cp -a` copies `.devbox/state.json`: the copy must not stop, exec in or write for
    the original's session."""
    original = tmp_path / "shop"
    original.mkdir()
    state.save(original, record(os.getpid()))
    copy = tmp_path / "copy"
    subprocess.run(["cp", "-a", str(original), str(copy)], check=True)
    assert state.load(original) is not None
    assert state.load(copy) is None
    state.refuse_if_running(copy)  # the original's live session does not block the copy
    # The same path, another folder: the original moved away, a copy put in its place.
    original.rename(tmp_path / "moved")
    subprocess.run(["cp", "-a", str(tmp_path / "moved"), str(original)], check=True)
    assert state.load(original) is None
    saved = json.loads(state.state_path(copy).read_text())
    assert saved["project_dir"] == str(tmp_path / "shop")


@pytest.mark.parametrize(
    ("field", "value", "why"),
    [
        ("children", {"abc": 1}, "children must map process ids to start times"),
        ("children", [1], "children must map process ids to start times"),
        ("pid", 1e400, "pid must be a process id"),
        ("container", 5, "container must be a string or null"),
        ("services", "app", "services must be a list of names"),
        ("detached", "yes", "detached must be true or false"),
    ],
)
def test_a_corrupt_record_is_set_aside_with_a_warning(
    tmp_path: Path, field: str, value: object, why: str
) -> None:
    state.save(tmp_path, record(os.getpid()))
    path = state.state_path(tmp_path)
    data = json.loads(path.read_text())
    data[field] = value
    path.write_text(json.dumps(data))
    assert state.load(tmp_path) is None  # no warning channel: ignored, left in place
    assert path.exists()
    warnings: list[str] = []
    assert state.load(tmp_path, warn=warnings.append) is None
    assert not path.exists()
    [aside] = path.parent.glob("state.corrupt-*.json")
    assert json.loads(aside.read_text())[field] == value  # kept for a look, never trusted
    assert warnings == [
        f"{path}: corrupt session record ({why}); set aside as {aside.name} and ignored"
    ]


def test_figures_of_the_wrong_type_are_dropped_not_fatal(tmp_path: Path) -> None:
    state.save(tmp_path, record(os.getpid()))
    path = state.state_path(tmp_path)
    text = path.read_text()
    text = text.replace('"batches": 0', '"batches": 1e400').replace(
        '"last": null', '"last": {"at": null}'
    )
    path.write_text(text)
    loaded = state.load(tmp_path)
    assert loaded is not None and loaded.batches == 0 and loaded.last is None
    for broken in ("[" * 100_000, '{"pid": ' + "9" * 5000 + "}"):
        path.write_text(broken)
        warnings: list[str] = []
        assert state.load(tmp_path, warn=warnings.append) is None and len(warnings) == 1


def test_a_folder_where_the_record_goes_is_refused_before_a_detached_start(
    tmp_path: Path,
) -> None:
    from devbox.errors import ConfigError

    state.state_path(tmp_path).mkdir(parents=True)
    with pytest.raises(ConfigError) as caught:
        state.refuse_if_running(tmp_path)
    assert caught.value.message == (
        f"{state.state_path(tmp_path)}: is not a file (devbox records the session there); "
        "move it away"
    )


@pytest.fixture
def unusable_state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """XDG_STATE_HOME unusable (a file): the log goes to the shared temp folder."""
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "file"))
    shared = tmp_path / "tmp"
    shared.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(shared))
    (tmp_path / "shop").mkdir()
    return shared / f"devbox-{os.getuid()}"


def test_the_shared_temp_folder_is_made_private(unusable_state_home: Path) -> None:
    log = state.log_path(unusable_state_home.parent.parent / "shop")
    assert log.parent.parent == unusable_state_home
    for folder in (unusable_state_home, log.parent):
        assert folder.stat().st_mode & 0o777 == 0o700 and folder.stat().st_uid == os.getuid()
    with state.open_log(log) as out:
        out.write(b"ok\n")
    assert log.read_bytes() == b"ok\n" and log.stat().st_mode & 0o077 == 0


def test_a_planted_link_in_the_shared_temp_folder_is_refused(
    unusable_state_home: Path, tmp_path: Path
) -> None:
    """Another user made `devbox-<uid>` a link: devbox followed it and truncated a file
    the link pointed at."""
    from devbox.errors import ConfigError

    victim = tmp_path / "victim"
    victim.mkdir()
    unusable_state_home.symlink_to(victim)
    with pytest.raises(ConfigError) as caught:
        state.log_path(tmp_path / "shop")
    assert f"{unusable_state_home}: a symbolic link, not a folder devbox made (refused)" in (
        caught.value.message
    )
    assert list(victim.iterdir()) == []


def test_a_shared_temp_folder_open_to_others_is_refused(unusable_state_home: Path) -> None:
    from devbox.errors import ConfigError

    unusable_state_home.mkdir(mode=0o777)
    unusable_state_home.chmod(0o777)
    with pytest.raises(ConfigError) as caught:
        state.log_path(unusable_state_home.parent.parent / "shop")
    assert "mode 777, open to other users; devbox needs 0700" in caught.value.message


def test_a_shared_temp_folder_of_another_user_is_refused(
    unusable_state_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from devbox.errors import ConfigError

    unusable_state_home.mkdir(mode=0o700)
    monkeypatch.setattr(os, "getuid", lambda: unusable_state_home.stat().st_uid + 1)
    with pytest.raises(ConfigError) as caught:
        state.log_path(unusable_state_home.parent.parent / "shop")
    assert "not by you (refused)" in caught.value.message


def test_the_log_is_never_opened_through_a_link(tmp_path: Path) -> None:
    from devbox.errors import ConfigError

    target = tmp_path / "root-owned"
    target.write_text("precious")
    (tmp_path / "up.log").symlink_to(target)
    with pytest.raises(ConfigError) as caught:
        state.open_log(tmp_path / "up.log")
    assert caught.value.message == (
        f"{tmp_path / 'up.log'}: cannot write the session's log there (a symbolic link "
        "(refused)); remove it"
    )
    assert target.read_text() == "precious"
