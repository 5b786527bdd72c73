"""What devbox knows about a project: `pyproject.toml`, `.python-version`, `[tool.devbox]`.

Read with tomllib and validated field by field, so that a bad value is reported
with its file, field and fix instead of surfacing later as a failed build.
"""

import platform
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devbox import defaults
from devbox.errors import ConfigError, config_error
from devbox.project.apps import choose_app, named_port
from devbox.project.choices import chosen_keys
from devbox.project.detect import (
    ProjectKind,
    allowed_pythons,
    choose_python,
    detect_kind,
    dockerfile_command,
    image_python,
    implausible_version,
    python_mismatch,
    requested_python,
)
from devbox.project.files import parse_toml, read_requirements, read_text
from devbox.project.shape import (
    Shape,
    dependency_names,
    infer_shape,
    load_members,
    reloader_note,
    reloading,
)
from devbox.project.wheels import (
    Locked,
    compiler_advice,
    machine_name,
    python_bound,
    read_lock,
    without_wheels,
)

_KNOWN_KEYS = {
    "service",
    "python-image",
    "uv-version",
    "port",
    "app-port",
    "command",
    "dev-command",
    "health-path",
    "uv-digest",
    "smoke",
    "package",
    "prod-sources",
    "engine",  # read by devbox.engine.kind
    "writes-back",  # read by devbox.sync.writeback
}


@dataclass(frozen=True, kw_only=True)
class ProjectSettings:
    """Everything templates need to know about one project."""

    name: str
    service: str
    python_image: str
    uv_version: str
    port: int  # the host port, on 127.0.0.1
    command: tuple[str, ...]
    dev_command: tuple[str, ...]
    health_path: str | None
    kind: ProjectKind
    uv_digest: str | None = None
    smoke: tuple[str, ...] | None = None  # run in the prod container by `devbox smoke`
    # The project's shape (devbox/project/shape.py): what init chose, and why.
    prod_sources: bool = True
    package: str | None = None
    all_packages: bool = False
    local_deps: bool = False
    notes: tuple[str, ...] = ()
    # Keys taken from your Dockerfile (its CMD, its FROM): your word, recorded as yours,
    # so init keeps them once its own Dockerfile (`--force`) replaces the one that said so.
    from_your_dockerfile: tuple[str, ...] = ()
    # Why the app reads `.env` (a settings library in the dependencies, or the file is
    # there); None when nothing says so. init then gives the dev service `env_file`.
    dotenv: str | None = None
    # The port the app listens on in the container (`port` on the host maps to it).
    app_port: int = defaults.DEFAULT_PORT

    @property
    def uv_image(self) -> str:
        digest = f"@{self.uv_digest}" if self.uv_digest else ""
        return f"ghcr.io/astral-sh/uv:{self.uv_version}{digest}"


# The formats Docker and Compose accept, checked before a value reaches a generated file
# (a newline in a service name would add YAML; a space in an image breaks the Dockerfile).
SERVICE_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]*")  # Compose's service name
_DOMAIN_PART = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
_PATH_PART = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
IMAGE_REFERENCE = re.compile(  # Docker's reference grammar: [host[:port]/]path[:tag][@digest]
    rf"(?:{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*(?::[0-9]+)?/)?"
    rf"{_PATH_PART}(?:/{_PATH_PART})*"
    r"(?::[\w][\w.-]{0,127})?"
    r"(?:@sha256:[0-9a-f]{64})?",
    re.ASCII,
)
UV_VERSION = re.compile(r"\d+\.\d+\.\d+", re.ASCII)


def _checked(
    path: Path, key: str, value: object, pattern: re.Pattern[str], what: str, fix: str
) -> str:
    """`value` when it is a string in `pattern`'s format, else a one-line `ConfigError`."""
    if isinstance(value, str) and len(value) <= 255 and pattern.fullmatch(value):
        return value
    raise config_error(path, f"tool.devbox.{key}", f"{value!r} is not {what}", fix)


def service_name(project_name: str) -> str:
    """A Compose service name from a project name ('Sample_App' -> 'sample-app')."""
    name = re.sub(r"[^a-z0-9]+", "-", project_name.lower()).strip("-")
    return name or "app"


def python_image_for(version: str) -> str:
    """The slim Debian trixie image of a Python version ('3.13' -> 'python:3.13-slim-trixie')."""
    return f"python:{version}-slim-trixie"


def load_pyproject(project_dir: Path, *, required: bool = True) -> dict[str, Any] | None:
    path = project_dir / "pyproject.toml"
    text = read_text(path)
    if text is None:
        if not required:
            return None
        raise ConfigError(f"{path}: not found; devbox works on uv projects (run `uv init` first)")
    return parse_toml(path, text)


