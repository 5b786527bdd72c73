"""The one error type devbox raises for expected failures, and its exit codes.

Anything a user can cause or fix (bad input, no engine, a failed build) is a
`DevboxError`: the entry point prints its message on one line and exits with its
code. Anything else is a bug and keeps its traceback.
"""

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
    INTERRUPTED = 130  # Ctrl-C


class DevboxError(Exception):
    """An expected failure: `message` says what happened and how to fix it."""

    def __init__(self, message: str, code: ExitCode = ExitCode.FAILURE) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def config_error(file: object, field: str, problem: str, fix: str) -> DevboxError:
    """A bad-input error naming the file, the field and the fix, in one line."""
    return DevboxError(f"{file}: {field}: {problem}; {fix}", ExitCode.CONFIG)
