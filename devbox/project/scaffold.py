"""Writing the project's files without ever losing one.

Nothing a user wrote is lost: an existing Dockerfile is reported as unchanged or
differing (only `force` replaces it, keeping `<name>.bak`); an existing compose.yaml
gets `develop.watch` added with its comments kept; an existing .dockerignore and
pyproject.toml are only added to.
"""

import difflib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from devbox.defaults import DEFAULT_PORT
from devbox.errors import ConfigError
from devbox.project.check import dockerfile_targets
from devbox.project.compose import read_yaml
from devbox.project.detect import ProjectKind
from devbox.project.files import read_text, refuse_link, write_all
from devbox.project.merge import add_ignores, add_secret_block, add_watch, record_settings
from devbox.project.settings import ProjectSettings
from devbox.project.templates import ENV_FILE, watch_rules

ALWAYS_IGNORED = (".venv", ".devbox")  # appended to an existing .dockerignore, with secrets


class FileOutcome(StrEnum):
    CREATED = "created"
    UNCHANGED = "unchanged"
    DIFFERS = "differs (kept yours; --diff shows how, --force replaces it and keeps a .bak)"
    REPLACED = "replaced (old file kept as {bak})"
    UPDATED = "updated: {what}"
    KEPT = "kept: {what}"


@dataclass(frozen=True)
class FileResult:
    """What init does with one file: `content` is what to write (None: nothing), and
    `backup` where the old file goes first (`--force`)."""

    path: Path
    outcome: FileOutcome
    message: str
    diff: str = ""
    content: str | None = None
    backup: Path | None = None


def _diff(path: Path, old: str, new: str) -> str:
    lines = difflib.unified_diff(
        old.splitlines(keepends=True),
        new.splitlines(keepends=True),
        f"{path.name} (yours)",
        f"{path.name} (devbox)",
    )
    return "".join(lines)


def _old(path: Path) -> str | None:
    """The file as it is, its line endings (CRLF, say) included: what init adds keeps them."""
    refuse_link(path)
    return read_text(path, keep_newlines=True)


def plan_file(path: Path, content: str, *, force: bool, ours: str | None = None) -> FileResult:
    """Create the file, or (with `force`) replace a differing one, keeping `<name>.bak`.

    `ours` is the file as init writes it for the settings recorded before this run: a file
    still equal to it is init's own, unedited, so it follows the new settings (`init
    --command ...`, a Python chosen again) with no `--force` and nothing to back up."""
    old = _old(path)
    if old is None:
        return FileResult(path, FileOutcome.CREATED, FileOutcome.CREATED.value, content=content)
    if old.replace("\r\n", "\n") == content:  # the same lines, in the file's own endings
        return FileResult(path, FileOutcome.UNCHANGED, FileOutcome.UNCHANGED.value)
    if ours is not None and old == ours:
        what = "init's own, unedited, written again for the new settings"
        return FileResult(path, FileOutcome.UPDATED, FileOutcome.UPDATED.value.format(what=what),
                          content=content)  # fmt: skip
    if not force:
        return FileResult(
            path, FileOutcome.DIFFERS, FileOutcome.DIFFERS.value, _diff(path, old, content)
        )
    bak = path.with_name(path.name + ".bak")
    if bak.exists() or bak.is_symlink():
        raise ConfigError(
            f"{bak}: already exists; move it away, then `devbox init --force` replaces {path.name}"
        )
    message = FileOutcome.REPLACED.value.format(bak=bak.name)
    return FileResult(path, FileOutcome.REPLACED, message, content=content, backup=bak)


def _update(path: Path, old: str, new: str, what: str) -> FileResult:
    if new == old:
        return FileResult(path, FileOutcome.UNCHANGED, FileOutcome.UNCHANGED.value)
    message = FileOutcome.UPDATED.value.format(what=what)
    return FileResult(path, FileOutcome.UPDATED, message, content=new)


