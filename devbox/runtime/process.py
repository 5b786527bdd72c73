"""Every subprocess devbox starts goes through here, logged, as an argument list; and
the identity checks that keep devbox from ever signalling a process it did not start.

User text never reaches a shell: callers pass argv lists only.
"""

import contextlib
import logging
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import IO

from devbox.errors import CommandFailed, CommandTimedOut, EngineError

log = logging.getLogger("devbox.process")

Result = subprocess.CompletedProcess[bytes]
Child = subprocess.Popen[bytes]
PIPE = subprocess.PIPE
TimeoutExpired = subprocess.TimeoutExpired
TAIL = 40  # output lines an error keeps


def _env(extra: Mapping[str, str] | None) -> dict[str, str] | None:
    return None if extra is None else {**os.environ, **extra}


def _not_found(argv: Sequence[str]) -> EngineError:
    return EngineError(f"{argv[0]}: command not found; install {argv[0]}")


def text(data: bytes | None) -> str:
    return (data or b"").decode(errors="replace").strip()


def last_line(output: str | Sequence[str], fallback: str = "no output") -> str:
    """The last line of some output that is not blank, stripped; else `fallback`."""
    lines = output.splitlines() if isinstance(output, str) else output
    return next((s for line in reversed(lines) if (s := line.strip())), fallback)


def reason(result: Result, fallback: str | None = None) -> str:
    """Why a finished command failed, in one line: the last line of its stderr, else of its
    stdout (the docker CLI says some failures there), else `fallback` (by default its exit
    code)."""
    said = text(result.stderr) or text(result.stdout)
    return last_line(said, fallback or f"exit code {result.returncode}")


def run(
    argv: Sequence[str],
    *,
    check: bool = True,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    input: bytes | None = None,
    capture: bool = True,
    merge: bool = False,
    timeout: float | None = None,
) -> Result:
    """Run to completion. A non-zero exit raises `CommandFailed` (the command, its code and
    its last output lines) unless `check=False` says the caller expects and reads it.

    `merge` sends a captured stderr into stdout, interleaved as written.
    """
    log.debug("run: %s", shlex.join(argv))
    try:
        result = subprocess.run(
            list(argv),
            cwd=cwd,
            env=_env(env),
            input=input,
            stdout=subprocess.PIPE if capture else None,
            stderr=(subprocess.STDOUT if merge else subprocess.PIPE) if capture else None,
            timeout=timeout,
            check=False,
        )
    except (FileNotFoundError, PermissionError):
        raise _not_found(argv) from None
    except subprocess.TimeoutExpired:
        raise CommandTimedOut(argv, timeout or 0) from None
    if check and result.returncode != 0:
        output = (text(result.stdout) + "\n" + text(result.stderr)).strip().splitlines()
        raise CommandFailed(argv, result.returncode, output[-TAIL:])
    return result


def start(
    argv: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    stdin: int | IO[bytes] | None = None,
    stdout: int | IO[bytes] | None = None,
    stderr: int | IO[bytes] | None = None,
) -> Child:
    """Start a long-running child in a process group of its own (`setsid`).

    It does not receive the terminal's Ctrl-C: devbox decides how to stop it (`stop`,
    which signals its whole process group) and cleans up after it, in that order.
    Its stdin is /dev/null unless `stdin` (e.g. PIPE, to feed it a stream) says otherwise.
    """
    log.debug("start: %s", shlex.join(argv))
    try:
        return subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=_env(env),
            stdin=subprocess.DEVNULL if stdin is None else stdin,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
    except (FileNotFoundError, PermissionError):
        raise _not_found(argv) from None


def stop(child: Child, *, grace: float = 10.0) -> None:
    """Stop a child as Ctrl-C would; if it does not within 3 s (it may have inherited an
    ignored SIGINT, as background jobs do), SIGTERM, then SIGKILL after `grace` seconds."""
    for sig, wait in ((signal.SIGINT, min(3.0, grace)), (signal.SIGTERM, grace)):
        if child.poll() is not None:
            break
        _signal_group(child, sig)
        try:
            child.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    else:
        _signal_group(child, signal.SIGKILL)
        child.wait()
    # The leader may be gone while the rest of its group is not (a CLI's plugin child).
    _signal_group(child, signal.SIGTERM)


def _signal_group(child: Child, sig: int) -> None:
    """Signal the child's whole process group: `docker compose` runs the Compose plugin as
    a child of the docker CLI, and a signal to the CLI alone orphans the plugin."""
    try:
        os.killpg(child.pid, sig)
    except (ProcessLookupError, PermissionError):
        if child.poll() is None:
            child.send_signal(sig)


# --- identity: a pid is only ever signalled while it is the process devbox started ---


def identity(pid: int) -> float | None:
    """The process's creation time as psutil gives it, or None when there is none.

    On Linux it is read from /proc the way psutil reads it (the same float, so records
    agree either way): importing psutil would cost `devbox shell` a fifth of its start-up.
    """
    if not 1 < pid <= 2**22:
        return None  # never a devbox process; os.kill(-1 or 0, ...) would hit many
    if sys.platform == "linux":
        return _proc_identity(pid)
    import psutil

    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return None
        return process.create_time()
    except (psutil.Error, OverflowError):
        return None


def _proc_identity(pid: int) -> float | None:
    """Linux: start time in clock ticks after boot (/proc/PID/stat, field 22) over the tick
    rate, plus the boot time (/proc/stat btime), in psutil's arithmetic; None for a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_bytes().splitlines()
            if line.startswith(b"btime")
        )
    except (OSError, StopIteration, IndexError, ValueError):
        return None
    fields = stat[stat.rindex(b")") + 2 :].split()  # the name may hold spaces and parens
    if len(fields) < 20 or fields[0] == b"Z":
        return None
    return float(fields[19]) / os.sysconf("SC_CLK_TCK") + boot


def same_process(pid: int, created: float | None) -> bool:
    """Whether `pid` is alive and still the process that was created at `created`.

    An unknown `created` proves nothing, so it never matches.
    """
    return created is not None and identity(pid) == created


def terminate(pid: int, created: float | None, *, timeout: float) -> bool:
    """SIGTERM the process if it is provably the one recorded, SIGKILL it after `timeout`.

    Whether it was signalled.
    """
    if not same_process(pid, created):
        return False
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while same_process(pid, created) and time.monotonic() < deadline:
            time.sleep(0.1)
        if same_process(pid, created):
            os.kill(pid, signal.SIGKILL)
    return True


def end_groups(groups: Mapping[int, float | None]) -> list[int]:
    """SIGTERM, then SIGKILL, the process groups still led by the recorded processes.

    The groups that were signalled: one that was gone first, or not ours to signal
    (`PermissionError`), is not among them.
    """
    live = [pid for pid, created in groups.items() if same_process(pid, created)]
    signalled: set[int] = set()
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for group in _still(live, groups):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(group, sig)
                signalled.add(group)
        deadline = time.monotonic() + 5
        while _still(signalled, groups) and time.monotonic() < deadline:
            time.sleep(0.1)
    return [pid for pid in live if pid in signalled]


def _still(pids: Collection[int], created: Mapping[int, float | None]) -> list[int]:
    return [pid for pid in pids if same_process(pid, created[pid])]
