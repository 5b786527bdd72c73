"""The Docker engine and Compose, as devbox uses them.

The only module that imports python_on_whales, and only where its structured
answers help (the engine's version): its import costs about 0.3 s, which the
commands a user runs all day (`shell`, `status`, `logs`) must not pay. Everything
else runs the docker CLI through `proc`, as argv lists.
"""

import json
import shutil
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from devbox import proc
from devbox.compose_file import ComposeProject
from devbox.container import LABEL_SERVICE
from devbox.errors import DevboxError, ExitCode
from devbox.versions import Version, parse_version

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
SERVICE_LABELS = (SERVICE_LABEL, LABEL_SERVICE)  # watch mode's, then the fallback's


@dataclass(frozen=True)
class ContainerInfo:
    name: str
    service: str | None
    status: str
    running: bool
    started_at: datetime | None
    ports: tuple[str, ...]
    image: str


def container_info(inspected: dict[str, object]) -> ContainerInfo:
    """A container from `docker inspect`'s JSON (pure, so it is unit-tested)."""
    config: dict[str, object] = inspected.get("Config") or {}  # type: ignore[assignment]
    state: dict[str, object] = inspected.get("State") or {}  # type: ignore[assignment]
    network: dict[str, object] = inspected.get("NetworkSettings") or {}  # type: ignore[assignment]
    labels: dict[str, str] = config.get("Labels") or {}  # type: ignore[assignment]
    ports = [
        f"{binding.get('HostIp', '')}:{binding.get('HostPort', '')}->{port}"
        for port, bindings in (network.get("Ports") or {}).items()  # type: ignore[attr-defined]
        for binding in bindings or []
    ]
    started = str(state.get("StartedAt") or "")
    running = bool(state.get("Running"))
    return ContainerInfo(
        name=str(inspected.get("Name", "")).lstrip("/"),
        service=next((labels[k] for k in SERVICE_LABELS if k in labels), None),
        status=str(state.get("Status") or "unknown"),
        running=running,
        # Docker writes nanoseconds; Python parses microseconds.
        started_at=datetime.fromisoformat(started[:26].rstrip("Z") + "+00:00")
        if running and started and not started.startswith("0001")
        else None,
        ports=tuple(ports),
        image=str(config.get("Image") or ""),
    )


def _unreachable(output: str) -> DevboxError:
    lines = output.strip().splitlines()
    return DevboxError(
        f"cannot reach the Docker engine: {lines[-1] if lines else 'no answer'}; "
        "start Docker (or set DOCKER_HOST / DOCKER_CONTEXT)",
        ExitCode.ENGINE,
    )


