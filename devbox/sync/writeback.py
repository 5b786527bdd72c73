"""What the container writes comes back to the host (copy sync).

In copy sync the container has a copy of the sources, so a file made there (a Django
migration, `alembic revision`, generated code, a lock written by `uv lock` in a shell)
would be lost with the container. The receiver watches the sync targets in the
container and sends back what the container writes (`sync.transfer`); this module
decides, for each file, what the host gets:

- a path no sync rule would sync (its `ignore`, the `.dockerignore`: `.venv`,
  `__pycache__`, `*.pyc`) never comes back;
- a new file is written, atomically, owned by the project's owner;
- a file the host has too is written over only when the host's copy has not changed
  since devbox last synced it, else the container's version is kept beside it
  (`name.container-<time>`), said in one line; the same bytes are nothing to do;
- with `writes-back = "new"` (the default) changes to existing files come back while a
  `devbox shell` runs (its commands are the user's); with `"all"`, always, and the
  container's deletions too; `"off"` brings nothing back.

A file written back is recorded as what the container has, so the host watcher's event
for it sends nothing (no echo).
"""

import os
import posixpath
import tempfile
import time
from enum import Enum, StrEnum
from pathlib import Path

from devbox.errors import config_error
from devbox.project.dockerignore import clean_path
from devbox.project.ownership import keep_owners
from devbox.project.settings import load_pyproject
from devbox.sync.rules import RuleSet, WatchRule


class WritesBack(StrEnum):
    OFF = "off"
    NEW = "new"
    ALL = "all"


class Verdict(Enum):
    WRITE = "write"
    BESIDE = "beside"  # the host's copy changed meanwhile: the container's goes beside it
    DELETE = "delete"
    SKIP = "skip"


def host_file(rules: RuleSet, container: str) -> tuple[WatchRule, Path] | None:
    """The host path a container path mirrors under the first sync rule that would sync
    it (its ignores and the build context's `.dockerignore` applied), else None (pure)."""
    container = clean_path(container)
    for rule in rules.rules:
        if not rule.action.syncs or rule.target is None:
            continue
        target = clean_path("/" + rule.target)
        if container == target:
            rel = ""
        elif container.startswith(target.rstrip("/") + "/"):
            rel = container[len(target.rstrip("/")) + 1 :]
        else:
            continue
        if ".." in rel.split("/") or posixpath.isabs(rel):
            continue
        path = rule.path / rel if rel else rule.path
        if rules.triggers(rule, path):
            return rule, path
    return None


def verdict(
    *,
    policy: WritesBack,
    deleted: bool,
    exists: bool,
    same: bool,
    host_unchanged: bool,
    in_shell: bool,
) -> Verdict:
    """What the host gets of one file the container wrote or removed (pure)."""
    if policy is WritesBack.OFF:
        return Verdict.SKIP
    if deleted:
        ok = policy is WritesBack.ALL and exists and host_unchanged
        return Verdict.DELETE if ok else Verdict.SKIP
    if not exists:
        return Verdict.WRITE
    if same or (policy is WritesBack.NEW and not in_shell):
        return Verdict.SKIP
    return Verdict.WRITE if host_unchanged else Verdict.BESIDE


def beside(path: Path, now: float) -> Path:
    """Where the container's version of a file the host changed meanwhile is kept."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    return path.with_name(f"{path.name}.container-{stamp}")


def write_file(path: Path, data: bytes, *, mode: int, mtime_ns: int, project_dir: Path) -> None:
    """Write `path` atomically (a temporary file renamed over it), with the container's
    mode and mtime, owned by the project's owner (a root devbox must not leave root's
    files in a user's tree)."""
    missing = [p for p in (path.parent, *path.parent.parents) if not p.exists()]
    path.parent.mkdir(parents=True, exist_ok=True)
    keep_owners(reversed(missing), {}, project_dir)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".devbox", dir=path.parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        tmp.chmod(mode & 0o7777 or 0o644)
        os.utime(tmp, ns=(mtime_ns, mtime_ns))
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    keep_owners([path], {}, project_dir)


def policy_of(project_dir: Path) -> WritesBack:
    """`[tool.devbox] writes-back` of the project; "new" when unset."""
    data = load_pyproject(project_dir, required=False) or {}
    tool = data.get("tool", {})
    devbox = tool.get("devbox", {}) if isinstance(tool, dict) else {}
    value = devbox.get("writes-back", "new") if isinstance(devbox, dict) else "new"
    try:
        return WritesBack(value)
    except ValueError:
        raise config_error(
            project_dir / "pyproject.toml",
            "tool.devbox.writes-back",
            f"{value!r} is unknown",
            'use "off", "new" or "all"',
        ) from None
