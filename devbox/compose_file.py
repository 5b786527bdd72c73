"""Finding and reading the project's compose file.

The watch mode hands the file to Compose; the fallback mode reads the same file
itself (older Compose rejects the `develop` key), so both modes run the service
alike: ports, environment, working dir, command and user come from here.
"""

import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from devbox import defaults
from devbox.errors import DevboxError, ExitCode, config_error


@dataclass(frozen=True, kw_only=True)
class Service:
    name: str
    context: Path | None  # build context; None when the service has no `build:`
    dockerfile: str = "Dockerfile"
    target: str | None = None
    image: str | None = None
    ports: tuple[str, ...] = ()
    environment: "EnvPairs" = ()
    working_dir: str | None = None
    command: tuple[str, ...] | None = None
    user: str | None = None
    develop: Any = None


@dataclass(frozen=True, kw_only=True)
class ComposeProject:
    file: Path
    project_dir: Path
    name: str
    services: dict[str, Service] = field(default_factory=dict)


def find_compose_file(start: Path) -> Path:
    """The compose file in `start` or its nearest parent (like git), or `$COMPOSE_FILE`."""
    env_file = os.environ.get("COMPOSE_FILE")
    if env_file:
        first = Path(env_file.split(os.pathsep)[0])
        path = first if first.is_absolute() else start / first
        if not path.is_file():
            raise DevboxError(
                f"{path}: not found (from COMPOSE_FILE); fix COMPOSE_FILE", ExitCode.CONFIG
            )
        return path.resolve()
    start = start.resolve()
    for folder in (start, *start.parents):
        for name in defaults.COMPOSE_FILE_NAMES:
            if (folder / name).is_file():
                return folder / name
    raise DevboxError(
        f"{start}: no compose.yaml here or in a parent folder; run `devbox init` first",
        ExitCode.CONFIG,
    )


def project_name(raw: str) -> str:
    """Compose's normalisation of a project name: lower case, [a-z0-9_-] only."""
    return re.sub(r"[^a-z0-9_-]", "", raw.lower())


def _ports(file: Path, svc: str, value: Any) -> tuple[str, ...]:
    ports: list[str] = []
    for i, port in enumerate(value or []):
        if isinstance(port, int | str):
            ports.append(str(port))
        elif isinstance(port, dict) and "target" in port:
            host = f"{port['host_ip']}:" if port.get("host_ip") else ""
            published = f"{port['published']}:" if port.get("published") else ""
            ports.append(f"{host}{published}{port['target']}/{port.get('protocol', 'tcp')}")
        else:
            raise config_error(file, f"services.{svc}.ports[{i}]", "not a port", 'e.g. "8000:8000"')
    return tuple(ports)


EnvPairs = tuple[tuple[str, str | None], ...]


def env_pairs(value: Any) -> EnvPairs:
    """Compose's `environment` (a mapping, or a list of NAME=value) as pairs; None takes
    the host's value; booleans are written as Compose writes them ("true", "false")."""
    if isinstance(value, dict):
        return tuple(
            (str(k), None if v is None else str(v).lower() if isinstance(v, bool) else str(v))
            for k, v in value.items()
        )
    return tuple(
        (k, v if sep else None) for k, sep, v in (str(s).partition("=") for s in value or [])
    )


def _service(file: Path, project_dir: Path, name: str, raw: object) -> Service:
    if not isinstance(raw, dict):
        raise config_error(
            file, f"services.{name}", "must be a mapping", "indent its keys under it"
        )
    build = raw.get("build")
    context: Path | None = None
    dockerfile, target = "Dockerfile", None
    if isinstance(build, str):
        context = project_dir / build
    elif isinstance(build, dict):
        context = project_dir / str(build.get("context", "."))
        dockerfile = str(build.get("dockerfile", "Dockerfile"))
        target = build.get("target")
    command = raw.get("command")
    if isinstance(command, str):
        try:
            command = shlex.split(command)
        except ValueError as exc:  # an unclosed quote
            raise config_error(
                file, f"services.{name}.command", str(exc), "close the quote, or use a list"
            ) from None
    return Service(
        name=name,
        context=context.resolve() if context else None,
        dockerfile=dockerfile,
        target=target,
        image=raw.get("image"),
        ports=_ports(file, name, raw.get("ports")),
        environment=env_pairs(raw.get("environment")),
        working_dir=raw.get("working_dir"),
        command=tuple(str(part) for part in command) if command else None,
        user=None if raw.get("user") is None else str(raw["user"]),
        develop=raw.get("develop"),
    )


def load_compose(file: Path) -> ComposeProject:
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise DevboxError(
            f"{file}{where}: {problem}; fix the YAML syntax", ExitCode.CONFIG
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DevboxError(
            f"{file}: cannot read it ({exc}); fix the file", ExitCode.CONFIG
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("services"), dict):
        raise config_error(
            file, "services", "missing", "define at least one service (run `devbox init`)"
        )
    project_dir = file.parent
    name = project_name(
        os.environ.get("COMPOSE_PROJECT_NAME") or str(data.get("name") or project_dir.name)
    )
    services = {
        str(svc): _service(file, project_dir, str(svc), raw)
        for svc, raw in data["services"].items()
    }
    return ComposeProject(file=file, project_dir=project_dir, name=name, services=services)


def watched_service(project: ComposeProject, name: str | None) -> Service:
    """The service to develop: the one named, or the only one with `develop.watch`."""
    if name is not None:
        if name not in project.services:
            known = ", ".join(project.services)
            raise config_error(
                project.file, f"services.{name}", "no such service", f"use one of: {known}"
            )
        return project.services[name]
    watched = [
        s
        for s in project.services.values()
        if isinstance(s.develop, dict) and s.develop.get("watch")
    ]
    if len(watched) == 1:
        return watched[0]
    if not watched:
        raise config_error(
            project.file,
            "services.*.develop.watch",
            "no service has watch rules",
            "add a develop.watch section (devbox init writes one)",
        )
    names = ", ".join(s.name for s in watched)
    raise DevboxError(
        f"{project.file}: several services have watch rules ({names}); "
        "name one as the SERVICE argument",
        ExitCode.USAGE,
    )