def plan_compose(
    path: Path,
    content: str,
    settings: ProjectSettings,
    project_dir: Path,
    force: bool,
    planned: Mapping[Path, str],
    *,
    sync_exec: bool = True,
    env_file: bool = False,
    ours: str | None = None,
) -> FileResult:
    """A new compose file, or `develop.watch` (and `env_file`) added to the user's,
    comments kept; `ours` as for `plan_file`."""
    old = _old(path)
    if old is None or old == content or force or (ours is not None and old == ours):
        return plan_file(path, content, force=force, ours=ours)
    read_yaml(path, old)  # what devbox's reader refuses (too deep, a list as a key) is not merged
    folder = path.parent

    def builds_project(context: str) -> bool:
        return (folder / context).resolve() == project_dir.resolve()

    def has_dev_stage(context: str, dockerfile: str) -> bool:
        file = folder / context / dockerfile
        text = planned.get(file) or read_text(file)  # the Dockerfile init writes now counts
        return text is not None and "dev" in dockerfile_targets(text)

    merged = add_watch(
        old,
        file=str(path),
        service=settings.service,
        watch=watch_rules(settings, project_dir, sync_exec=sync_exec),
        builds_project=builds_project,
        has_dev_stage=has_dev_stage,
        env_file=ENV_FILE if env_file else None,
    )
    if merged is None:
        return FileResult(
            path, FileOutcome.KEPT, FileOutcome.KEPT.value.format(what="it has develop.watch")
        )
    added = ["develop.watch"] + ["build target dev"] * merged.added_target
    added += ["env_file .env"] * merged.added_env_file
    what = ", ".join(added[:-1]) + " and " + added[-1] if len(added) > 1 else added[0]
    message = f"added {what} to services.{merged.service}"
    if merged.shielded:
        names = ", ".join(f"services.{name}" for name in merged.shielded)
        message += f"; a volume on /app/.venv to {names} (their `.:/app` hid the image's)"
    return _update(path, old, merged.text, message)


def plan_dockerignore(path: Path, content: str, force: bool) -> FileResult:
    """A new .dockerignore, or the entries devbox needs appended to the user's."""
    old = _old(path)
    if old is None or force:
        return plan_file(path, content, force=force)
    new, added = add_ignores(old, ALWAYS_IGNORED)
    new, secrets = add_secret_block(new)
    if secrets:
        added.append(f"the secrets block ({len(secrets)} patterns)")
    return _update(path, old, new, f"added {', '.join(added)}")


def plan_specific_dockerignore(path: Path) -> FileResult | None:
    """`Dockerfile.dockerignore`, when there is one, gets what `.dockerignore` would: a
    build reads it instead of `.dockerignore`. None when there is none."""
    old = _old(path)
    if old is None:
        return None
    new, added = add_ignores(old, ALWAYS_IGNORED)
    new, secrets = add_secret_block(new)
    if secrets:
        added.append(f"the secrets block ({len(secrets)} patterns)")
    return _update(path, old, new, f"added {', '.join(added)}")


def recorded_values(settings: ProjectSettings) -> dict[str, object]:
    """The `[tool.devbox]` keys init records for these settings, as TOML values."""
    chosen: dict[str, object] = {
        "service": settings.service,
        "port": settings.port,
        "command": list(settings.command),
        "python-image": settings.python_image,
        "uv-version": settings.uv_version,
    }
    if settings.app_port != DEFAULT_PORT:
        chosen["app-port"] = settings.app_port
    if settings.dev_command != settings.command:
        chosen["dev-command"] = list(settings.dev_command)
    if settings.kind is not ProjectKind.REQUIREMENTS:
        chosen["prod-sources"] = settings.prod_sources
    if settings.package:
        chosen["package"] = settings.package
    if settings.smoke:
        chosen["smoke"] = list(settings.smoke)
    if settings.uv_digest:
        chosen["uv-digest"] = settings.uv_digest
    return chosen


def plan_record(
    project_dir: Path, settings: ProjectSettings, *, flags: Collection[str] = ()
) -> FileResult | None:
    """init's choices recorded in `[tool.devbox]`: the keys named in `flags` (options
    passed to init) as the user's, the others as init's (keys the user set are kept)."""
    path = project_dir / "pyproject.toml"
    old = _old(path)
    if old is None:
        return None
    chosen = recorded_values(settings)
    recorded = record_settings(old, chosen, flags=flags)
    what = [f"recorded {', '.join(recorded.written)}"] if recorded.written else []
    what += [f"dropped {', '.join(recorded.removed)}"] if recorded.removed else []
    return _update(path, old, recorded.text, f"{'; '.join(what)} in [tool.devbox]")


def apply(results: Sequence[FileResult]) -> None:
    """Write every planned file, or none (backups first, each from the file it keeps)."""
    changes: list[tuple[Path, str]] = []
    for result in results:
        if result.backup is not None:
            old = read_text(result.path, keep_newlines=True)
            assert old is not None  # a backup is planned only for an existing file
            changes.append((result.backup, old))
        if result.content is not None:
            changes.append((result.path, result.content))
    write_all(changes)
