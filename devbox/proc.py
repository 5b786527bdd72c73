"""Every subprocess devbox starts goes through here, logged, as an argument list.

User text never reaches a shell: callers pass argv lists only.
"""

import logging
import os
import shlex
import signal
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

from devbox.errors import DevboxError, ExitCode

log = logging.getLogger("devbox.proc")


def _env(extra: Mapping[str, str] | None) -> dict[str, str] | None:
    return None if extra is None else {**os.environ, **extra}


def _not_found(argv: Sequence[str]) -> DevboxError:
    hint = "install the Docker CLI" if argv[0] == "docker" else f"install {argv[0]}"
    return DevboxError(f"{argv[0]}: command not found; {hint}", ExitCode.ENGINE)


def run(
    argv: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    input: bytes | None = None,
    capture: bool = True,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run to completion; never raises on a non-zero exit (callers decide)."""
    log.debug("run: %s", shlex.join(argv))
    try:
        return subprocess.run(
            list(argv),
            cwd=cwd,
            env=_env(env),
            input=input,
            stdout=subprocess.PIPE if capture else None,
            stderr=subprocess.PIPE if capture else None,
            timeout=timeout,
            check=False,
        )
    except (FileNotFoundError, PermissionError):
        raise _not_found(argv) from None


def start(
    argv: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    stdout: int | IO[bytes] | None = None,
    stderr: int | IO[bytes] | None = None,
) -> subprocess.Popen[bytes]:
    """Start a long-running child in a session of its own.

    It does not receive the terminal's Ctrl-C: devbox decides how to stop it (`stop`,
    which signals its whole process group) and cleans up after it, in that order.
    """
    log.debug("start: %s", shlex.join(argv))
    try:
        return subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=_env(env),
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
    except (FileNotFoundError, PermissionError):
        raise _not_found(argv) from None


def text(data: bytes | None) -> str:
    return (data or b"").decode(errors="replace").strip()


def stop(child: subprocess.Popen[bytes], *, grace: float = 10.0) -> None:
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


def _signal_group(child: subprocess.Popen[bytes], sig: int) -> None:
    """Signal the child's whole process group: `docker compose` runs the Compose plugin as
    a child of the docker CLI, and a signal to the CLI alone orphans the plugin."""
    try:
        os.killpg(child.pid, sig)
    except (ProcessLookupError, PermissionError):
        if child.poll() is None:
            child.send_signal(sig)
