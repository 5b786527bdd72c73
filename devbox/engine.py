"""The Docker engine and Compose, as devbox uses them.

The only module that imports python_on_whales. Commands whose output must
stream (Compose watch, builds) are built from its argv and run through `proc`.
"""

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from python_on_whales import Container, DockerClient
from python_on_whales.exceptions import DockerException

from devbox import proc
from devbox.errors import DevboxError, ExitCode
from devbox.versions import Version, parse_version

PROJECT_LABEL = "com.docker.compose.project"


@dataclass(frozen=True)
class ContainerInfo:
    name: str
    service: str | None
    status: str
    running: bool
    started_at: datetime | None
    ports: tuple[str, ...]
    image: str


def _info(container: Container) -> ContainerInfo:
    labels = container.config.labels or {}
    ports = []
    for port, bindings in (container.network_settings.ports or {}).items():
        for binding in bindings or []:
            ports.append(f"{binding.get('HostIp', '')}:{binding.get('HostPort', '')}->{port}")
    return ContainerInfo(
        name=container.name,
        service=labels.get("com.docker.compose.service") or labels.get("dev.devbox.service"),
        status=container.state.status or "unknown",
        running=bool(container.state.running),
        started_at=container.state.started_at,
        ports=tuple(ports),
        image=container.config.image or "",
    )


def _first_line(exc: DockerException) -> str:
    lines = (exc.stderr or exc.stdout or str(exc)).strip().splitlines()
    return lines[-1] if lines else "no output"


class Engine:
    """One project's view of the engine: its client, its Compose, its containers."""

    def __init__(self, *, project_dir: Path, compose_file: Path, project_name: str) -> None:
        self.project_name = project_name
        self._docker = DockerClient(
            compose_files=[compose_file],
            compose_project_directory=project_dir,
            compose_project_name=project_name,
        )

    def server_version(self) -> str:
        """The engine's version; a clear error when no engine answers."""
        try:
            version = self._docker.version().server
        except DockerException as exc:
            raise DevboxError(
                f"cannot reach the Docker engine: {_first_line(exc)}; start Docker "
                "(or set DOCKER_HOST / DOCKER_CONTEXT)",
                ExitCode.ENGINE,
            ) from None
        except FileNotFoundError:
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
        except FileNotFoundError:
            return None  # no docker client at all
        return parse_version(proc.text(result.stdout)) if result.returncode == 0 else None

    def docker_cmd(self, *args: str) -> list[str]:
        """argv of a plain docker CLI command (the client python-on-whales uses)."""
        return [str(part) for part in self._docker.client_config.docker_cmd] + list(args)

    def compose_cmd(self, *args: str) -> list[str]:
        """argv of a Compose v2 command bound to this project."""
        return [str(part) for part in self._docker.client_config.docker_compose_cmd] + list(args)

    def compose_config_error(self) -> str | None:
        """Why Compose rejects the compose file, or None when it accepts it."""
        result = proc.run(self.compose_cmd("config", "--quiet"))
        if result.returncode == 0:
            return None
        return proc.text(result.stderr).splitlines()[-1] if result.stderr else "rejected"

    def compose_teardown(self) -> None:
        """Remove the project's containers with their anonymous volumes, then its networks.

        `compose down` alone keeps anonymous volumes, and `down -v` would also
        remove named volumes, which may hold a user's data.
        """
        proc.run(self.compose_cmd("rm", "--stop", "--force", "--volumes"))
        proc.run(self.compose_cmd("down", "--remove-orphans"))

    def containers(self, *labels: str) -> list[ContainerInfo]:
        """All containers (running or not) carrying every `key=value` label given."""
        filters: list[tuple[Literal["label"], str]] = [("label", label) for label in labels]
        return [_info(c) for c in self._docker.container.list(all=True, filters=filters)]

    def remove_labelled(self, label: str, *, named_volumes: bool) -> list[str]:
        """Remove every container (with its anonymous volumes) and network carrying `label`;
        named volumes too when asked. Returns what was removed, for the report."""
        removed = []
        ids = proc.text(proc.run(self.docker_cmd("ps", "-aq", "--filter", f"label={label}")).stdout)
        if ids:
            proc.run(self.docker_cmd("rm", "--force", "--volumes", *ids.split()))
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
        """Remove the container and its anonymous volumes; a missing container is fine."""
        proc.run(self._docker("rm", "--force", "--volumes", name))

    def copy_tar(self, name: str, data: bytes) -> None:
        result = proc.run(self._docker("cp", "-", f"{name}:/"), input=data)
        if result.returncode != 0:
            raise DevboxError(f"copy into {name} failed: {proc.text(result.stderr)}")

    def exec(self, name: str, argv: Sequence[str], *, options: Sequence[str] = ()) -> int:
        return proc.run(self._docker("exec", *options, name, *argv), capture=False).returncode
