"""Compose's refusal of a project, each known cause with its fix (pure)."""

import pytest

from devbox.engine.stack import rejection
from devbox.errors import ConfigError


@pytest.mark.parametrize(
    ("reason", "fix"),
    [
        (
            "env file /p/webapp/.env not found: stat /p/webapp/.env: no such file or directory",
            "create /p/webapp/.env (an example file beside it may say what goes in), or give "
            "that `env_file` entry `required: false`",
        ),
        (
            "network web declared as external, but could not be found",
            "create it first: `docker network create web`",
        ),
        ("services.app Additional property x is not allowed", "fix the compose file"),
    ],
)
def test_a_rejection_names_the_fix(reason: str, fix: str) -> None:
    error = rejection(reason)
    assert isinstance(error, ConfigError) and error.code == 3
    assert error.message.startswith(f"Compose rejects the project: {reason}; {fix}")
