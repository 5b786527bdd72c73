"""Parsing of tool version strings, and the version thresholds devbox relies on."""

import re
from typing import NamedTuple


class Version(NamedTuple):
    major: int
    minor: int
    patch: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


# `docker compose watch` and the `develop` key became generally available in 2.22.0.
COMPOSE_WATCH_MIN = Version(2, 22, 0)

# The sync+exec watch action (devbox runs `uv sync` in the container with it) arrived in 2.32.0.
COMPOSE_SYNC_EXEC_MIN = Version(2, 32, 0)

# `env_file` entries with `required: false` (a missing file is skipped) arrived in 2.24.0.
COMPOSE_OPTIONAL_ENV_FILE_MIN = Version(2, 24, 0)

_VERSION = re.compile(r"v?(\d+)\.(\d+)(?:\.(\d+))?")


def parse_version(text: str) -> Version | None:
    """The first `X.Y[.Z]` in `text`: 'Docker Compose version v2.40.3', '1.29.2', 'v2.21.0-rc1'."""
    match = _VERSION.search(text)
    if match is None:
        return None
    major, minor, patch = match.groups()
    return Version(int(major), int(minor), int(patch or 0))
