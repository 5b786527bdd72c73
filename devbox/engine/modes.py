"""Choosing between Compose watch and devbox's fallback watcher."""

from enum import StrEnum

from devbox.engine.versions import COMPOSE_WATCH_MIN, Version
from devbox.errors import EngineError


class EngineName(StrEnum):
    """The container CLIs devbox drives (`--engine`, `[tool.devbox] engine`)."""

    DOCKER = "docker"
    PODMAN = "podman"


class Mode(StrEnum):
    AUTO = "auto"
    WATCH = "watch"
    FALLBACK = "fallback"


def choose_mode(
    requested: Mode, compose: Version | None, v1: Version | None = None
) -> tuple[Mode, str]:
    """The mode to run and a one-line reason for it (`v1`: a standalone docker-compose)."""
    found = f"Compose {compose}" if compose else "no Compose v2 plugin"
    if requested is Mode.FALLBACK:
        return Mode.FALLBACK, f"fallback mode: asked for with --mode fallback ({found})"
    if compose is not None and compose >= COMPOSE_WATCH_MIN:
        return Mode.WATCH, f"watch mode: {found} has `docker compose watch`"
    if requested is Mode.WATCH:
        raise EngineError(
            f"--mode watch needs Compose >= {COMPOSE_WATCH_MIN}, found {found}; "
            "upgrade Compose or use --mode fallback"
        )
    if compose is None and v1 is not None:
        return Mode.FALLBACK, f"fallback mode: {found} found; Compose v1 {v1} has no watch"
    why = "found" if compose is None else f"is older than {COMPOSE_WATCH_MIN}"
    return Mode.FALLBACK, f"fallback mode: {found} {why} (no `compose watch`)"


def podman_mode(requested: Mode) -> tuple[Mode, str]:
    """Podman has no Compose watch (podman-compose has none either): always the fallback."""
    if requested is Mode.WATCH:
        raise EngineError(
            "--mode watch needs Docker Compose watch; Podman has none: use --mode fallback "
            "(the default with Podman)"
        )
    return Mode.FALLBACK, "fallback mode: Podman has no Compose watch"
