"""Secrets a bind mount would show although the watch rules leave them out.

A bind mount shows the whole project folder, so secret files (devbox.project.secrets: env
files, keys, credentials, `secrets/` folders, at any depth) and `.git` would be in the
container whatever the rules (and the .dockerignore they honour) say. The fallback masks
the ones no rule syncs: a file with a read-only bind of /dev/null, a folder with an empty
read-only tmpfs. Both leave the host's files untouched. What a rule syncs stays visible:
the bind mount shows what a copy would.
"""

import os
from dataclasses import dataclass
from pathlib import Path

from devbox.project.secrets import walk_secrets
from devbox.sync.rules import RuleSet

# Other projects' files and tools' caches: packages ship test keys (`node_modules/**/*.pem`),
# and a mount for each would slow every start; they are no secrets of this project.
NOT_SEARCHED = frozenset(
    {"node_modules", "__pycache__", ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache"}
)


@dataclass(frozen=True)
class Masks:
    """Paths (relative to the project folder) to hide in a bind-mounted container."""

    files: tuple[str, ...] = ()
    folders: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self.files + self.folders))


def maskable(rel_path: str) -> bool:
    """Whether a mount spec can name `rel_path` as it is: `--volume` and `--tmpfs` split at
    ':' and ',' ends a `--tmpfs` path; control characters have no business there."""
    return not any(c in ":," or ord(c) < 32 for c in rel_path)


def secret_masks(rules: RuleSet, project_dir: Path) -> Masks:
    """The secrets and the top-level `.git` (file or folder) that no rule syncs.

    A secret folder is masked whole, unless a rule syncs something in it (a `!` line of
    the .dockerignore re-includes it): then each file in it that no rule syncs is masked.
    A symlink is left alone: masking it would cover whatever it points at in the container.
    A path a mount spec cannot carry (`maskable`), and one under a folder of `NOT_SEARCHED`,
    is not masked.
    """
    files: list[str] = []
    folders: list[str] = []

    def synced(rel: str) -> bool:
        return bool(rules.matching(project_dir / rel))

    git = project_dir / ".git"
    if not git.is_symlink() and not synced(".git"):
        (folders if git.is_dir() else files if git.is_file() else []).append(".git")
    for rel, is_folder in walk_secrets(project_dir, prune=NOT_SEARCHED):
        if not is_folder:
            if not synced(rel):
                files.append(rel)
            continue
        inside = [
            Path(dirpath, name).relative_to(project_dir).as_posix()
            for dirpath, _, names in os.walk(project_dir / rel)
            for name in names
        ]
        if not any(synced(path) for path in inside):
            folders.append(rel)
        else:
            files += [
                p for p in sorted(inside) if not synced(p) and not Path(project_dir, p).is_symlink()
            ]
    return Masks(
        tuple(sorted(f for f in files if maskable(f))),
        tuple(sorted(f for f in folders if maskable(f))),
    )
