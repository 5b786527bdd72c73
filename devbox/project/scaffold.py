"""Writing the project's files without ever losing one.

Nothing a user wrote is lost: an existing Dockerfile is reported as unchanged or
differing (only `force` replaces it, keeping `<name>.bak`); an existing compose.yaml
gets `develop.watch` added with its comments kept; an existing .dockerignore and
pyproject.toml are only added to.
"""

import difflib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from devbox.errors import ConfigError
from devbox.project.check import dockerfile_targets
from devbox.project.files import read_text
from devbox.project.merge import add_ignores, add_watch, record_settings
from devbox.project.settings import ProjectSettings
from devbox.project.templates import watch_rules

ALWAYS_IGNORED = (".venv", ".devbox")  # appended to an existing .dockerignore when missing


class FileOutcome(StrEnum):
    CREATED = "created"
    UNCHANGED = "unchanged"
    DIFFERS = "differs (kept yours; --diff shows how, --force replaces it and keeps a .bak)"
    REPLACED = "replaced (old file kept as {bak})"
    UPDATED = "updated: {what}"
    KEPT = "kept: {what}"


@dataclass(frozen=True)
class FileResult:
    path: Path
    outcome: FileOutcome
    message: str
    diff: str = ""


def _diff(path: Path, old: str, new: str) -> str:
    lines = difflib.unified_diff(
        old.splitlines(keepends=True),
        new.splitlines(keepends=True),
        f"{path.name} (yours)",
        f"{path.name} (devbox)",
    )
    return "".join(lines)


def write_file(path: Path, content: str, *, force: bool) -> FileResult:
    if not path.exists():
        path.write_text(content, encoding="utf-8")
        return FileResult(path, FileOutcome.CREATED, FileOutcome.CREATED.value)
    old = path.read_text(encoding="utf-8")
    if old == content:
        return FileResult(path, FileOutcome.UNCHANGED, FileOutcome.UNCHANGED.value)
    if not force:
        return FileResult(
            path, FileOutcome.DIFFERS, FileOutcome.DIFFERS.value, _diff(path, old, content)
        )
    bak = path.with_name(path.name + ".bak")
    if bak.exists():
        raise ConfigError(
            f"{bak}: already exists; move it away, then `devbox init --force` replaces {path.name}"
        )
    path.rename(bak)
    path.write_text(content, encoding="utf-8")
    return FileResult(path, FileOutcome.REPLACED, FileOutcome.REPLACED.value.format(bak=bak.name))


def _update(path: Path, old: str, new: str, what: str) -> FileResult:
    if new == old:
        return FileResult(path, FileOutcome.UNCHANGED, FileOutcome.UNCHANGED.value)
    path.write_text(new, encoding="utf-8")
    return FileResult(path, FileOutcome.UPDATED, FileOutcome.UPDATED.value.format(what=what))


def merge_compose(
    path: Path, content: str, settings: ProjectSettings, project_dir: Path, force: bool
) -> FileResult:
    old = path.read_text(encoding="utf-8") if path.exists() else None
    if old is None or old == content or force:
        return write_file(path, content, force=force)
    folder = path.parent

    def builds_project(context: str) -> bool:
        return (folder / context).resolve() == project_dir.resolve()

    def has_dev_stage(context: str, dockerfile: str) -> bool:
        text = read_text(folder / context / dockerfile)
        return text is not None and "dev" in dockerfile_targets(text)

    merged = add_watch(
        old,
        file=str(path),
        service=settings.service,
        watch=watch_rules(settings, project_dir),
        builds_project=builds_project,
        has_dev_stage=has_dev_stage,
    )
    if merged is None:
        return FileResult(
            path, FileOutcome.KEPT, FileOutcome.KEPT.value.format(what="it has develop.watch")
        )
    what = "develop.watch and build target dev" if merged.added_target else "develop.watch"
    return _update(path, old, merged.text, f"added {what} to services.{merged.service}")


def merge_dockerignore(path: Path, content: str, force: bool) -> FileResult:
    if not path.exists() or force:
        return write_file(path, content, force=force)
    old = path.read_text(encoding="utf-8")
    new, added = add_ignores(old, ALWAYS_IGNORED)
    return _update(path, old, new, f"added {', '.join(added)}")


def record(project_dir: Path, settings: ProjectSettings) -> FileResult | None:
    path = project_dir / "pyproject.toml"
    if not path.is_file():
        return None
    chosen: dict[str, object] = {
        "service": settings.service,
        "port": settings.port,
        "command": list(settings.command),
        "python-image": settings.python_image,
        "uv-version": settings.uv_version,
    }
    if settings.dev_command != settings.command:
        chosen["dev-command"] = list(settings.dev_command)
    old = path.read_text(encoding="utf-8")
    new, added = record_settings(old, chosen)
    return _update(path, old, new, f"recorded {', '.join(added)} in [tool.devbox]")
