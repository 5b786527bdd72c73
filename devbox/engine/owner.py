"""Whose uid a bind-mounted dev container runs as, and what it needs to write: pure logic.

With the project bind-mounted at /app, whatever the container creates there (a lock file,
migrations, generated code) lands in the host's folder with the container's uid. An image
running as root would leave root-owned files in the user's project, so in bind mode on an
engine that shares this machine's files, the dev container runs as the project folder's
owner instead. Its `.venv` (an anonymous volume initialised from the image, root's) and
uv's cache volume are then given to that uid when the container starts.
"""

from devbox import defaults
from devbox.engine.kind import EngineKind
from devbox.project.ownership import Owner


def mapped_user(
    *,
    owner: Owner | None,
    kind: EngineKind,
    local: bool,
    service_user: str | None,
    devbox_is_root: bool,
) -> str | None:
    """`uid:gid` the dev container should run as, or None to keep the image's (or the
    service's) user.

    - The service sets `user:` itself: it decided, devbox does not override it.
    - The folder belongs to root: root's files are right.
    - Docker elsewhere: its files are not this machine's; bind mode is refused there.
    - Podman: rootful (run as root, local) shares uids with the host as Docker does;
      rootless already maps the container's root to the calling user, and any other
      uid to a subordinate one the user does not own, so it keeps root.
    """
    if service_user or owner is None or owner[0] == 0 or not local:
        return None
    if kind is EngineKind.REMOTE or (kind is EngineKind.PODMAN and not devbox_is_root):
        return None
    return f"{owner[0]}:{owner[1]}"


def mount_target(volume: str) -> str:
    """The container path of a `--volume` value (`src:target[:opts]` or an anonymous `target`)."""
    parts = volume.split(":")
    return parts[1] if len(parts) > 1 else parts[0]


def cache_volume_name(project: str) -> str:
    """The engine name of the project's uv cache volume: the one Compose gives the compose
    file's `uv-cache` volume, so both modes share one cache."""
    return f"{project}_{defaults.CACHE_VOLUME}"


def give_to(user: str, paths: list[str]) -> list[str]:
    """A command (run as root in the container) that gives `paths` to `user` (`uid:gid`):
    only what another uid or gid owns is changed, so a warm cache costs one walk."""
    uid, _, gid = user.partition(":")
    gid = gid or uid
    differs = ["(", "!", "-user", uid, "-o", "!", "-group", gid, ")"]
    return ["find", *paths, *differs, "-exec", "chown", "-h", f"{uid}:{gid}", "{}", "+"]
