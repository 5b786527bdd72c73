"""Every uv command line devbox runs or writes, host or container, and what uv's output says.

The one place that spells uv's arguments: `devbox add`/`remove`/`lock`, init's `uv lock`,
doctor's `uv lock --check`, the dependency sync a running container gets (and the
Dockerfile's `uv sync` lines), debugpy's install for `up --debug`. Callers ask for a
`UvCommand` and run `command.argv(program)`; they read uv's output through the questions
below (`error_reason`, `lock_lags`, `parse_version`), never by matching its text
themselves. Pure: no process is started here.
"""

import re
import shlex
from collections.abc import Collection, Sequence
from dataclasses import dataclass

PROGRAM = "uv"  # uv's name on PATH (the image installs it as /bin/uv)

# What `uv sync --locked` and `uv lock --check` say when pyproject.toml asks for more than
# uv.lock holds.
_LOCK_LAGS = "needs to be updated"
_HINTS = ("hint:", "help:")
_CAUSES = ("cause:", "caused by:")
_VERSION = re.compile(r"\buv (\d+)\.(\d+)\.(\d+)")


@dataclass(frozen=True)
class UvCommand:
    """One uv invocation: its arguments after the program name."""

    args: tuple[str, ...]

    @property
    def verb(self) -> str:
        """The subcommand (`add`, `lock`, `sync`, `pip`), as messages name it."""
        return next((a for a in self.args if not a.startswith("-")), "")

    def argv(self, program: str = PROGRAM) -> list[str]:
        """The whole command line, run with `program` (a path found on the host, or uv)."""
        return [program, *self.args]

    def shell(self, *, variables: Collection[str] = ()) -> str:
        """The command line as a Dockerfile or a shell script writes it; an argument in
        `variables` (`$py`) is a shell variable the script expands, written `"$py"`."""
        words = [f'"{a}"' if a in variables else shlex.quote(a) for a in self.args]
        return " ".join([PROGRAM, *words])


def _groups(dev: bool, group: str | None) -> list[str]:
    return [*(["--dev"] if dev else []), *(["--group", group] if group else [])]


def add(packages: Sequence[str], *, dev: bool = False, group: str | None = None) -> UvCommand:
    """`uv add --no-sync`: pyproject.toml and uv.lock change, no environment is touched
    (the running loop syncs the container's)."""
    return UvCommand(("add", "--no-sync", *_groups(dev, group), *packages))


def remove(packages: Sequence[str], *, dev: bool = False, group: str | None = None) -> UvCommand:
    return UvCommand(("remove", "--no-sync", *_groups(dev, group), *packages))


def lock(*, check: bool = False) -> UvCommand:
    """`uv lock`; `check`: only say whether uv.lock is in step with pyproject.toml."""
    return UvCommand(("lock", *(["--check"] if check else [])))


def sync(
    *,
    frozen: bool = False,
    no_install_local: bool = False,
    package: str | None = None,
    all_packages: bool = False,
    no_editable: bool = False,
) -> UvCommand:
    """`uv sync --locked` (or `--frozen`: the lock is not checked against pyproject.toml,
    which a dependency layer without the local packages' files needs), scoped to one
    workspace package or all of them."""
    scope = ["--package", package] if package else (["--all-packages"] if all_packages else [])
    return UvCommand(
        (
            "sync",
            "--frozen" if frozen else "--locked",
            *(["--no-install-local"] if no_install_local else []),
            *scope,
            *(["--no-editable"] if no_editable else []),
        )
    )


def pip_install(
    *,
    requirements: str | None = None,
    packages: Sequence[str] = (),
    target: str | None = None,
    python: str | None = None,
    quiet: bool = False,
) -> UvCommand:
    return UvCommand(
        (
            "pip",
            "install",
            *(["--quiet"] if quiet else []),
            *(["--target", target] if target else []),
            *(["--python", python] if python else []),
            *(["-r", requirements] if requirements else []),
            *packages,
        )
    )


def version() -> UvCommand:
    return UvCommand(("--version",))


def is_sync(argv: Sequence[str]) -> bool:
    """Whether a command line (a watch rule's exec) runs `uv sync`."""
    return [str(word) for word in argv[:2]] == [PROGRAM, "sync"]


def run_target(argv: Sequence[str]) -> int:
    """Where the command that `uv run [OPTIONS] COMMAND` runs starts in `argv` (the uv
    guide's `CMD ["uv", "run", "fastapi", "dev", ...]`); 0 for any other command line."""
    if [str(word) for word in argv[:2]] != [PROGRAM, "run"]:
        return 0
    return next((i for i, word in enumerate(argv[2:], 2) if not word.startswith("-")), 0)


def parse_version(output: str) -> tuple[int, int, int] | None:
    """uv's version from `uv --version` ('uv 0.13.9 (x86_64-unknown-linux-gnu)')."""
    match = _VERSION.search(output)
    return None if match is None else (int(match[1]), int(match[2]), int(match[3]))


def lock_lags(output: str) -> bool:
    """Whether uv failed only because uv.lock lags behind pyproject.toml (`--locked`,
    `lock --check`)."""
    return _LOCK_LAGS in output


def error_reason(output: str) -> str | None:
    """Why uv failed, in one line; None when it printed nothing.

    uv prints `error: WHAT` and then `cause:` lines, the last the deepest (`Because x was
    not found in the package registry ...`, `Connection refused`), and often a `hint:` or
    `help:` line after them, which is advice, never the reason. The reason is the last
    `error...` line (a build backend's `error: command 'gcc' failed` in the output uv
    relays comes after uv's own) joined with the last cause that follows it; with no
    error line, the last line that is not a hint.
    """
    lines = [s for line in output.splitlines() if (s := line.strip())]
    lines = [line for line in lines if not line.lower().startswith(_HINTS)]
    if not lines:
        return None
    errors = [i for i, line in enumerate(lines) if line.lower().startswith("error")]
    if not errors:
        return lines[-1]
    error = lines[errors[-1]]
    causes = [
        line.split(":", 1)[1].strip()
        for line in lines[errors[-1] + 1 :]
        if line.lower().startswith(_CAUSES)
    ]
    return f"{error}: {causes[-1]}" if causes else error
