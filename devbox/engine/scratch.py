"""uv on a scratch copy of the project in a container, for `devbox add`/`remove`/`lock`
(pure: command lines only).

uv rewrites pyproject.toml and uv.lock where it runs. Run in the container's /app it
would write the host's files through a bind mount (over an edit the user saves while it
resolves, with nothing left to tell the two apart), or leave the container's copies out
of step with the host's when devbox then refuses to bring them back. So it runs in a
scratch folder instead: every entry of /app linked in (sources, workspace members, path
dependencies resolve as in /app, and the lock's relative paths stay the same), except
pyproject.toml and uv.lock, which are copies. devbox reads uv's files from there, decides
on the host, and removes the folder. uv's pid is kept beside the folder, so an
interrupted `devbox add` stops the uv it started, and only that one.
"""

import secrets
from collections.abc import Sequence

from devbox.defaults import APP_DIR

ARGV0 = "devbox-uv"
_PREFIX = "/tmp/devbox-uv-"  # noqa: S108 (in the container, where any user can write)

# sh -c PREPARE devbox-uv APP SCRATCH COPY FILE...: the scratch folder, /app's entries
# linked in but FILE..., which are copied from /app when COPY is 1 (a bind mount: /app's
# files are the host's) and sent by devbox otherwise.
_PREPARE = """set -e
app=$1 scratch=$2 copy=$3
shift 3
mkdir -m 700 "$scratch"
for entry in "$app"/* "$app"/.[!.]* "$app"/..?*; do
  [ -e "$entry" ] || [ -L "$entry" ] || continue
  name=${entry##*/}
  for file in "$@"; do [ "$name" = "$file" ] && continue 2; done
  ln -s "$entry" "$scratch/$name"
done
if [ "$copy" = 1 ]; then
  for file in "$@"; do
    if [ -f "$app/$file" ]; then cp "$app/$file" "$scratch/$file"; fi
  done
fi
"""

# sh -c RUN devbox-uv PIDFILE ARGV...: ARGV, its pid (this shell's, which it replaces)
# written first.
_RUN = 'echo $$ > "$1.tmp" && mv "$1.tmp" "$1" && shift && exec "$@"'

# sh -c END devbox-uv PIDFILE SCRATCH: SIGTERM, then SIGKILL after 5 s, the process the
# pid file names while it still runs in the scratch folder (its working directory), so a
# pid reused since is never signalled, and its process group when it leads one; then the
# folder (its links, never what they point to) and the pid file are removed.
_END = """ours() { [ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" = "$2" ]; }
stop() {
  pid=$(cat "$1" 2>/dev/null) || return 0
  ours "$@" || return 0
  kill -s TERM -- "-$pid" 2>/dev/null || kill -s TERM "$pid" 2>/dev/null || return 0
  i=0
  while ours "$@" && [ "$i" -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
  if ours "$@"; then kill -s KILL -- "-$pid" 2>/dev/null || kill -s KILL "$pid"; fi
}
stop "$@" 2>/dev/null
rm -rf -- "$2" "$1"
"""


def scratch_dir() -> str:
    """A new scratch folder's path in the container."""
    return f"{_PREFIX}{secrets.token_hex(6)}"


def pid_file(scratch: str) -> str:
    return f"{scratch}.pid"


def prepare_cmd(scratch: str, files: Sequence[str], *, copy_from_app: bool) -> list[str]:
    """The scratch folder: /app's entries linked in, but `files`, copied from /app when
    `copy_from_app` (else the caller copies the host's in)."""
    return ["sh", "-c", _PREPARE, ARGV0, APP_DIR, scratch, "1" if copy_from_app else "0", *files]


def recorded_cmd(scratch: str, argv: Sequence[str]) -> list[str]:
    """`argv` with its pid recorded beside the scratch folder first."""
    return ["sh", "-c", _RUN, ARGV0, pid_file(scratch), *argv]


def end_cmd(scratch: str) -> list[str]:
    """Stop the recorded process if it still runs in the scratch folder, and remove the
    folder and the pid file."""
    return ["sh", "-c", _END, ARGV0, pid_file(scratch), scratch]
