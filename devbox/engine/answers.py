"""Reading the engine's answers (`docker inspect` JSON, `docker port`, `image inspect`)
and where its published ports are reached: pure functions, unit-tested without an engine."""

import json
import urllib.parse
from dataclasses import dataclass
from datetime import datetime

from devbox.engine.labels import FOLDER_LABELS, SERVICE_LABELS

_LOOPBACK = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class ContainerInfo:
    name: str
    service: str | None
    status: str
    running: bool
    started_at: datetime | None
    ports: tuple[str, ...]
    image: str
    # The project folder it was started for (Compose's or devbox's label), None if unknown.
    folder: str | None = None


def container_info(inspected: dict[str, object]) -> ContainerInfo:
    """A container from `docker inspect`'s JSON."""
    config: dict[str, object] = inspected.get("Config") or {}  # type: ignore[assignment]
    state: dict[str, object] = inspected.get("State") or {}  # type: ignore[assignment]
    network: dict[str, object] = inspected.get("NetworkSettings") or {}  # type: ignore[assignment]
    labels: dict[str, str] = config.get("Labels") or {}  # type: ignore[assignment]
    ports = [
        f"{binding.get('HostIp', '')}:{binding.get('HostPort', '')}->{port}"
        for port, bindings in (network.get("Ports") or {}).items()  # type: ignore[attr-defined]
        for binding in bindings or []
    ]
    started = str(state.get("StartedAt") or "")
    running = bool(state.get("Running"))
    return ContainerInfo(
        name=str(inspected.get("Name", "")).lstrip("/"),
        service=next((labels[k] for k in SERVICE_LABELS if k in labels), None),
        status=str(state.get("Status") or "unknown"),
        running=running,
        started_at=_timestamp(started) if running else None,
        ports=tuple(ports),
        image=str(config.get("Image") or ""),
        folder=next((str(labels[k]) for k in FOLDER_LABELS if k in labels), None),
    )


def _timestamp(text: str) -> datetime | None:
    """An engine timestamp ('2026-12-02T21:50:01.123456789Z'); None for none or Go's zero."""
    text = text.strip()
    if not text or text.startswith("0001"):
        return None
    # Docker writes nanoseconds and `Z` (or an offset); Python parses microseconds.
    head, dot, rest = text.partition(".")
    zone = ""
    if dot:
        digits = rest.rstrip("Z").split("+")[0].split("-")[0]
        zone = rest[len(digits) :]
        head += "." + digits[:6]
    else:
        head, zone = text.rstrip("Z")[:19], text[19:]
    zone = "+00:00" if zone in ("", "Z") else zone
    try:
        return datetime.fromisoformat(head + zone)
    except ValueError:
        return None


def parse_created(text: str) -> float | None:
    """Seconds since the epoch from `image inspect --format '{{.Created}}'`."""
    when = _timestamp(text)
    return None if when is None else when.timestamp()


def parse_image_facts(text: str) -> tuple[int, str]:
    """Size and user from `image inspect --format '{{.Size}} {{json .Config.User}}'`."""
    size, _, user = text.strip().partition(" ")
    return int(size), str(json.loads(user or '""'))


def parse_host_port(text: str) -> int | None:
    """The host port from `docker port` output ('127.0.0.1:32768')."""
    for line in text.splitlines():
        port = line.strip().rpartition(":")[2]
        if port.isdigit():
            return int(port)
    return None


def endpoint(docker_host: str | None) -> tuple[str, str]:
    """(address to publish a port on, host to probe it at) for an engine at `docker_host`
    (`DOCKER_HOST`, or the endpoint of the Docker context in use).

    A tcp:// or ssh:// engine elsewhere (GitLab's docker:dind service, a bigger build
    machine) runs containers on its own machine, where 127.0.0.1 is out of reach: publish
    there on all addresses, probe it.
    """
    url = urllib.parse.urlsplit(docker_host or "")
    if url.scheme in ("tcp", "ssh") and url.hostname and url.hostname not in _LOOPBACK:
        return "0.0.0.0", url.hostname  # noqa: S104 (the engine's own machine, not ours)
    return "127.0.0.1", "127.0.0.1"
