"""Secrets a bind mount would show although the watch rules leave them out.

A bind mount shows the whole project folder, so `.env` files and `.git` would be in the
container whatever the rules (and the .dockerignore they honour) say. The fallback masks
the top-level ones the rules exclude: a file with a read-only bind of /dev/null, a
folder with an empty read-only tmpfs. Both leave the host's files untouched.
"""

import re
from dataclasses import dataclass
from pathlib import Path

from devbox.sync.rules import RuleSet

# Names a `--volume`/`--tmpfs` spec can carry as they are (no ':' or ',').
_SECRET = re.compile(r"\.env[A-Za-z0-9._-]*|\.git")


@dataclass(frozen=True)
class Masks:
    """Names (relative to the project folder) to hide in a bind-mounted container."""

    files: tuple[str, ...] = ()
    folders: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self.files + self.folders))


def secret_masks(rules: RuleSet, project_dir: Path) -> Masks:
    """The top-level `.env*` files and `.git` (file or folder) that no rule syncs.

    A symlink is left alone: masking it would cover whatever it points at in the container.
    """
    files: list[str] = []
    folders: list[str] = []
    for path in sorted(project_dir.iterdir()):
        if not _SECRET.fullmatch(path.name) or path.is_symlink() or rules.matching(path):
            continue
        if path.is_dir():
            folders.append(path.name)
        elif path.is_file():
            files.append(path.name)
    return Masks(tuple(files), tuple(folders))
