"""One tar stream for a batch of copies, as Compose sends to the engine's archive API."""

import io
import tarfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar

Rule = TypeVar("Rule")


def make_tar(copies: Mapping[str, tuple[Rule, Path]], keep: Callable[[Rule, Path], bool]) -> bytes:
    """A tar of host paths at their container paths, each copied under its rule.

    Folders are added with their contents, filtered through `keep(rule, path)` (devbox
    applies the rule's ignores inside new folders; Compose copies them whole). Symlinks
    are stored as links, never followed out of the project.
    """
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for target, (rule, source) in sorted(copies.items(), key=lambda item: item[0]):
            _add(tar, source, target.lstrip("/"), rule, keep)
    return buffer.getvalue()


def _add(
    tar: tarfile.TarFile, source: Path, name: str, rule: Rule, keep: Callable[[Rule, Path], bool]
) -> None:
    try:
        tar.add(str(source), arcname=name, recursive=False)
        children = sorted(source.iterdir()) if source.is_dir() and not source.is_symlink() else []
    except (FileNotFoundError, PermissionError):
        return  # gone since the batch was planned (the next batch deletes it), or unreadable
    for path in children:
        if keep(rule, path):
            _add(tar, path, f"{name}/{path.name}", rule, keep)
