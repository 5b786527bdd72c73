"""`devbox init`: render the project files from `templates/` and write them safely.

Nothing a user wrote is lost: an existing Dockerfile is reported as unchanged or
differing (only `force` replaces it, keeping `<name>.bak`); an existing compose.yaml
gets `develop.watch` added with its comments kept; an existing .dockerignore and
pyproject.toml are only added to.
"""

import difflib
import json
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

from devbox import __version__, proc
from devbox.check import dockerfile_targets
from devbox.defaults import APP_DIR, COMPOSE_FILE_NAMES
from devbox.detect import ProjectKind
from devbox.errors import DevboxError, ExitCode
from devbox.merge import add_ignores, add_watch, record_settings
from devbox.settings import ProjectSettings, read_settings

_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
ALWAYS_IGNORED = (".venv", ".devbox")  # appended to an existing .dockerignore when missing


class Outcome(StrEnum):
    CREATED = "created"
    UNCHANGED = "unchanged"
    DIFFERS = "differs (kept yours; --diff shows how, --force replaces it and keeps a .bak)"
    REPLACED = "replaced (old file kept as {bak})"
    UPDATED = "updated: {what}"
    KEPT = "kept: {what}"


@dataclass(frozen=True)
class FileResult:
    path: Path
    outcome: Outcome
    message: str
    diff: str = ""


@dataclass(frozen=True)
class InitReport:
    settings: ProjectSettings
    files: list[FileResult]
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # written, but not valid


def templates_dir() -> Path:
    """`devbox/templates` inside a wheel; the top-level `templates/` in a source checkout."""
    packaged = Path(str(resources.files("devbox"))) / "templates"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "templates"


def render(template: str, values: Mapping[str, str]) -> str:
    """Replace `{{name}}` placeholders; an unknown name is a bug in the template, not user input."""
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], template)


def rebuild_paths(settings: ProjectSettings, project_dir: Path) -> list[str]:
    """Files whose change means new dependencies, hence a rebuild."""
    if settings.kind is ProjectKind.REQUIREMENTS:
        return [f"./{p.name}" for p in sorted(project_dir.glob("requirements*.txt"))]
    return ["./pyproject.toml", "./uv.lock"]


def watch_rules(settings: ProjectSettings, project_dir: Path) -> list[dict[str, Any]]:
    """The `develop.watch` devbox writes: sync the sources, rebuild on dependency files."""
    sync: dict[str, Any] = {"action": "sync", "path": ".", "target": APP_DIR, "ignore": [".venv/"]}
    return [sync] + [{"action": "rebuild", "path": p} for p in rebuild_paths(settings, project_dir)]


def template_values(settings: ProjectSettings, project_dir: Path) -> dict[str, str]:
    workspace = settings.kind is ProjectKind.WORKSPACE
    dev_requirements = project_dir / "requirements-dev.txt"
    return {
        "devbox_version": __version__,
        "python_image": settings.python_image,
        "uv_image": settings.uv_image,
        "service": settings.service,
        "port": str(settings.port),
        # exec form, so that signals reach the app
        "command": json.dumps(list(settings.command)),
        "dev_command": json.dumps(list(settings.dev_command)),
        # A workspace's members are not in this layer: --frozen needs only the lock;
        # the full sync after COPY checks the lock with --locked.
        "deps_flags": "--frozen --no-install-workspace"
        if workspace
        else "--locked --no-install-project",
        "dev_requirements": (
            "RUN --mount=type=cache,target=/root/.cache/uv \\\n"
            "    --mount=type=bind,source=requirements-dev.txt,target=requirements-dev.txt \\\n"
            "    uv pip install -r requirements-dev.txt"
            if dev_requirements.is_file()
            else ""
        ),
        "rebuild_watch": "\n".join(
            f"        - action: rebuild\n          path: {p}"
            for p in rebuild_paths(settings, project_dir)
        ),
    }


def render_files(settings: ProjectSettings, project_dir: Path) -> dict[str, str]:
    """File name -> content, for every file `init` writes."""
    values = template_values(settings, project_dir)
    folder = templates_dir()
    requirements = settings.kind is ProjectKind.REQUIREMENTS
    sources = {
        "Dockerfile": "Dockerfile.requirements.tmpl" if requirements else "Dockerfile.tmpl",
        ".dockerignore": "dockerignore.tmpl",
        "compose.yaml": "compose.yaml.tmpl",
    }
    return {
        name: render((folder / source).read_text(encoding="utf-8"), values)
        for name, source in sources.items()
    }


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
        return FileResult(path, Outcome.CREATED, Outcome.CREATED.value)
    old = path.read_text(encoding="utf-8")
    if old == content:
        return FileResult(path, Outcome.UNCHANGED, Outcome.UNCHANGED.value)
    if not force:
        return FileResult(path, Outcome.DIFFERS, Outcome.DIFFERS.value, _diff(path, old, content))
    bak = path.with_name(path.name + ".bak")
    if bak.exists():
        raise DevboxError(
            f"{bak}: already exists; move it away, then `devbox init --force` replaces {path.name}",
            ExitCode.CONFIG,
        )
    path.rename(bak)
    path.write_text(content, encoding="utf-8")
    return FileResult(path, Outcome.REPLACED, Outcome.REPLACED.value.format(bak=bak.name))


