"""`devbox init`: render the project files from `templates/` and write them safely.

A file that exists is never overwritten silently: it is reported as unchanged or
differing, and only `force` replaces it, after keeping the old one as `<name>.bak`.
"""

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path

from devbox import __version__
from devbox.errors import DevboxError, ExitCode
from devbox.settings import ProjectSettings, read_settings

# template file -> file written in the project
FILES = {
    "Dockerfile.tmpl": "Dockerfile",
    "dockerignore.tmpl": ".dockerignore",
    "compose.yaml.tmpl": "compose.yaml",
}

_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


class Outcome(StrEnum):
    CREATED = "created"
    UNCHANGED = "unchanged"
    DIFFERS = "differs (kept yours; --force replaces it and keeps a .bak)"
    REPLACED = "replaced (old file kept as {bak})"


@dataclass(frozen=True)
class FileResult:
    path: Path
    outcome: Outcome
    message: str


def templates_dir() -> Path:
    """`devbox/templates` inside a wheel; the top-level `templates/` in a source checkout."""
    packaged = Path(str(resources.files("devbox"))) / "templates"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "templates"


def render(template: str, values: Mapping[str, str]) -> str:
    """Replace `{{name}}` placeholders; an unknown name is a bug in the template, not user input."""

    def value(match: re.Match[str]) -> str:
        return values[match.group(1)]

    return _PLACEHOLDER.sub(value, template)


def template_values(settings: ProjectSettings) -> dict[str, str]:
    return {
        "devbox_version": __version__,
        "python_image": settings.python_image,
        "uv_version": settings.uv_version,
        "service": settings.service,
        "port": str(settings.port),
        # exec form, so that signals reach the app
        "command": json.dumps(list(settings.command)),
        "dev_command": json.dumps(list(settings.dev_command)),
    }


def render_files(settings: ProjectSettings) -> dict[str, str]:
    """File name -> content, for every file `init` writes."""
    values = template_values(settings)
    folder = templates_dir()
    return {
        target: render((folder / source).read_text(encoding="utf-8"), values)
        for source, target in FILES.items()
    }


def write_file(path: Path, content: str, *, force: bool) -> FileResult:
    if not path.exists():
        path.write_text(content, encoding="utf-8")
        return FileResult(path, Outcome.CREATED, Outcome.CREATED.value)
    old = path.read_text(encoding="utf-8")
    if old == content:
        return FileResult(path, Outcome.UNCHANGED, Outcome.UNCHANGED.value)
    if not force:
        return FileResult(path, Outcome.DIFFERS, Outcome.DIFFERS.value)
    bak = path.with_name(path.name + ".bak")
    if bak.exists():
        raise DevboxError(
            f"{bak}: already exists; move it away, then `devbox init --force` replaces {path.name}",
            ExitCode.CONFIG,
        )
    path.rename(bak)
    path.write_text(content, encoding="utf-8")
    return FileResult(path, Outcome.REPLACED, Outcome.REPLACED.value.format(bak=bak.name))


def init_project(*, project_dir: Path, force: bool = False) -> list[FileResult]:
    """Write the Dockerfile, .dockerignore and compose.yaml for the project in `project_dir`."""
    project_dir = project_dir.resolve()
    settings = read_settings(project_dir)
    if not (project_dir / "uv.lock").is_file():
        raise DevboxError(
            f"{project_dir / 'uv.lock'}: not found; run `uv lock` first (the Dockerfile installs "
            "exactly what the lock says)",
            ExitCode.CONFIG,
        )
    return [
        write_file(project_dir / name, content, force=force)
        for name, content in render_files(settings).items()
    ]
