"""Rendering `templates/` for a project: pure functions from settings to file contents."""

import json
import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from devbox import __version__
from devbox.defaults import APP_DIR
from devbox.project.detect import ProjectKind
from devbox.project.settings import ProjectSettings

_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


def templates_dir() -> Path:
    """`devbox/templates` inside a wheel; the top-level `templates/` in a source checkout."""
    packaged = Path(str(resources.files("devbox"))) / "templates"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "templates"


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
    scope = (
        f"--package {settings.package}"
        if settings.package
        else "--all-packages"
        if settings.all_packages
        else ""
    )
    # Nothing local in this layer (the project, workspace members, path dependencies), so it
    # builds from pyproject.toml and uv.lock alone; with local packages only --frozen can skip
    # reading their pyproject.toml files. The full sync after COPY checks the lock (--locked).
    frozen = settings.local_deps or settings.kind is ProjectKind.WORKSPACE
    deps = f"{'--frozen' if frozen else '--locked'} --no-install-local {scope}".strip()
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
        "deps_flags": deps,
        "sync_flags": f"--locked {scope}".strip(),
        "prod_sources": (
            "# The command reads the project's files: the sources come along.\n"
            "COPY --chown=app:app . /app\n"
            if settings.prod_sources
            else ""
        ),
        "dev_requirements": (
            "RUN --mount=type=cache,target=/root/.cache/uv \\\n"
            "    --mount=type=bind,source=requirements-dev.txt,"
            "target=/app/requirements-dev.txt \\\n"
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
