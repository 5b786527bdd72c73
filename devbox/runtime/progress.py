"""Long steps (image builds) with their output collapsed to one status line.

The full output is kept and shown only when the step fails.
"""

import subprocess
import sys
import time
from collections.abc import Mapping, Sequence

from devbox.output import Echo
from devbox.runtime import process as proc
from devbox.runtime.process import TAIL
from devbox.runtime.signals import shielded


def run_step(
    argv: Sequence[str], *, title: str, echo: Echo, env: Mapping[str, str] | None = None
) -> tuple[bool, list[str]]:
    """Run `argv`, showing progress; returns (succeeded, output lines)."""
    started = time.monotonic()
    live = sys.stderr.isatty()
    echo(f"{title}...")
    child = proc.start(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert child.stdout is not None
    lines: list[str] = []
    try:
        for raw in child.stdout:
            line = raw.decode(errors="replace").rstrip()
            lines.append(line)
            if live and line.startswith("#"):
                elapsed = time.monotonic() - started
                sys.stderr.write(f"\r\033[K  {elapsed:5.1f} s  {line[:100]}")
        code = child.wait()
    finally:
        with shielded():  # a second Ctrl-C must not orphan the build
            proc.stop(child)
        if live:
            sys.stderr.write("\r\033[K")
    elapsed = time.monotonic() - started
    if code == 0:
        echo(f"{title}: done in {elapsed:.1f} s")
        return True, lines
    tail = "\n".join(lines[-TAIL:])
    echo(f"{title}: failed after {elapsed:.1f} s (exit code {code}):\n{tail}", error=True)
    return False, lines
