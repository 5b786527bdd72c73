"""Rendering `templates/` for a project: pure functions from settings to file contents."""

import json
import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from devbox import __version__, uv
from devbox.defaults import APP_DIR, CACHE_VOLUME, UV_CACHE_DIR
from devbox.project.detect import ProjectKind
from devbox.project.secrets import block_lines
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


def dependency_rules(
    settings: ProjectSettings, project_dir: Path, *, sync_exec: bool
) -> list[dict[str, Any]]:
    """The watch rules for dependency files. With `sync_exec` (Compose >= 2.32) a new
    pyproject.toml or uv.lock is synced and installed by `uv sync` in the running container
    (as root, so a non-root service's .venv is writable), and only what changes the image
    itself (Dockerfile, .python-version) rebuilds; otherwise every dependency file rebuilds."""
    paths = rebuild_paths(settings, project_dir)
    if not sync_exec or settings.kind is ProjectKind.REQUIREMENTS:
        return [{"action": "rebuild", "path": p} for p in paths]
    command = dependency_sync(settings)
    rules: list[dict[str, Any]] = [
        {
            "action": "sync+exec",
            "path": p,
            "target": f"{APP_DIR}/{p.removeprefix('./')}",
            "exec": {"command": command, "user": "root"},
        }
        for p in paths
    ]
    image_files = ["Dockerfile"] + [".python-version"] * (project_dir / ".python-version").is_file()
    return rules + [{"action": "rebuild", "path": f"./{name}"} for name in image_files]


def watch_rules(
    settings: ProjectSettings, project_dir: Path, *, sync_exec: bool = True
) -> list[dict[str, Any]]:
    """The `develop.watch` devbox writes: sync the sources, install new dependencies."""
    sync: dict[str, Any] = {"action": "sync", "path": ".", "target": APP_DIR, "ignore": [".venv/"]}
    return [sync, *dependency_rules(settings, project_dir, sync_exec=sync_exec)]


def _rule_yaml(rule: dict[str, Any]) -> str:
    """One watch rule as the compose template writes it (8 spaces in, flow-style command)."""
    lines = [f"        - action: {rule['action']}", f"          path: {rule['path']}"]
    if "target" in rule:
        lines.append(f"          target: {rule['target']}")
    if "exec" in rule:
        command = ", ".join(json.dumps(word) for word in rule["exec"]["command"])
        lines += ["          exec:", f"            command: [{command}]"]
        lines.append(f"            user: {rule['exec']['user']}")
    return "\n".join(lines)


def _sync(settings: ProjectSettings | None, **flags: bool) -> uv.UvCommand:
    """The dev stage's `uv sync`, scoped as `[tool.devbox]` says."""
    return uv.sync(
        package=settings.package if settings else None,
        all_packages=bool(settings and settings.all_packages),
        **flags,
    )


def dependency_sync(settings: ProjectSettings | None) -> list[str]:
    """The command that brings a running dev container's .venv in step with a new lock: the
    dev stage's last `uv sync` (same flags), so the container matches a rebuilt image."""
    return _sync(settings).argv()


# The dev service's `env_file` when the app reads `.env`, which the image leaves out; a
# missing file is skipped (Compose >= 2.24).
ENV_FILE = {"path": ".env", "required": False}


def create_user(python_image: str) -> str:
    """The prod stage's non-root user `app` (uid and gid 999): Debian's groupadd/useradd,
    or BusyBox's addgroup/adduser on an Alpine image (a FROM of yours init keeps)."""
    if "alpine" in python_image.rsplit("/", 1)[-1]:
        return "RUN addgroup -S -g 999 app \\\n && adduser -S -D -u 999 -G app -h /home/app app"
    return (
        "RUN groupadd --system --gid 999 app \\\n"
        " && useradd --system --gid 999 --uid 999 --create-home app"
    )


