"""Bind or copy: auto follows what the engine sees; bind where it sees nothing is refused."""

from pathlib import Path

import pytest

from devbox.errors import UsageError
from devbox.sync.bind_or_copy import SyncMode, resolve_sync


@pytest.mark.parametrize(
    ("requested", "sees", "expected"),
    [
        (SyncMode.AUTO, True, SyncMode.BIND),
        (SyncMode.AUTO, False, SyncMode.COPY),
        (SyncMode.COPY, True, SyncMode.COPY),
        (SyncMode.BIND, True, SyncMode.BIND),
    ],
)
def test_resolve_sync(requested: SyncMode, sees: bool, expected: SyncMode) -> None:
    assert (
        resolve_sync(requested, sees_project=sees, project_dir=Path("/p"), engine="e") is expected
    )


def test_bind_on_an_engine_that_cannot_see_the_project_is_refused() -> None:
    with pytest.raises(UsageError) as caught:
        resolve_sync(
            SyncMode.BIND, sees_project=False, project_dir=Path("/p"), engine="docker at x"
        )
    assert caught.value.message == (
        "--sync bind: the engine (docker at x) cannot see /p, so the container would get an "
        "empty /app; use --sync copy (or auto, the default)"
    )
