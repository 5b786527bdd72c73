"""How the fallback keeps the container's sources in step with the host's."""

from enum import StrEnum


class SyncMode(StrEnum):
    BIND = "bind"  # sources bind-mounted at /app: a sync is immediate by construction
    COPY = "copy"  # no bind mount: each batch is copied in as one tar stream, as Compose does
