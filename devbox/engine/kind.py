"""Which engine devbox talks to, where it runs, and whether it can see the project folder.

Three kinds: local Docker, Docker elsewhere (`DOCKER_HOST` or a Docker context that is
not a local socket), and Podman. Whether the engine sees the project is asked of the
engine itself, never guessed from the URL: a local socket may lead to a daemon in
another mount namespace or VM (Docker Desktop shares only some folders), and a remote
machine may happen to hold the same path. The answer is cached per session in
`.devbox/engine.json`, keyed by the engine's address.
"""

import json
import os
import secrets
import shutil
import tarfile
import urllib.parse
from dataclasses import dataclass
from enum import StrEnum
from io import BytesIO
from pathlib import Path

from devbox.engine.modes import EngineName
from devbox.errors import EngineError, config_error
from devbox.project.settings import load_pyproject
from devbox.runtime import process, state

ENGINE_ENV = "DEVBOX_ENGINE"  # set by `--engine`, inherited by a detached `devbox up`
CLIENTS = tuple(name.value for name in EngineName)
PROBE_IMAGE = "localhost/devbox-probe:1"
PROBE_LABEL = "dev.devbox.probe=1"
_CACHE = "engine.json"
_LOCAL_SCHEMES = ("unix", "npipe", "")


class EngineKind(StrEnum):
    DOCKER = "docker"
    REMOTE = "remote docker"
    PODMAN = "podman"


def _invalid(project_dir: Path, value: object, origin: str) -> Exception:
    fix = 'use "docker" or "podman"'
    if origin == "setting":
        return config_error(
            project_dir / "pyproject.toml", "tool.devbox.engine", f"{value!r} is unknown", fix
        )
    return config_error(Path(origin), "engine", f"{value!r} is unknown", fix)


def choose_client(project_dir: Path | None, requested: str | None = None) -> tuple[str, str]:
    """(client name, why): `requested` (`--engine`), else $DEVBOX_ENGINE, else
    `[tool.devbox] engine`, else docker when its client is installed, else podman."""
    for value, origin in ((requested, "--engine"), (os.environ.get(ENGINE_ENV), ENGINE_ENV)):
        if value:
            if value not in CLIENTS:
                raise _invalid(project_dir or Path(), value, origin)
            why = "--engine or DEVBOX_ENGINE" if origin == ENGINE_ENV else origin
            return value, f"chosen by {why}"
    if project_dir is not None:
        data = load_pyproject(project_dir, required=False) or {}
        tool = data.get("tool", {})
        devbox = tool.get("devbox", {}) if isinstance(tool, dict) else {}
        value = devbox.get("engine") if isinstance(devbox, dict) else None
        if value is not None:
            if value not in CLIENTS:
                raise _invalid(project_dir, value, "setting")
            return str(value), "chosen by [tool.devbox] engine"
    if shutil.which("docker") is None and shutil.which("podman") is not None:
        return "podman", "Podman is the only engine installed"
    return "docker", "the default engine"


def docker_location(client: str = "docker") -> str:
    """The address of the Docker engine the client talks to: $DOCKER_HOST, else the
    endpoint of $DOCKER_CONTEXT or the current context, else the default socket."""
    if os.environ.get("DOCKER_HOST"):
        return os.environ["DOCKER_HOST"]
    fmt = "{{.Endpoints.docker.Host}}"
    try:
        result = process.run([client, "context", "inspect", "--format", fmt], check=False)
    except EngineError:  # no client: the version check says so clearly
        return "unix:///var/run/docker.sock"
    host = process.text(result.stdout) if result.returncode == 0 else ""
    return host or "unix:///var/run/docker.sock"


def kind_of(client: str, location: str) -> EngineKind:
    if client == "podman":
        return EngineKind.PODMAN
    scheme = urllib.parse.urlsplit(location).scheme
    return EngineKind.DOCKER if scheme in _LOCAL_SCHEMES else EngineKind.REMOTE


@dataclass(frozen=True)
class EngineInfo:
    """The engine of a session, as `up` and `status` report it."""

    kind: EngineKind
    client: str
    location: str
    why: str
    sees_project: bool | None  # None: not asked yet (status never asks)

    def describe(self, project_dir: Path) -> str:
        name = "Podman" if self.kind is EngineKind.PODMAN else "Docker"
        where = "" if self.kind is EngineKind.PODMAN else f" at {self.location}"
        remote = " (remote)" if self.kind is EngineKind.REMOTE else ""
        if self.sees_project is None:
            sees = "not yet asked whether it sees the project folder"
        elif self.sees_project:
            sees = f"it sees {project_dir}"
        else:
            sees = f"it cannot see {project_dir}: sources are copied in"
        return f"engine: {name}{where}{remote}, {self.why}; {sees}"

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind.value,
            "client": self.client,
            "location": self.location,
            "why": self.why,
            "sees_project": self.sees_project,
        }


