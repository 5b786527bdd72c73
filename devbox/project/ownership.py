"""Who owns the project's files on the host, and keeping it so when devbox rewrites them.

A devbox run as root (CI, `sudo`) in a user's tree, or a container writing through a bind
mount, must not leave root-owned files in the user's project: the project folder's owner
is the host user devbox writes for.
"""

import contextlib
import os
from collections.abc import Iterable
from pathlib import Path

Owner = tuple[int, int]  # (uid, gid)


def owner_of(path: Path) -> Owner | None:
    """(uid, gid) of a file or folder, None when it does not exist."""
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_uid, info.st_gid


def keep_owners(paths: Iterable[Path], before: dict[Path, Owner | None], folder: Path) -> None:
    """Give each path back its owner from `before` (a new file: the folder's owner), when
    this process may (it runs as root) and the owner changed. Best effort: a failure
    leaves the file as it is, readable and in place."""
    if os.geteuid() != 0:
        return  # an ordinary user's writes are already theirs
    for path in paths:
        wanted = before.get(path) or owner_of(folder)
        now = owner_of(path)
        if wanted is None or now is None or now == wanted:
            continue
        with contextlib.suppress(OSError):
            os.chown(path, *wanted, follow_symlinks=False)


def owned_mount_point(folder: Path, name: str) -> None:
    """Create `folder/name` for a volume mounted over it in the container, owned like the
    folder: else the engine creates it, as root, in the user's project."""
    path = folder / name
    if path.exists() or path.is_symlink():
        return
    with contextlib.suppress(OSError):
        path.mkdir()
        keep_owners([path], {}, folder)
