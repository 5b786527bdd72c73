"""`devbox up --debug`: the developed service's command run under debugpy (pure logic).

debugpy is not added to the project: the container installs it with the image's uv
into a folder of its own (`uv pip install --target`, from uv's cache volume once it is
warm) and puts that folder on PYTHONPATH, so the app runs on the image's own
interpreter (`/app/.venv/bin/python`) with the project's dependencies untouched.
debugpy follows the child processes a reloader starts (bottle, uvicorn, Flask, Django),
so a breakpoint is hit after a reload too.
"""

import socket
from collections.abc import Sequence
from dataclasses import dataclass

from devbox import uv

DEBUG_PORT = 5678  # debugpy's port in the container
DEBUGPY = "debugpy>=1.8,<2"
TARGET = "/tmp/devbox-debugpy"  # noqa: S108 (in the container, where any user can write)
ARGV0 = "devbox-debug"

_INSTALL = uv.pip_install(quiet=True, target=TARGET, python="$py", packages=[DEBUGPY])

# Run as `sh -c SCRIPT devbox-debug COMMAND...`. A command that starts with a Python
# interpreter keeps its arguments (`python -m app`, `python manage.py runserver`);
# any other names a program on PATH (a console script), which debugpy runs as a file.
SCRIPT = f"""set -e
cache="${{UV_CACHE_DIR:-${{HOME:-/tmp}}/.cache/uv}}"
mkdir -p "$cache" 2>/dev/null || true
[ -w "$cache" ] || export UV_CACHE_DIR=/tmp/devbox-uv-cache
case "$1" in
  python|python3|python3.*|*/python|*/python3|*/python3.*) py=$(command -v "$1"); shift ;;
  *) py=$(command -v python3 || command -v python)
     prog=$(command -v "$1") || {{ echo "devbox --debug: $1: not found on PATH" >&2; exit 127; }}
     shift; set -- "$prog" "$@" ;;
esac
command -v uv >/dev/null || {{
  echo "devbox --debug: no uv in the image to install debugpy" >&2; exit 127; }}
{_INSTALL.shell(variables=["$py"])}
# debugpy's warning about frozen modules, which a reloader's child (started without
# -Xfrozen_modules=off) would print on every start.
export PYDEVD_DISABLE_FILE_VALIDATION=1
export PYTHONPATH="{TARGET}${{PYTHONPATH:+:$PYTHONPATH}}"
echo "devbox: debugpy listening on 0.0.0.0:{DEBUG_PORT} in the container" >&2
exec "$py" -Xfrozen_modules=off -m debugpy --listen 0.0.0.0:{DEBUG_PORT} "$@"
"""


@dataclass(frozen=True)
class DebugSpec:
    """The developed service run under debugpy: its port on the host (127.0.0.1), and the
    command to run when the service names none (the image's, as [tool.devbox] records)."""

    host_port: int
    default_command: tuple[str, ...]

    def publish(self) -> str:
        return f"127.0.0.1:{self.host_port}:{DEBUG_PORT}"


def entrypoint() -> list[str]:
    """The entrypoint of the debugged container; its command is `debugged_command`."""
    return ["sh", "-c", SCRIPT, ARGV0]


def debugged_command(
    entrypoint: Sequence[str] | None, command: Sequence[str] | None, default: Sequence[str]
) -> list[str]:
    """What the service runs, whole: its entrypoint, then its command. A service that
    sets an entrypoint drops the image's command (as Docker does); one that sets neither
    runs `default`."""
    head = list(entrypoint or ())
    if command:
        return head + list(command)
    return head if entrypoint else list(default)


def free_port(start: int = DEBUG_PORT, *, tries: int = 100) -> int:
    """`start`, else the next port free on 127.0.0.1 (where the debug port is published)."""
    for port in range(start, min(start + tries, 65536)):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise OSError(f"no free port on 127.0.0.1 from {start} to {start + tries - 1}")
