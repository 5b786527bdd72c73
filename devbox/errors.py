"""The errors devbox raises for expected failures, each carrying its exit code.

Anything a user can cause or fix (bad input, no engine, a failed build) is a
`DevboxError` subclass: raised anywhere, printed once on one line by the entry
point, which exits with the subclass's code. Anything else is a bug and keeps
its traceback.
"""

from collections.abc import Sequence
from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILURE = 1
    USAGE = 2
    CONFIG = 3  # a project file is missing or invalid
    ENGINE = 4  # no Docker engine, or no usable Compose / client
    BUILD = 5  # an image build failed
    START = 6  # a container exited instead of starting
    HEALTH_TIMEOUT = 7  # a container never became healthy
    SMOKE_COMMAND = 8  # a smoke command exited non-zero
    NOT_RUNNING = 9  # no dev container is running for the project
    INTERRUPTED = 130  # Ctrl-C or SIGTERM


class DevboxError(Exception):
    """An expected failure: `message` says what happened and how to fix it."""

    code: ExitCode = ExitCode.FAILURE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(DevboxError):
    """The command line asks for something that cannot be done as asked."""

    code = ExitCode.USAGE


class ConfigError(DevboxError):
    """A project file (or a value meant for one) is missing or invalid."""

    code = ExitCode.CONFIG


class EngineError(DevboxError):
    """No engine answers, or the container CLI or Compose is missing or too old."""

    code = ExitCode.ENGINE


class BuildError(DevboxError):
    code = ExitCode.BUILD


class StartError(DevboxError):
    code = ExitCode.START


class HealthTimeout(DevboxError):
    code = ExitCode.HEALTH_TIMEOUT


class SmokeCommandFailed(DevboxError):
    code = ExitCode.SMOKE_COMMAND


class NotRunning(DevboxError):
    code = ExitCode.NOT_RUNNING


class Interrupted(DevboxError):
    """Ctrl-C or SIGTERM, after the clean-up ran."""

    code = ExitCode.INTERRUPTED

    def __init__(self, message: str = "interrupted") -> None:
        super().__init__(message)


class CommandFailed(DevboxError):
    """A subprocess exited non-zero where success was expected."""

    def __init__(self, argv: Sequence[str], returncode: int, output: Sequence[str]) -> None:
        self.argv, self.returncode, self.output = tuple(argv), returncode, tuple(output)
        # its last line that is not blank: what `process.last_line` gives
        self.reason = next((s for line in reversed(output) if (s := line.strip())), "no output")
        super().__init__(f"`{' '.join(argv[:3])}` failed (exit code {returncode}): {self.reason}")


class CommandTimedOut(CommandFailed):
    """A subprocess was still running at its time limit (and was killed)."""

    def __init__(self, argv: Sequence[str], timeout: float) -> None:
        super().__init__(argv, -1, [f"still running after {timeout:g} s"])


def config_error(file: object, field: str, problem: str, fix: str) -> ConfigError:
    """A bad-input error naming the file, the field and the fix, in one line."""
    return ConfigError(f"{file}: {field}: {problem}; {fix}")


def error_for_code(code: int | None, message: str) -> DevboxError:
    """The error whose exit code is `code` (a child devbox's), else a plain failure."""
    kinds = [
        k for k in DevboxError.__subclasses__() if k.code == code and k.code != ExitCode.FAILURE
    ]
    return kinds[0](message) if kinds else DevboxError(message)
