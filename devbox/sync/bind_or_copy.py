"""How the fallback keeps the container's sources in step with the host's."""

from enum import StrEnum
from pathlib import Path

from devbox.errors import UsageError


class SyncMode(StrEnum):
    AUTO = "auto"  # bind when the engine sees the project folder, else copy
    BIND = "bind"  # sources bind-mounted at /app: a sync is immediate by construction
    COPY = "copy"  # no bind mount: each batch is copied in as one tar stream, as Compose does


def resolve_sync(
    requested: SyncMode, *, sees_project: bool, project_dir: Path, engine: str
) -> SyncMode:
    """The sync to run. A bind mount on an engine that cannot see the folder would run
    an empty /app (a remote engine mounts its own machine's folder), so it is refused."""
    if requested is SyncMode.AUTO:
        return SyncMode.BIND if sees_project else SyncMode.COPY
    if requested is SyncMode.BIND and not sees_project:
        raise UsageError(
            f"--sync bind: the engine ({engine}) cannot see {project_dir}, so the container "
            "would get an empty /app; use --sync copy (or auto, the default)"
        )
    return requested
