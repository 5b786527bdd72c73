import pytest

from devbox.engine.modes import Mode, choose_mode
from devbox.engine.versions import Version, parse_version
from devbox.errors import DevboxError, ExitCode


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Docker Compose version v2.40.3", Version(2, 40, 3)),
        ("2.21.0", Version(2, 21, 0)),
        ("1.29.2", Version(1, 29, 2)),
        ("v2.22.0-desktop.1", Version(2, 22, 0)),
        ("20.10", Version(20, 10, 0)),
        ("unknown", None),
    ],
)
def test_parse_version(text: str, expected: Version | None) -> None:
    assert parse_version(text) == expected


@pytest.mark.parametrize(
    ("requested", "compose", "mode", "reason"),
    [
        (
            Mode.AUTO,
            Version(2, 40, 3),
            Mode.COMPOSE,
            "compose mode: Compose 2.40.3 runs the project and devbox syncs it "
            "(Compose watch waits for 500 ms without a change before it syncs, so a file written continuously stalls it; --mode watch runs it)",
        ),
        (
            Mode.WATCH,
            Version(2, 22, 0),
            Mode.WATCH,
            "watch mode: asked for with --mode watch (Compose 2.22.0)",
        ),
        (
            Mode.AUTO,
            Version(2, 21, 0),
            Mode.FALLBACK,
            "fallback mode: Compose 2.21.0 is older than 2.22.0 (no `compose watch`)",
        ),
        (
            Mode.AUTO,
            None,
            Mode.FALLBACK,
            "fallback mode: no Compose v2 plugin found (no `compose watch`)",
        ),
        (
            Mode.FALLBACK,
            Version(2, 40, 3),
            Mode.FALLBACK,
            "fallback mode: asked for with --mode fallback (Compose 2.40.3)",
        ),
    ],
)
def test_choose_mode(requested: Mode, compose: Version | None, mode: Mode, reason: str) -> None:
    assert choose_mode(requested, compose) == (mode, reason)


@pytest.mark.parametrize("requested", [Mode.COMPOSE, Mode.WATCH])
def test_compose_and_watch_modes_on_old_compose_are_an_error(requested: Mode) -> None:
    with pytest.raises(DevboxError) as caught:
        choose_mode(requested, Version(2, 21, 0))
    assert caught.value.code is ExitCode.ENGINE
    assert caught.value.message == (
        f"--mode {requested.value} needs Compose >= 2.22.0, found Compose 2.21.0; upgrade Compose or use --mode fallback"
    )
