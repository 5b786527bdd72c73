"""The whole Compose project around the fallback's dev containers: the services they
need, started by the Compose that exists (v2 before watch, or v1), and the networks
and volumes they join.

Old Compose rejects `develop`, so it is handed a develop-free copy of each compose
file (same names, `--project-directory` kept, so relative paths and `.env` resolve
as in the originals).
"""

import re
import shutil
import tempfile
import time
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from devbox.engine import labels
from devbox.engine.client import BUILDKIT, Engine
from devbox.engine.resolve import ResolvedProject, parse_config, strip_develop
from devbox.errors import ConfigError, HealthTimeout, StartError
from devbox.output import Echo
from devbox.project.compose import expanded_file
from devbox.runtime import process

WAIT_TIMEOUT = 300.0
_MISSING_ENV_FILE = re.compile(r"env file (\S+) not found")
_MISSING_NETWORK = re.compile(r"network (\S+) declared as external, but could not be found")


def rejection(reason: str) -> ConfigError:
    """Compose's refusal of the project's files (pure), with the fix where the cause is a
    known one: a required `env_file` that is not there (ClimenteA/django-starter's
    `webapp/.env`), an external network not created yet."""
    fix = "fix the compose file (`docker compose config` shows Compose's whole message)"
    if found := _MISSING_ENV_FILE.search(reason):
        fix = (
            f"create {found.group(1)} (an example file beside it may say what goes in), or "
            "give that `env_file` entry `required: false`"
        )
    elif found := _MISSING_NETWORK.search(reason):
        fix = f"create it first: `docker network create {found.group(1).strip(chr(34))}`"
    return ConfigError(f"Compose rejects the project: {reason}; {fix}")