class Engine:
    """One project's view of the engine: its client, its Compose, its containers."""

    def __init__(self, *, project_dir: Path, compose_file: Path, project_name: str) -> None:
        self.project_name = project_name
        self.project_dir = project_dir
        self.compose_file = compose_file

    @classmethod
    def for_project(cls, project: ComposeProject) -> "Engine":
        return cls(
            project_dir=project.project_dir, compose_file=project.file, project_name=project.name
        )

    def server_version(self) -> str:
        """The engine's version; a clear error when no engine answers."""
        from python_on_whales import DockerClient
        from python_on_whales.client_config import ClientNotFoundError
        from python_on_whales.exceptions import DockerException

        try:
            version = DockerClient().version().server
        except DockerException as exc:
            raise _unreachable(exc.stderr or exc.stdout or str(exc)) from None
        except (FileNotFoundError, ClientNotFoundError):
            raise DevboxError(
                "docker: command not found; install the Docker CLI", ExitCode.ENGINE
            ) from None
        if version is None or version.version is None:
            raise DevboxError("the Docker engine did not report its version", ExitCode.ENGINE)
        return str(version.version)

    def compose_version(self) -> Version | None:
        """Version of the `docker compose` plugin, or None when there is none."""
        try:
            result = proc.run(self.docker_cmd("compose", "version", "--short"))
        except DevboxError:
            return None  # no docker client at all
        return parse_version(proc.text(result.stdout)) if result.returncode == 0 else None

    def docker_cmd(self, *args: str) -> list[str]:
        """argv of a plain docker CLI command (DOCKER_HOST and DOCKER_CONTEXT apply)."""
        return ["docker", *args]

    def compose_cmd(self, *args: str, file: Path | None = None) -> list[str]:
        """argv of a Compose v2 command bound to this project (and its file, or `file`)."""
        return self.docker_cmd(
            "compose",
            "--file",
            str(file or self.compose_file),
            "--project-name",
            self.project_name,
            "--project-directory",
            str(self.project_dir),
            *args,
        )

    def compose_config_error(self) -> str | None:
        """Why Compose rejects the compose file, or None when it accepts it."""
        result = proc.run(self.compose_cmd("config", "--quiet"))
        if result.returncode == 0:
            return None
        return proc.text(result.stderr).splitlines()[-1] if result.stderr else "rejected"

    def compose_teardown(self, *, keep: Collection[str] = ()) -> None:
        """Remove the project's containers (except `keep`) with their anonymous volumes,
        then its networks if no container is left.

        `compose down` alone keeps anonymous volumes, and `down -v` would also
        remove named volumes, which may hold a user's data.
        """
        project = f"{PROJECT_LABEL}={self.project_name}"
        mine = [c.name for c in self.containers(project) if c.name not in keep]
        if mine:
            self.remove_containers(*mine)
        if not keep:
            proc.run(self.compose_cmd("down", "--remove-orphans"))

    def containers(self, *labels: str) -> list[ContainerInfo]:
        """All containers (running or not) carrying every `key=value` label given."""
        filters = [arg for label in labels for arg in ("--filter", f"label={label}")]
        listed = proc.run(self.docker_cmd("ps", "-aq", *filters))
        if listed.returncode != 0:
            raise _unreachable(proc.text(listed.stderr))
        ids = proc.text(listed.stdout).split()
        if not ids:
            return []
        result = proc.run(self.docker_cmd("inspect", *ids))
        try:
            return [container_info(item) for item in json.loads(result.stdout or b"[]")]
        except ValueError:
            return []  # a container vanished between the two calls: none to report

    def remove_containers(self, *names: str) -> None:
        """Remove containers (and their anonymous volumes) by name; missing ones are fine."""
        proc.run(self.docker_cmd("rm", "--force", "--volumes", *names))

    def remove_labelled(self, label: str, *, named_volumes: bool) -> list[str]:
        """Remove every container (with its anonymous volumes) and network carrying `label`;
        named volumes too when asked. Returns what was removed, for the report."""
        removed = []
        ids = proc.text(proc.run(self.docker_cmd("ps", "-aq", "--filter", f"label={label}")).stdout)
        if ids:
            self.remove_containers(*ids.split())
            removed.append(f"{len(ids.split())} container(s)")
        for kind in ("network", "volume") if named_volumes else ("network",):
            names = proc.text(
                proc.run(self.docker_cmd(kind, "ls", "-q", "--filter", f"label={label}")).stdout
            )
            if names:
                proc.run(self.docker_cmd(kind, "rm", *names.split()))
                removed.append(f"{len(names.split())} {kind}(s)")
        return removed


def compose_v1_version() -> Version | None:
    """Version of a standalone `docker-compose` v1, which python-on-whales does not drive."""
    binary = shutil.which("docker-compose")
    if binary is None:
        return None
    result = proc.run([binary, "version", "--short"])
    version = parse_version(proc.text(result.stdout)) if result.returncode == 0 else None
    return version if version is not None and version.major == 1 else None


class Containers:
    """Plain docker CLI operations on named containers, for the fallback."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._docker = engine.docker_cmd

    def build_cmd(
        self, *, context: Path, dockerfile: str, target: str | None, tag: str
    ) -> list[str]:
        args = ["build", "--tag", tag, "--file", str(context / dockerfile)]
        return self._docker(*args, *(["--target", target] if target else []), str(context))

    def run_cmd(self, args: list[str]) -> list[str]:
        return self._docker("run", *args)

    def running(self, name: str) -> bool:
        result = proc.run(
            self._docker("container", "inspect", "--format", "{{.State.Running}}", name)
        )
        return proc.text(result.stdout) == "true"

    def remove(self, name: str) -> None:
        self._engine.remove_containers(name)

    def copy_tar(self, name: str, data: bytes) -> None:
        # --archive: files belong to the container's USER, as Compose's copyUIDGID=true.
        result = proc.run(self._docker("cp", "--archive", "-", f"{name}:/"), input=data)
        if result.returncode != 0:
            raise DevboxError(f"copy into {name} failed: {proc.text(result.stderr)}")

    def exec(self, name: str, argv: Sequence[str], *, options: Sequence[str] = ()) -> int:
        return proc.run(self._docker("exec", *options, name, *argv), capture=False).returncode
