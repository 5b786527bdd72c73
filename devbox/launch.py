"""The `devbox` entry point. `devbox shell` on a live session is served before the CLI
(typer and click, most of devbox's start-up) is imported, so it starts about as fast as
`docker exec`; everything else, and any shell invocation this does not read exactly as
the CLI would, goes to `devbox.cli`.
"""

import sys
from dataclasses import dataclass, field
from pathlib import Path

# The shell options read here, as `devbox.cli.shell` declares them; any other option
# (--engine, --help, -v before `shell`, `--opt=value` forms) goes to the CLI.
_VALUED = {"-C": "project_dir", "--project-dir": "project_dir", "-u": "user", "--user": "user"}
_ENV = ("-e", "--env")
_NO_OPS = ("--start", "--no-start")  # only matter when nothing runs: the CLI's path then


@dataclass
class ShellArgs:
    project_dir: Path = Path()
    service: str | None = None
    command: list[str] | None = None
    user: str | None = None
    env: list[str] = field(default_factory=list)


def parse_shell(args: list[str]) -> ShellArgs | None:
    """`shell ...`'s arguments as the CLI parses them (options first, then SERVICE and
    COMMAND, verbatim after the first positional), or None for anything else."""
    if not args or args[0] != "shell":
        return None
    parsed, rest = ShellArgs(), args[1:]
    while rest and rest[0].startswith("-"):
        option = rest.pop(0)
        if option == "--":
            break
        if option in _NO_OPS:
            continue
        if option not in _VALUED and option not in _ENV:
            return None
        if not rest or rest[0].startswith("-"):
            return None  # the CLI's error message, or its reading of an odd value
        value = rest.pop(0)
        if option in _ENV:
            parsed.env.append(value)
        elif _VALUED[option] == "user":
            parsed.user = value
        else:
            parsed.project_dir = Path(value)
    if not parsed.project_dir.is_dir():
        return None  # the CLI says what is wrong with it
    if rest:
        if not rest[0]:
            return None
        parsed.service, parsed.command = rest[0], rest[1:] or None
    return parsed


def _shell(args: list[str]) -> int | None:
    parsed = parse_shell(args)
    if parsed is None:
        return None
    from devbox.commands.shell_direct import shell_direct
    from devbox.errors import DevboxError, ExitCode

    try:
        return shell_direct(
            project_dir=parsed.project_dir,
            service=parsed.service,
            command=parsed.command,
            user=parsed.user,
            env=parsed.env or None,
        )
    except DevboxError:
        return None  # nothing ran (say, no client): the CLI's path reports it
    except KeyboardInterrupt:
        return int(ExitCode.INTERRUPTED)


def main() -> None:
    code = _shell(sys.argv[1:])
    if code is not None:
        sys.exit(code)
    from devbox.cli import main as cli_main

    cli_main()