def _script_of(project_dir: Path) -> str:
    """The project's script to name in advice: `app.py` or `main.py` if there, else the
    first Python file at the top (hello-world.py), else `app.py`."""
    tops = sorted(
        p.name for p in project_dir.glob("*.py") if p.name not in ("setup.py", "conftest.py")
    )
    return next((n for n in ("app.py", "main.py") if n in tops), tops[0] if tops else "app.py")


def _requirements_app(project_dir: Path, port: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A requirements.txt project's command and its notes, found as for a uv project: an
    app its requirements serve (avahak/tba's `app/__init__.py` factory), or `main.py` /
    `app.py`; else a one-line error naming the command to pass."""
    found = choose_app(
        project_dir, requirement_names(project_dir), port, package=None, installed=None
    )
    if found is not None and found.command is not None:  # an app, or main.py/app.py
        hints = tuple(f"command: {hint}" for hint in found.hints)
        return found.command, (f"command: {' '.join(found.command)} ({found.why})", *hints)
    hint = f"; {found.hints[0]}" if found is not None and found.hints else ""
    raise ConfigError(
        f"{project_dir}: a requirements.txt project has no console script; pass "
        f'--command "python {_script_of(project_dir)}" (or set [tool.devbox] command){hint}'
    )


def _command(path: Path, field: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str) and value.strip():
        try:
            parts = tuple(shlex.split(value))
        except ValueError as exc:  # an unclosed quote
            raise config_error(path, field, str(exc), "close the quote, or use a list") from None
    elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        parts = tuple(value)
    else:
        raise config_error(
            path, field, "must be a non-empty string or list of strings", 'e.g. "app --reload"'
        )
    if any("\x00" in part for part in parts):  # exec cannot pass it; the build would fail late
        raise config_error(path, field, "contains a NUL byte", "remove it")
    return parts


def read_settings(
    project_dir: Path,
    *,
    overrides: Mapping[str, object] | None = None,
    choose: bool = False,
    fresh: bool = False,
) -> ProjectSettings:
    """Settings from `[tool.devbox]`, with `overrides` (same keys; from CLI options) on top.

    With `choose` (init), the keys init chose before are left out and chosen again from
    what the project says now (devbox/project/choices.py); the user's keys stay. With
    `fresh`, every key is left out: what init alone would choose, given `overrides`.
    """
    data = load_pyproject(project_dir, required=False)
    path = project_dir / "pyproject.toml"
    project = (data or {}).get("project", {})
    if not isinstance(project, dict):
        raise config_error(path, "project", "must be a table", "write it as [project]")
    tools = (data or {}).get("tool", {})
    if not isinstance(tools, dict) or not isinstance(tools.get("uv", {}), dict):
        field = "tool" if not isinstance(tools, dict) else "tool.uv"
        raise config_error(path, field, "must be a table", f"write it as [{field}.<name>]")
    kind = detect_kind(project_dir, data)
    if kind is None and data is not None:
        raise config_error(
            path, "project", "missing", "add a [project] table with a name (`uv init` writes one)"
        )
    if kind is None:
        raise ConfigError(
            f"{path}: not found, and no requirements.txt either; devbox works on uv projects "
            "(run `uv init` first)"
        )
    name = project.get("name") if kind is not ProjectKind.REQUIREMENTS else project_dir.name
    if kind is ProjectKind.WORKSPACE and "project" not in (data or {}):
        name = project_dir.name  # a virtual workspace root
    if not isinstance(name, str) or not name:
        raise config_error(path, "project.name", "missing", "add a name to [project]")
    tool = tools.get("devbox", {})
    if not isinstance(tool, dict):
        raise config_error(path, "tool.devbox", "must be a table", "write it as [tool.devbox]")
    if fresh:
        tool = {}
    elif choose:
        previous = chosen_keys(read_text(path) or "")
        tool = {key: value for key, value in tool.items() if key not in previous}
    tool = {**tool, **(overrides or {})}
    unknown = sorted(set(tool) - _KNOWN_KEYS)
    if unknown:
        known = ", ".join(sorted(_KNOWN_KEYS))
        raise config_error(path, f"tool.devbox.{unknown[0]}", "unknown key", f"use one of {known}")

    port = _port(path, "port", tool.get("port", defaults.DEFAULT_PORT))

    command = _command(path, "tool.devbox.command", tool["command"]) if "command" in tool else None
    # Your Dockerfile's CMD is what your project runs (smoke then tests it, not a console
    # script beside it); devbox's own Dockerfile is made again from these settings.
    dockerfile = read_text(project_dir / "Dockerfile")
    yours = dockerfile_command(dockerfile) if command is None else None
    command = command or yours
    dev_command = (
        _command(path, "tool.devbox.dev-command", tool["dev-command"])
        if "dev-command" in tool
        else None
    )
    # The app's port in the container: yours (app-port), else the one your own command
    # names (`--port 5000`), else 8000; the commands init writes listen on it, and the
    # host's `port` is published to it.
    app_port = (
        _port(path, "app-port", tool["app-port"])
        if "app-port" in tool
        else named_port(dev_command or ()) or named_port(command or ()) or defaults.DEFAULT_PORT
    )
    shape: Shape | None = None
    members: dict[Path, dict[str, Any]] = {}
    app_notes: tuple[str, ...] = ()
    if kind is ProjectKind.REQUIREMENTS:
        if command is None:
            command, app_notes = _requirements_app(project_dir, app_port)
            if dev_command is None:
                dev_command, framework = reloading(command)
                if framework is not None:
                    app_notes += (reloader_note(dev_command, framework),)
    else:
        assert data is not None
        members = load_members(project_dir, data)
        shape = infer_shape(
            project_dir, data, members, tool=tool, command=command, dev_command=dev_command,
            port=app_port,
        )  # fmt: skip
        command, dev_command = shape.command, shape.dev_command
    assert command is not None
    dev_command = dev_command or command
    command_notes = (
        (f"command: {' '.join(command)}, your Dockerfile's CMD",) if yours is not None else ()
    ) + app_notes

    if "python-image" in tool:
        python_image = _checked(
            path,
            "python-image",
            tool["python-image"],
            IMAGE_REFERENCE,
            "an image reference",
            'use a name like "python:3.13-slim-trixie" (lowercase, optional :tag, @sha256:...)',
        )
        python_notes: tuple[str, ...] = ()  # init checks the lock's wheels for it (wheel_notes)
        dockerfile_image = False
    else:
        version_file = project_dir / ".python-version"
        version_text = read_text(version_file)
        odd = implausible_version(version_text)
        if odd is not None:
            shown = repr(odd) if len(odd) <= 20 else repr(odd[:20]) + f" ({len(odd)} characters)"
            raise ConfigError(
                f"{version_file}: {shown} is not a Python version; write one like 3.13 "
                "(`uv python pin 3.13`)"
            )
        choice = choose_python(
            version_file=version_text,
            requires_python=_requires_python(project),
            dockerfile=dockerfile,
            packages=locked_packages(project_dir),
            machine=machine_name(platform.machine()),
        )
        python_image = choice.image or python_image_for(choice.version)
        dockerfile_image = choice.image is not None
        python_notes = choice.notes
        if choice.image:
            python_notes = (f"python-image: {choice.image}, from your Dockerfile", *python_notes)

    health = tool.get("health-path")
    if health is not None and (
        not isinstance(health, str)
        or not health.startswith("/")
        or re.search(r"[\s\x00-\x1f\x7f]", health)
    ):
        raise config_error(
            path,
            "tool.devbox.health-path",
            f"{health!r} is not a path",
            'e.g. "/health"',
        )
    smoke = _command(path, "tool.devbox.smoke", tool["smoke"]) if "smoke" in tool else None
    digest = tool.get("uv-digest")
    if digest is not None and not (
        isinstance(digest, str) and re.fullmatch(r"sha256:[0-9a-f]{64}", digest)
    ):
        raise config_error(
            path, "tool.devbox.uv-digest", f"{digest!r} is not a digest", "use sha256:<64 hex>"
        )

    service = _checked(
        path,
        "service",
        tool.get("service", service_name(name)),
        SERVICE_NAME,
        "a Compose service name",
        "use lowercase letters, digits, '.', '_' and '-', starting with a letter or digit",
    )
    uv_version = _checked(
        path,
        "uv-version",
        tool.get("uv-version", defaults.UV_VERSION),
        UV_VERSION,
        "a uv version",
        f'use an exact release like "{defaults.UV_VERSION}"',
    )
    return ProjectSettings(
        name=name,
        service=service,
        python_image=python_image,
        uv_version=uv_version,
        port=port,
        app_port=app_port,
        command=command,
        dev_command=dev_command,
        health_path=health,
        kind=kind,
        uv_digest=digest,
        smoke=smoke or (shape.smoke if shape else None),
        dotenv=reads_dotenv(project_dir, data or {}, members),
        **_shape_fields(shape, python_notes, lead=command_notes),
        from_your_dockerfile=(
            *(("command",) if yours is not None else ()),
            *(("python-image",) if dockerfile_image else ()),
        ),
    )


def _port(path: Path, key: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 65535:
        raise config_error(path, f"tool.devbox.{key}", f"{value!r} is not a port", "use 1-65535")
    return value


# Libraries that load `.env` into the app's settings (normalized names).
DOTENV_LIBRARIES = (
    "pydantic-settings",
    "python-dotenv",
    "environs",
    "django-environ",
    "python-decouple",
)


def requirement_names(project_dir: Path) -> set[str]:
    """The package names requirements.txt lists, normalized (none when there is none)."""
    requirements = read_requirements(project_dir / "requirements.txt") or ""
    return {
        match.group(1).lower().replace("_", "-")
        for match in re.finditer(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirements, re.MULTILINE)
    }


def reads_dotenv(
    project_dir: Path, pyproject: dict[str, Any], members: Mapping[Path, dict[str, Any]]
) -> str | None:
    """Why the app reads `.env` (None when nothing says so): a library that loads it in the
    dependencies of the project or a workspace member, or the file itself."""
    names = dependency_names(pyproject)
    for data in members.values():
        names |= dependency_names(data)
    names |= requirement_names(project_dir)
    found = [name for name in DOTENV_LIBRARIES if name in names]
    if found:
        return f"{found[0]} in the dependencies"
    if (project_dir / ".env").is_file():
        return ".env is there"
    return None


def _requires_python(project: dict[str, Any]) -> str | None:
    value = project.get("requires-python")
    return value if isinstance(value, str) else None


def locked_packages(project_dir: Path) -> list[Locked]:
    """The wheel-distributed packages of the project's uv.lock (none without one)."""
    text = read_text(project_dir / "uv.lock")
    return read_lock(text) if text is not None else []


def lock_wheel_gaps(project_dir: Path, python_image: str) -> tuple[str | None, list[Locked]]:
    """The image's Python and the locked packages with no wheel for it (None, [] when the
    image's tag names no Python)."""
    have = image_python(python_image)
    if have is None:
        return None, []
    minor = ".".join(have.split(".")[:2])
    machine = machine_name(platform.machine())
    return minor, without_wheels(locked_packages(project_dir), minor, machine)


def wheel_notes(project_dir: Path, settings: ProjectSettings) -> list[str]:
    """init's note when the image's Python has no wheel for some locked package, unless
    the choice of Python said so already. Not part of `read_settings`, which every command
    runs: parsing a large lock takes tens of milliseconds."""
    data = load_pyproject(project_dir, required=False) or {}
    project = data.get("project")
    requires = _requires_python(project) if isinstance(project, dict) else None
    advice = image_wheel_advice(project_dir, settings.python_image, requires)
    if advice is None or any(n.startswith("uv.lock has no ") for n in settings.notes):
        return []
    return [advice]


def image_wheel_advice(
    project_dir: Path, python_image: str, requires_python: str | None, *, source: str = "image"
) -> str | None:
    """One line when the image's Python has no wheel for some locked package: which ones,
    and the two ways out (None when every package has one, or the tag names no Python)."""
    minor, missing = lock_wheel_gaps(project_dir, python_image)
    if minor is None or not missing:
        return None
    packages = locked_packages(project_dir)
    machine = machine_name(platform.machine())
    allowed = allowed_pythons(requires_python)
    bound = python_bound(packages, machine)
    better = next((v for v in allowed if not without_wheels(bound, v, machine)), None)
    return compiler_advice(missing, minor, better=better, machine=machine, source=source)


def _shape_fields(
    shape: Shape | None, python_notes: tuple[str, ...], *, lead: tuple[str, ...] = ()
) -> dict[str, Any]:
    if shape is None:
        return {"notes": (*lead, *python_notes)}
    return {
        "prod_sources": shape.prod_sources,
        "package": shape.package,
        "all_packages": shape.all_packages,
        "local_deps": shape.local_deps,
        "notes": (*lead, *shape.notes, *python_notes),
    }


def check_image_python(project_dir: Path, python_image: str) -> None:
    """A `ConfigError` when the base image's Python cannot satisfy `.python-version`.

    uv in the image honours `.python-version` and the Dockerfile forbids downloads, so a
    mismatch would otherwise fail deep in the build. An image whose tag names no Python
    version is not guessed at.
    """
    path = project_dir / ".python-version"
    requested = requested_python(read_text(path))
    have = image_python(python_image)
    if requested is None or have is None or not python_mismatch(requested, have):
        return
    minor = ".".join(requested.split(".")[:2])
    raise ConfigError(
        f"{path}: asks for Python {requested}, but {python_image} has Python {have}; "
        f"change .python-version to {have}, or pass a matching --python-image "
        f"(e.g. {python_image_for(minor)})"
    )
