"""Choosing how `devbox up` runs the project: who creates the containers, who syncs."""

from enum import StrEnum

from devbox.engine.versions import COMPOSE_WATCH_MIN, Version
from devbox.errors import EngineError


class EngineName(StrEnum):
    """The container CLIs devbox drives (`--engine`, `[tool.devbox] engine`)."""

    DOCKER = "docker"
    PODMAN = "podman"


class Mode(StrEnum):
    AUTO = "auto"
    COMPOSE = "compose"  # Compose creates and runs every container; devbox syncs them
    WATCH = "watch"  # `docker compose watch` does both
    FALLBACK = "fallback"  # devbox runs the developed services with `docker run` and syncs

    @property
    def needs_watch_compose(self) -> bool:
        """Both read the compose file's `develop` key, which Compose < 2.22 rejects."""
        return self in (Mode.COMPOSE, Mode.WATCH)


# Why plain `devbox up` does not run Compose watch: said in one line at every start.
WHY_NOT_WATCH = (
    "Compose watch waits for 500 ms without a change before it syncs, so a file written "
    "continuously stalls it"
)


def choose_mode(
    requested: Mode, compose: Version | None, v1: Version | None = None
) -> tuple[Mode, str]:
    """The mode to run and a one-line reason for it (`v1`: a standalone docker-compose)."""
    found = f"Compose {compose}" if compose else "no Compose v2 plugin"
    if requested is Mode.FALLBACK:
        return Mode.FALLBACK, f"fallback mode: asked for with --mode fallback ({found})"
    if compose is not None and compose >= COMPOSE_WATCH_MIN:
        if requested is Mode.WATCH:
            return Mode.WATCH, f"watch mode: asked for with --mode watch ({found})"
        return Mode.COMPOSE, (
            f"compose mode: {found} runs the project and devbox syncs it "
            f"({WHY_NOT_WATCH}; --mode watch runs it)"
        )
    if requested.needs_watch_compose:
        raise EngineError(
            f"--mode {requested.value} needs Compose >= {COMPOSE_WATCH_MIN}, found {found}; "
            "upgrade Compose or use --mode fallback"
        )
    if compose is None and v1 is not None:
        return Mode.FALLBACK, f"fallback mode: {found} found; Compose v1 {v1} has no watch"
    why = "found" if compose is None else f"is older than {COMPOSE_WATCH_MIN}"
    return Mode.FALLBACK, f"fallback mode: {found} {why} (no `compose watch`)"


def podman_mode(requested: Mode) -> tuple[Mode, str]:
    """Podman has no Docker Compose 2.22+ (podman-compose has no `develop` support either):
    always the fallback."""
    if requested.needs_watch_compose:
        raise EngineError(
            f"--mode {requested.value} needs Docker Compose 2.22 or newer; Podman has none: "
            "use --mode fallback (the default with Podman)"
        )
    return Mode.FALLBACK, "fallback mode: Podman has no Compose watch"