def template_values(
    settings: ProjectSettings,
    project_dir: Path,
    *,
    sync_exec: bool = True,
    dev_stage: bool = True,
    env_file: bool = False,
) -> dict[str, str]:
    """The templates' placeholders. Without `dev_stage` (a Dockerfile of the user's that has
    no `dev` stage), compose.yaml names no target: Compose builds that Dockerfile as it is."""
    # Nothing local in this layer (the project, workspace members, path dependencies), so it
    # builds from pyproject.toml and uv.lock alone; with local packages only --frozen can skip
    # reading their pyproject.toml files. The full sync after COPY checks the lock (--locked).
    frozen = settings.local_deps or settings.kind is ProjectKind.WORKSPACE
    layer = {"frozen": frozen, "no_install_local": True}
    dev_requirements = project_dir / "requirements-dev.txt"
    # uv's cache in a named volume, for `uv sync` in the running container (uv projects only:
    # a requirements project rebuilds on every dependency change).
    cached = settings.kind is not ProjectKind.REQUIREMENTS
    return {
        "uv_cache_dir": UV_CACHE_DIR,
        "cache_mount": (
            "    volumes:\n"
            "      # uv's cache, kept between containers and sessions: `uv sync` after a\n"
            "      # dependency change is warm (`devbox down --volumes` removes it).\n"
            f"      - {CACHE_VOLUME}:{UV_CACHE_DIR}\n"
            if cached
            else ""
        ),
        "env_file": (
            "    # The app reads its settings from .env, which stays out of the image: Compose\n"
            "    # passes it to the container (and skips it while there is none).\n"
            "    env_file:\n      - path: .env\n        required: false\n"
            if env_file
            else ""
        ),
        "cache_volume": f"volumes:\n  {CACHE_VOLUME}: {{}}\n" if cached else "",
        "devbox_version": __version__,
        "python_image": settings.python_image,
        "create_user": create_user(settings.python_image),
        "uv_image": settings.uv_image,
        "service": settings.service,
        "build_target": (
            "      target: dev\n"
            if dev_stage
            else "      # Your Dockerfile has no `dev` stage: Compose builds it as it is.\n"
        ),
        "port": str(settings.port),
        "app_port": str(settings.app_port),
        # exec form, so that signals reach the app
        "command": json.dumps(list(settings.command)),
        "dev_command": json.dumps(list(settings.dev_command)),
        "deps_sync": _sync(settings, **layer).shell(),
        "full_sync": _sync(settings).shell(),
        "deps_sync_prod": _sync(settings, **layer, no_editable=True).shell(),
        "full_sync_prod": _sync(settings, no_editable=True).shell(),
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
            f"    {uv.pip_install(requirements='requirements-dev.txt').shell()}"
            if dev_requirements.is_file()
            else ""
        ),
        "dependency_comment": (
            "# A dependency change runs `uv sync` in the running container; the image\n"
            "        # is rebuilt when the Dockerfile or the Python version changes."
            if sync_exec and settings.kind is not ProjectKind.REQUIREMENTS
            else "# A dependency change rebuilds the image and replaces the container."
        ),
        "secrets_block": "\n".join(block_lines()),
        "rebuild_watch": "\n".join(
            _rule_yaml(rule)
            for rule in dependency_rules(settings, project_dir, sync_exec=sync_exec)
        ),
    }


def render_files(
    settings: ProjectSettings,
    project_dir: Path,
    *,
    sync_exec: bool = True,
    dev_stage: bool = True,
    env_file: bool = False,
) -> dict[str, str]:
    """File name -> content, for every file `init` writes; `sync_exec`: the installed
    Compose runs sync+exec rules (>= 2.32, or unknown); `dev_stage`: the Dockerfile the
    project will have has a `dev` stage (compose.yaml then builds it); `env_file`: the dev
    service gets `.env` as an optional env_file."""
    values = template_values(
        settings, project_dir, sync_exec=sync_exec, dev_stage=dev_stage, env_file=env_file
    )
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
