"""One tar stream for a batch of copies, as Compose sends to the engine's archive API."""

import io
import tarfile
from collections.abc import Callable, Mapping
from pathlib import Path


def make_tar(copies: Mapping[str, Path], keep: Callable[[Path], bool]) -> bytes:
    """A tar of host paths at their container paths.

    Folders are added with their contents, filtered through `keep` (devbox applies
    the ignore rules inside new folders; Compose copies them whole). Symlinks are
    stored as links, never followed out of the project.
    """
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for target, source in sorted(copies.items()):
            _add(tar, source, target.lstrip("/"), keep)
    return buffer.getvalue()


def _add(tar: tarfile.TarFile, source: Path, name: str, keep: Callable[[Path], bool]) -> None:
    try:
        tar.add(str(source), arcname=name, recursive=False)
    except FileNotFoundError:
        return  # deleted since the batch was planned: the next batch deletes it
    if source.is_dir() and not source.is_symlink():
        for path in sorted(source.iterdir()):
            if keep(path):
                _add(tar, path, f"{name}/{path.name}", keep)
