"""Running, stopping and identifying processes (real processes, no engine)."""

import os
import signal
import subprocess
import sys
import time

import pytest

from devbox.errors import CommandFailed, CommandTimedOut, EngineError, ExitCode
from devbox.runtime import process


def test_run_raises_with_the_command_code_and_last_lines() -> None:
    with pytest.raises(CommandFailed) as caught:
        process.run(["sh", "-c", "echo one; echo two >&2; exit 3"])
    assert (caught.value.returncode, caught.value.output) == (3, ("one", "two"))
    assert (
        caught.value.message == "`sh -c echo one; echo two >&2; exit 3` failed (exit code 3): two"
    )


def test_run_returns_an_expected_failure() -> None:
    assert process.run(["sh", "-c", "exit 4"], check=False).returncode == 4


def test_run_merges_stderr_in_order() -> None:
    result = process.run(["sh", "-c", "echo a; echo b >&2; echo c"], merge=True)
    assert process.text(result.stdout) == "a\nb\nc"


def test_a_missing_program_is_an_engine_error() -> None:
    with pytest.raises(EngineError) as caught:
        process.run(["devbox-no-such-program"])
    assert caught.value.code is ExitCode.ENGINE
    assert caught.value.message == (
        "devbox-no-such-program: command not found; install devbox-no-such-program"
    )


def test_a_timeout_is_a_typed_error() -> None:
    with pytest.raises(CommandTimedOut) as caught:
        process.run(["sleep", "5"], timeout=0.2)
    assert caught.value.output == ("still running after 0.2 s",)


GRANDCHILD = """
import signal, subprocess, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)  # as a background job's child inherits it
child = subprocess.Popen(["sleep", "60"])
print(child.pid, flush=True)
time.sleep(60)
"""


def test_stop_escalates_and_ends_the_whole_group() -> None:
    child = process.start([sys.executable, "-c", GRANDCHILD], stdout=subprocess.PIPE)
    assert child.stdout is not None
    grandchild = int(child.stdout.readline())
    began = time.monotonic()
    process.stop(child, grace=1)
    assert child.returncode is not None
    assert time.monotonic() - began < 8  # SIGINT ignored: SIGTERM after 1 s ended it
    deadline = time.monotonic() + 5
    while process.identity(grandchild) is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.identity(grandchild) is None  # the group went with its leader


def test_identity_of_impossible_and_gone_pids() -> None:
    assert process.identity(os.getpid()) is not None
    for pid in (-1, 0, 1, 2**40):
        assert process.identity(pid) is None
    gone = subprocess.Popen(["true"])
    gone.wait()
    assert process.identity(gone.pid) is None


def test_terminate_never_signals_a_process_it_cannot_identify() -> None:
    stranger = subprocess.Popen(["sleep", "30"])
    try:
        assert not process.terminate(stranger.pid, None, timeout=1)  # unknown start time
        created = process.identity(stranger.pid)
        assert created is not None
        assert not process.terminate(stranger.pid, created + 1, timeout=1)  # a reused pid
        assert stranger.poll() is None
        assert process.terminate(stranger.pid, created, timeout=1)
        assert stranger.wait(timeout=5) == -signal.SIGTERM
    finally:
        stranger.kill()
        stranger.wait()


def test_end_groups_ends_only_recorded_leaders() -> None:
    leader = subprocess.Popen(["sleep", "30"], start_new_session=True)
    other = subprocess.Popen(["sleep", "30"], start_new_session=True)
    try:
        groups = {leader.pid: process.identity(leader.pid), other.pid: None}
        assert process.end_groups(groups) == [leader.pid]
        assert leader.wait(timeout=5) == -signal.SIGTERM
        assert other.poll() is None
    finally:
        for child in (leader, other):
            child.kill()
            child.wait()


@pytest.mark.skipif(sys.platform != "linux", reason="the /proc reading is Linux's")
def test_identity_is_psutils_creation_time_without_importing_it() -> None:
    """Records written with psutil's value must still match: the same float, exactly."""
    import psutil

    child = subprocess.Popen(["sleep", "30"])
    try:
        for pid in (os.getpid(), child.pid, os.getppid()):
            assert process.identity(pid) == psutil.Process(pid).create_time()
    finally:
        child.kill()
        child.wait()
    zombie = subprocess.Popen(["true"])
    deadline = time.monotonic() + 10
    while psutil.Process(zombie.pid).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert process.identity(zombie.pid) is None  # exited, not yet reaped
    zombie.wait()


def test_end_groups_does_not_count_a_group_it_could_not_signal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`down` said "ended 1 leftover process group(s)" of a group it was refused."""
    leader = subprocess.Popen(["sleep", "30"], start_new_session=True)
    try:

        def refused(pid: int, sig: int) -> None:
            raise PermissionError(1, "Operation not permitted")

        monkeypatch.setattr(os, "killpg", refused)
        groups = {leader.pid: process.identity(leader.pid)}
        assert process.end_groups(groups) == []
        assert leader.poll() is None
    finally:
        leader.kill()
        leader.wait()


def test_a_failed_commands_reason_is_its_last_stderr_line_else_stdout_else_the_fallback() -> None:
    def done(code: int, stdout: bytes, stderr: bytes) -> process.Result:
        return subprocess.CompletedProcess(["x"], code, stdout, stderr)

    assert process.reason(done(1, b"out\n", b"first\n  last  \n\n")) == "last"
    assert process.reason(done(126, b"OCI runtime exec failed\n", b"")) == "OCI runtime exec failed"
    assert process.reason(done(137, b"", b"  \n")) == "exit code 137"
    assert process.reason(done(1, b"", b""), "no output") == "no output"
    assert process.last_line(["a", "b", "  "]) == "b"
    assert process.last_line("") == "no output"
    failed = CommandFailed(["uv", "lock"], 1, ["error: one", "  two  ", ""])
    assert failed.reason == "two"