def location_of(client: str) -> str:
    if client == "podman":
        return os.environ.get("CONTAINER_HOST") or "local"
    return docker_location(client)


def cached_answer(project_dir: Path, location: str, client: str) -> bool | None:
    """The last answer for this engine address, without asking the engine."""
    path = project_dir / state.STATE_DIR / _CACHE
    try:
        data = json.loads(path.read_text())
        value = data.get(f"{client} {location}")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, bool) else None


def _remember(project_dir: Path, location: str, client: str, sees: bool) -> None:
    path = state.state_dir(project_dir) / _CACHE
    try:
        data = json.loads(path.read_text())
        if not isinstance(data, dict):
            data = {}
    except (OSError, ValueError):
        data = {}
    data[f"{client} {location}"] = sees
    path.write_text(json.dumps(data, indent=2) + "\n")


def _empty_tar() -> bytes:
    buffer = BytesIO()
    with tarfile.open(fileobj=buffer, mode="w"):
        pass
    return buffer.getvalue()


def ask_sees_project(client: tuple[str, ...], project_dir: Path) -> bool:
    """Does a bind mount of `project_dir` on this engine show this machine's folder?

    A marker with a random token goes into `.devbox/`; a container is created (never
    started, so no shell or command is needed) from an empty image with a read-only bind
    of the folder, and the marker is copied out of it through the engine. An engine that
    refuses the bind (Docker Desktop: "path is not shared") does not see the folder.
    """
    folder = state.state_dir(project_dir)
    token = secrets.token_hex(16)
    marker = folder / f"probe-{token}"
    marker.write_text(token)
    name = f"devbox-probe-{token[:12]}"
    try:
        if process.run([*client, "image", "inspect", PROBE_IMAGE], check=False).returncode:
            imported = process.run(
                [*client, "import", "--change", f"LABEL {PROBE_LABEL}", "-", PROBE_IMAGE],
                input=_empty_tar(),
                check=False,
            )
            if imported.returncode != 0:
                why = process.reason(imported, "no output")
                raise EngineError(f"cannot ask the engine whether it sees {project_dir}: {why}")
        create = ["create", "--name", name, "--label", PROBE_LABEL, "--pull", "never"]
        bind = ["--volume", f"{project_dir}:/devbox-probe:ro"]
        if process.run([*client, *create, *bind, PROBE_IMAGE, "/probe"], check=False).returncode:
            return False
        copied = process.run(
            [*client, "cp", f"{name}:/devbox-probe/{state.STATE_DIR}/{marker.name}", "-"],
            check=False,
        )
        return copied.returncode == 0 and token.encode() in (copied.stdout or b"")
    finally:
        process.run([*client, "rm", "--force", "--volumes", name], check=False)
        marker.unlink(missing_ok=True)


def engine_info(
    client: tuple[str, ...], why: str, project_dir: Path, *, ask: bool = True
) -> EngineInfo:
    """The engine behind `client`. With `ask` (once per session), asks whether it sees the
    project and caches the answer; without, reads the cached answer."""
    location = location_of(client[0])
    kind = kind_of(client[0], location)
    if ask:  # once per session (`up`); the others read its answer
        sees: bool | None = ask_sees_project(client, project_dir)
        _remember(project_dir, location, client[0], bool(sees))
    else:
        sees = cached_answer(project_dir, location, client[0])
    return EngineInfo(kind=kind, client=client[0], location=location, why=why, sees_project=sees)


def forget(project_dir: Path) -> None:
    """Drop cached answers (a session ends: the next one asks again)."""
    (project_dir / state.STATE_DIR / _CACHE).unlink(missing_ok=True)


def podman_run_options(client: tuple[str, ...]) -> list[str]:
    """Options `podman run` needs to start at all.

    Podman (4.x) takes `$DOCKER_CONFIG/config.json` as its default login file and refuses
    to run anything when that file is missing ("stat .../config.json: no such file or
    directory"), though a Docker config folder without one is common (Compose plugins
    only). An empty `--authfile` then gives Podman its own default look-up; a folder that
    holds logins, or `REGISTRY_AUTH_FILE`, is left as the user set it."""
    if client[0] != "podman" or os.environ.get("REGISTRY_AUTH_FILE"):
        return []
    folder = os.environ.get("DOCKER_CONFIG")
    if not folder or (Path(folder) / "config.json").is_file():
        return []
    return ["--authfile", ""]


def local_image(client: tuple[str, ...], tag: str) -> str:
    """A locally built image's name: Podman wants a registry part (`localhost/...`)."""
    if client[0] == "podman" and "/" not in tag.split(":")[0]:
        return f"localhost/{tag}"
    return tag