def _update(path: Path, old: str, new: str, what: str) -> FileResult:
    if new == old:
        return FileResult(path, Outcome.UNCHANGED, Outcome.UNCHANGED.value)
    path.write_text(new, encoding="utf-8")
    return FileResult(path, Outcome.UPDATED, Outcome.UPDATED.value.format(what=what))


def _compose(
    path: Path, content: str, settings: ProjectSettings, project_dir: Path, force: bool
) -> FileResult:
    old = path.read_text(encoding="utf-8") if path.exists() else None
    if old is None or old == content or force:
        return write_file(path, content, force=force)
    merged = add_watch(
        old, file=str(path), service=settings.service, watch=watch_rules(settings, project_dir)
    )
    if merged is None:
        return FileResult(
            path, Outcome.KEPT, Outcome.KEPT.value.format(what="it has develop.watch")
        )
    text, service = merged
    return _update(path, old, text, f"added develop.watch to services.{service}")


def _dockerignore(path: Path, content: str, force: bool) -> FileResult:
    if not path.exists() or force:
        return write_file(path, content, force=force)
    old = path.read_text(encoding="utf-8")
    new, added = add_ignores(old, ALWAYS_IGNORED)
    return _update(path, old, new, f"added {', '.join(added)}")


def _record(project_dir: Path, settings: ProjectSettings) -> FileResult | None:
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


def lock(project_dir: Path) -> None:
    uv = shutil.which("uv")
    if uv is None:
        raise DevboxError("uv: command not found; install uv, then run `uv lock`", ExitCode.CONFIG)
    result = proc.run([uv, "lock"], cwd=project_dir)
    if result.returncode != 0:
        raise DevboxError(f"uv lock failed: {proc.text(result.stderr)}", ExitCode.CONFIG)


def init_project(
    *,
    project_dir: Path,
    force: bool = False,
    lock_missing: bool = False,
    overrides: Mapping[str, object] | None = None,
) -> InitReport:
    """Write the Dockerfile, .dockerignore and compose.yaml for the project in `project_dir`."""
    project_dir = project_dir.resolve()
    settings = read_settings(project_dir, overrides=overrides)
    if settings.kind is ProjectKind.UNLOCKED:
        if not lock_missing:
            raise DevboxError(
                f"{project_dir / 'uv.lock'}: not found; run `uv lock` (or `devbox init --lock`): "
                "the Dockerfile installs exactly what the lock says",
                ExitCode.CONFIG,
            )
        lock(project_dir)
        settings = read_settings(project_dir, overrides=overrides)
    rendered = render_files(settings, project_dir)
    # A user's docker-compose.yml (or compose.yml) is merged into, never shadowed.
    compose = next(
        (project_dir / n for n in COMPOSE_FILE_NAMES if (project_dir / n).is_file()),
        project_dir / "compose.yaml",
    )
    files = [
        write_file(project_dir / "Dockerfile", rendered["Dockerfile"], force=force),
        _dockerignore(project_dir / ".dockerignore", rendered[".dockerignore"], force),
        _compose(compose, rendered["compose.yaml"], settings, project_dir, force),
    ]
    recorded = _record(project_dir, settings)
    if recorded is not None:
        files.append(recorded)
    verdict, valid = validate_compose(project_dir, compose)
    notes, problems = ([verdict], []) if valid else ([], [verdict])
    targets = dockerfile_targets((project_dir / "Dockerfile").read_text(encoding="utf-8"))
    missing = [t for t in ("dev", "prod") if t not in targets]
    if missing:
        notes.append(f"Dockerfile: no {' or '.join(missing)} target; devbox up and smoke need them")
    return InitReport(settings=settings, files=files, notes=notes, problems=problems)


def validate_compose(project_dir: Path, compose: Path) -> tuple[str, bool]:
    """Compose's verdict on the compose file (when Compose >= 2.22, which knows `develop`,
    is installed), and whether it is valid; reported after what was written, not instead."""
    from devbox.compose_file import project_name
    from devbox.engine import Engine
    from devbox.versions import COMPOSE_WATCH_MIN

    engine = Engine(
        project_dir=project_dir,
        compose_file=compose,
        project_name=project_name(project_dir.name),
    )
    version = engine.compose_version()
    if version is None or version < COMPOSE_WATCH_MIN:
        return f"{compose.name}: not validated (needs Compose >= {COMPOSE_WATCH_MIN})", True
    problem = engine.compose_config_error()
    if problem is not None:
        return f"{compose.name}: Compose {version} rejects it: {problem}", False
    return f"{compose.name}: valid for Compose {version}", True