class Stack:
    """One Compose binary (v2 plugin or v1 `docker-compose`) bound to a project."""

    def __init__(self, engine: Engine, *, v1: bool) -> None:
        self.engine, self.v1 = engine, v1

    def cmd(self, files: Sequence[Path], *args: str) -> list[str]:
        if not self.v1:
            return self.engine.compose_cmd(*args, files=files)
        binary = shutil.which("docker-compose") or "docker-compose"
        file_args = [arg for f in files for arg in ("--file", str(f))]
        project = ["--project-name", self.engine.project_name]
        where = ["--project-directory", str(self.engine.project_dir)]
        return [binary, *file_args, *project, *where, *args]

    @contextmanager
    def copies(self) -> Iterator[list[Path]]:
        """A develop-free copy of each compose file, same names, in a temporary folder; the
        files they `include:` and the services they `extends:` are resolved into them (each
        with its paths from its own folder), so old Compose never reads a `develop` key, and
        Compose v1 (which has no `include:` and no `name:`) runs them too."""
        with tempfile.TemporaryDirectory(prefix="devbox-") as tmp:
            paths = []
            for i, original in enumerate(self.engine.compose_files):
                copy = Path(tmp) / str(i) / original.name
                copy.parent.mkdir()
                data = expanded_file(original, self.engine.project_dir)
                if self.v1 and isinstance(data, dict):  # v1 rejects the top-level `name:`;
                    data.pop("name", None)  # the project's name is passed to it instead
                copy.write_text(strip_develop(data, original.parent), encoding="utf-8")
                paths.append(copy)
            yield paths

    def resolve(self) -> ResolvedProject:
        """Compose's resolved model of the project (its `config`)."""
        with self.copies() as files:
            args = ["config"] if self.v1 else ["config", "--format", "json"]
            result = process.run(self.cmd(files, *args), check=False)
        if result.returncode != 0:
            raise rejection(process.reason(result))
        return parse_config(
            process.text(result.stdout), project=self.engine.project_name, v1=self.v1
        )

    def up(self, services: Sequence[str], *, echo: Echo) -> None:
        """`up -d --no-deps` of exactly these services (built when missing)."""
        if not services:
            return
        echo(f"starting {', '.join(services)} with Compose")
        with self.copies() as files:
            result = process.run(
                self.cmd(files, "up", "--detach", "--no-deps", *services),
                check=False,
                env=BUILDKIT,
                merge=True,
            )
        if result.returncode != 0:
            tail = process.text(result.stdout).splitlines()[-5:]
            raise StartError(f"Compose did not start {', '.join(services)}: {' / '.join(tail)}")

    def wait(self, conditions: dict[str, str], *, echo: Echo) -> None:
        """Poll the engine until each service meets its depends_on condition (v1 has no
        `--wait`, and v2's waits for every service rather than for the condition asked)."""
        deadline = time.monotonic() + WAIT_TIMEOUT
        for service, condition in conditions.items():
            if condition == "service_healthy":
                echo(f"waiting for {service} to be healthy")
            while not self._meets(service, condition):
                if time.monotonic() > deadline:
                    raise HealthTimeout(f"{service} did not reach {condition} in time")
                time.sleep(0.3)

    def _meets(self, service: str, condition: str) -> bool:
        found = self.engine.containers(
            labels.label(labels.COMPOSE_PROJECT, self.engine.project_name),
            labels.label(labels.COMPOSE_SERVICE, service),
        )
        if not found:
            raise StartError(f"service {service} has no container")
        fmt = (
            "{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}} "
            "{{.State.ExitCode}}"
        )
        for container in found:
            result = process.run(
                self.engine.cmd("container", "inspect", "--format", fmt, container.name),
                check=False,
            )
            status, health, code = [*process.text(result.stdout).split(" "), "", "", ""][:3]
            if condition == "service_completed_successfully":
                if status == "exited" and code != "0":
                    raise StartError(f"{service} exited with code {code}")
                if status != "exited":
                    return False
            elif status in ("exited", "dead"):
                raise StartError(f"{service} exited with code {code}; `devbox logs {service}`")
            elif condition == "service_healthy" and health != "healthy":
                if health == "unhealthy":
                    raise HealthTimeout(f"{service} is unhealthy; `devbox logs {service}`")
                return False
            elif status != "running":
                return False
        return True

    def ensure(
        self, resolved: ResolvedProject, networks: Collection[str], volumes: Collection[str]
    ) -> None:
        """Create the networks and named volumes the dev containers join when Compose has
        not (labelled as Compose labels them, so `compose down` and `devbox down` know them)."""
        project = labels.label(labels.COMPOSE_PROJECT, self.engine.project_name)
        for key, (name, external) in resolved.networks.items():
            if name in networks and not external and not self._exists("network", name):
                process.run(
                    self.engine.cmd(
                        "network", "create", "--label", project,
                        "--label", f"com.docker.compose.network={key}", name,
                    ),
                    check=False,
                )  # fmt: skip
        for key in volumes:
            name, external = resolved.volumes[key]
            if not external and not self._exists("volume", name):
                process.run(
                    self.engine.cmd(
                        "volume", "create", "--label", project,
                        "--label", f"com.docker.compose.volume={key}", name,
                    ),
                    check=False,
                )  # fmt: skip

    def _exists(self, kind: str, name: str) -> bool:
        return process.run(self.engine.cmd(kind, "inspect", name), check=False).returncode == 0

    def existing(self) -> set[str]:
        """The project's containers now (so clean-up leaves those it did not start)."""
        project = labels.label(labels.COMPOSE_PROJECT, self.engine.project_name)
        return {c.name for c in self.engine.containers(project)}

    def teardown(self, *, keep: Collection[str]) -> None:
        """Remove the project's containers this session started (with anonymous volumes),
        then its networks once no container uses them; named volumes stay."""
        project = labels.label(labels.COMPOSE_PROJECT, self.engine.project_name)
        started = [c.name for c in self.engine.containers(project) if c.name not in keep]
        self.engine.remove_containers(*started)
        if keep:
            return
        listed = process.run(
            self.engine.cmd("network", "ls", "-q", "--filter", f"label={project}"), check=False
        )
        for network in process.text(listed.stdout).split():
            process.run(self.engine.cmd("network", "rm", network), check=False)


def stack_for(engine: Engine, *, compose_v2: bool, v1: bool) -> Stack | None:
    """The Compose to resolve and start the project with, or None when there is none."""
    if compose_v2:
        return Stack(engine, v1=False)
    return Stack(engine, v1=True) if v1 else None
