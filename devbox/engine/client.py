"""The container engine and Compose, as devbox uses them: the only code that builds,
runs and parses a container-CLI command line (callers above ask for an action or an
answer: `build_image`, `compose_up`, `start_dev_container`, `running`, ...).

The client is an argv prefix (`docker` today), so a second container CLI (Podman)
or a remote engine (`DOCKER_HOST`, `DOCKER_CONTEXT`, read by the client itself)
changes this module only. python_on_whales is imported only where its structured
answers help (the engine's version): its import costs about 0.3 s, which the
commands a user runs all day (`shell`, `status`, `logs`) must not pay.
"""

import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import urllib.parse
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from devbox.engine import labels
from devbox.engine.answers import (
    ContainerInfo,
    container_info,
    parse_created,
    parse_image_facts,
)
from devbox.engine.container import ContainerSpec, run_args
from devbox.engine.kind import (
    EngineInfo,
    choose_client,
    docker_location,
    engine_info,
    local_image,
    podman_run_options,
)
from devbox.engine.logstream import LogFollower, Sink
from devbox.engine.versions import Version, parse_version
from devbox.errors import BuildError, CommandFailed, CommandTimedOut, EngineError, StartError
from devbox.output import Echo
from devbox.project.compose import ComposeProject
from devbox.runtime import process
from devbox.runtime.process import Child, Result
from devbox.runtime.progress import run_step

BUILDKIT = {"DOCKER_BUILDKIT": "1"}
# Docker clients from 23 on build with BuildKit through the buildx plugin alone.
NO_BUILDX = "BuildKit is enabled but the buildx component is missing"
BUILDX_FIX = "install the docker-buildx plugin (or put a Docker client < 23 first on PATH)"
ENGINE_TIMEOUT = 30.0  # seconds an engine has to say its version: one that never answers


def unreachable(output: str) -> EngineError:
    return EngineError(
        f"cannot reach the Docker engine: {process.last_line(output, 'no answer')}; "
        "start Docker (or set DOCKER_HOST / DOCKER_CONTEXT)"
    )


def compose_v1_version() -> Version | None:
    """Version of a standalone `docker-compose` v1, which python-on-whales does not drive."""
    binary = shutil.which("docker-compose")
    if binary is None:
        return None
    result = process.run([binary, "version", "--short"], check=False)
    version = parse_version(process.text(result.stdout)) if result.returncode == 0 else None
    return version if version is not None and version.major == 1 else None


class Engine:
    """One project's view of the engine: its client, its Compose files, its containers."""

    def __init__(
        self,
        *,
        project_dir: Path,
        project_name: str,
        compose_files: Sequence[Path] = (),
        client: Sequence[str] = ("docker",),
        why: str = "the default engine",
    ) -> None:
        self.project_dir = project_dir
        self.project_name = project_name
        self.compose_files = tuple(compose_files)
        self.client = tuple(client)
        self.why = why  # why this client: --engine, [tool.devbox] engine, ...
        self._location: str | None = None  # the engine's address, once asked

    @classmethod
    def for_project(cls, project: ComposeProject) -> "Engine":
        """The project's engine: `--engine`, `[tool.devbox] engine`, or the one installed."""
        client, why = choose_client(project.project_dir)
        return cls(
            project_dir=project.project_dir,
            project_name=project.name,
            compose_files=project.files,
            client=(client,),
            why=why,
        )

    def with_files(self, *extra: Path) -> "Engine":
        """The same engine with more compose files laid over the project's (compose mode's
        override), so every Compose command of the session reads the same model."""
        return Engine(
            project_dir=self.project_dir,
            project_name=self.project_name,
            compose_files=(*self.compose_files, *extra),
            client=self.client,
            why=self.why,
        )

    @property
    def podman(self) -> bool:
        return self.client[0] == "podman"

    def local_image(self, tag: str) -> str:
        """A locally built image's name as this engine spells it (Podman: `localhost/...`)."""
        return local_image(self.client, tag)

    def info(self, *, ask: bool) -> EngineInfo:
        """Kind, address and whether the engine sees the project (`ask`: ask it now)."""
        return engine_info(self.client, self.why, self.project_dir, ask=ask)

    # --- command lines ------------------------------------------------------------

    def cmd(self, *args: str) -> list[str]:
        """argv of a plain container-CLI command."""
        return [*self.client, *args]

    def compose_cmd(self, *args: str, files: Sequence[Path] | None = None) -> list[str]:
        """argv of a Compose v2 command bound to this project and its files (or `files`)."""
        file_args = [arg for f in (files or self.compose_files) for arg in ("--file", str(f))]
        return self.cmd(
            "compose",
            *file_args,
            "--project-name",
            self.project_name,
            "--project-directory",
            str(self.project_dir),
            *args,
        )

    def build_cmd(
        self,
        *,
        context: Path,
        dockerfile: str,
        target: str | None,
        tag: str,
        build_args: Sequence[tuple[str, str]] = (),
    ) -> list[str]:
        """`docker build` with BuildKit (run it with `BUILDKIT` in the environment)."""
        args = ["build", "--tag", tag, "--file", str(context / dockerfile)]
        args += [arg for k, v in build_args for arg in ("--build-arg", f"{k}={v}")]
        return self.cmd(*args, *(["--target", target] if target else []), str(context))

    def run_cmd(self, args: Sequence[str]) -> list[str]:
        return self.cmd("run", *podman_run_options(self.client), *args)

    def create_cmd(self, args: Sequence[str]) -> list[str]:
        """`run`'s arguments, creating the container without starting it."""
        return self.cmd("create", *args)

    def start_attached_cmd(self, container: str) -> list[str]:
        """Start a created container attached, as `run` would (output, signals, exit code)."""
        return self.cmd("start", "--attach", container)

    def connect(self, container: str, network: str, alias: str) -> None:
        """Join `container` to one more network, reachable there by `alias` (as Compose does
        for a service's networks after the first)."""
        result = process.run(
            self.cmd("network", "connect", "--alias", alias, network, container), check=False
        )
        if result.returncode != 0:
            raise EngineError(
                f"could not join {container} to network {network}: {process.reason(result)}"
            )

    def exec_cmd(
        self, container: str, argv: Sequence[str], options: Sequence[str] = ()
    ) -> list[str]:
        return self.cmd("exec", *options, container, *argv)

    # --- builds and long-lived children ------------------------------------------

    def build_image(
        self,
        *,
        context: Path,
        dockerfile: str,
        target: str | None,
        tag: str,
        title: str,
        echo: Echo,
        build_args: Sequence[tuple[str, str]] = (),
    ) -> tuple[bool, list[str]]:
        """`docker build` with BuildKit, its progress shown: (built, its output lines)."""
        argv = self.build_cmd(
            context=context, dockerfile=dockerfile, target=target, tag=tag, build_args=build_args
        )
        built, lines = run_step(argv, title=title, echo=echo, env=BUILDKIT)
        if not built and any(NO_BUILDX in line for line in lines):  # the client, not the Dockerfile
            raise BuildError(
                "docker build: this Docker client builds with BuildKit only through the buildx "
                f"plugin, which is missing; {BUILDX_FIX}"
            )
        return built, lines

    def compose_build(
        self, service: str, *, title: str, echo: Echo, files: Sequence[Path] | None = None
    ) -> bool:
        """`compose build SERVICE` with BuildKit, its progress shown; whether it built."""
        argv = self.compose_cmd("build", service, files=files)
        return run_step(argv, title=title, echo=echo, env=BUILDKIT)[0]

    def compose_start(self, *services: str, echo: Echo) -> bool:
        """`compose up --detach` of the project (or `services` and what they need), its
        progress shown; whether Compose started it."""
        argv = self.compose_cmd("up", "--detach", *services)
        return run_step(argv, title="starting the project with Compose", echo=echo, env=BUILDKIT)[0]

    def compose_up(self, *args: str, what: str) -> None:
        """`compose up ARGS` run to its end; a `StartError` naming `what` and Compose's last
        lines when it fails."""
        result = process.run(self.compose_cmd("up", *args), check=False, merge=True, env=BUILDKIT)
        if result.returncode != 0:
            tail = " / ".join(process.text(result.stdout).splitlines()[-3:])
            raise StartError(f"Compose did not start {what}: {tail or process.reason(result)}")

    def compose_restart(self, service: str) -> None:
        """`compose restart SERVICE` (a restart rule, as Compose watch applies it)."""
        process.run(self.compose_cmd("restart", service), check=False)

    def compose_watch(self, service: str | None) -> Child:
        """`compose watch` (of `service`, else every service), its output on one pipe."""
        argv = self.compose_cmd("watch", *([service] if service else []))
        return process.start(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def compose_follow_logs(self) -> Child:
        """`compose logs --follow`: every service's output, rebuilt containers included."""
        return process.start(self.compose_cmd("logs", "--follow"))

    def start_dev_container(self, spec: ContainerSpec) -> Child:
        """`docker run` of a dev container, attached: its output and exit are the
        container's. `run` joins one network; Compose joins the others before the start,
        so the app reaches them from its first line: then create, connect each (the
        service's name its alias there), and start attached."""
        args = run_args(spec)
        more = spec.resolved.networks[1:] if spec.resolved else ()
        if not more:
            return process.start(self.run_cmd(args))
        process.run(self.create_cmd(args))
        for network in more:
            self.connect(spec.name, network, alias=spec.service.name)
        return process.start(self.start_attached_cmd(spec.name))

    def open_receiver(self, container: str, script: str) -> Child:
        """A long-lived `python3 -c script` in the container, on pipes: copy sync's
        receiver. Through `docker exec -i`, so a remote engine carries it too."""
        argv = self.exec_cmd(container, ["python3", "-u", "-c", script], ["-i"])
        return process.start(argv, stdin=process.PIPE, stdout=process.PIPE)

    # --- questions ------------------------------------------------------------------

    def server_version(self) -> str:
        """The engine's version; a clear error when no engine answers."""
        if self.podman:  # daemonless: its version is the client's
            try:
                result = process.run(
                    self.cmd("version", "--format", "{{.Client.Version}}"), check=False
                )
            except EngineError:
                raise EngineError("podman: command not found; install Podman") from None
            if result.returncode != 0:
                raise unreachable(process.text(result.stderr))
            return f"podman {process.text(result.stdout)}"
        try:  # bounded: an engine that accepts the connection and never answers hung devbox
            fmt = "{{.Server.Version}}"
            answer = process.run(self.cmd("version", "--format", fmt), timeout=ENGINE_TIMEOUT)
            return process.text(answer.stdout) or "unknown"
        except CommandTimedOut:
            raise EngineError(
                f"the engine ({self.why}) did not answer within {ENGINE_TIMEOUT:g} s; check that "
                "it runs (`docker info`), or DOCKER_HOST and the Docker context"
            ) from None
        except (CommandFailed, EngineError):
            pass  # python_on_whales's reading of the failure says why, below
        from python_on_whales import DockerClient
        from python_on_whales.client_config import ClientNotFoundError
        from python_on_whales.exceptions import DockerException

        try:
            version = DockerClient(client_call=list(self.client)).version().server
        except DockerException as exc:
            raise unreachable(exc.stderr or exc.stdout or str(exc)) from None
        except (FileNotFoundError, ClientNotFoundError):
            raise EngineError(
                f"{self.client[0]}: command not found; install the Docker CLI"
            ) from None
        if version is None or version.version is None:
            raise EngineError("the Docker engine did not report its version")
        return str(version.version)

    def answers(self) -> bool:
        """Whether the engine answers right now (a session that lost its container asks:
        a daemon restart ends every container with it)."""
        fmt = "{{.Client.Version}}" if self.podman else "{{.Server.Version}}"
        try:
            result = process.run(self.cmd("version", "--format", fmt), check=False, timeout=10)
        except (EngineError, CommandFailed):
            return False
        return result.returncode == 0

    def compose_version(self) -> Version | None:
        """Version of the `docker compose` plugin, or None when there is none."""
        try:
            result = process.run(self.cmd("compose", "version", "--short"), check=False)
        except EngineError:
            return None  # no client at all
        return parse_version(process.text(result.stdout)) if result.returncode == 0 else None

    def compose_config_error(self) -> str | None:
        """Why Compose rejects the compose files, or None when it accepts them."""
        result = process.run(self.compose_cmd("config", "--quiet"), check=False)
        if result.returncode == 0:
            return None
        return process.reason(result, f"rejected (exit code {result.returncode}, no message)")

    def containers(self, *label_filters: str) -> list[ContainerInfo]:
        """All containers (running or not) carrying every `key=value` label given."""
        filters = [arg for item in label_filters for arg in ("--filter", f"label={item}")]
        listed = process.run(self.cmd("ps", "-aq", *filters), check=False)
        if listed.returncode != 0:
            raise unreachable(process.text(listed.stderr))
        ids = process.text(listed.stdout).split()
        if not ids:
            return []
        result = process.run(self.cmd("inspect", *ids), check=False)
        try:
            return [container_info(item) for item in json.loads(result.stdout or b"[]")]
        except ValueError:
            return []  # a container vanished between the two calls: none to report

    def project_containers(self) -> list[ContainerInfo]:
        """The project's containers from either mode (one-off `compose run` ones excluded)."""
        composed = self.containers(
            labels.label(labels.COMPOSE_PROJECT, self.project_name),
            labels.label(labels.COMPOSE_ONEOFF, "False"),
        )
        return composed + self.containers(labels.label(labels.DEVBOX_PROJECT, self.project_name))

    def running(self, container: str) -> bool:
        fmt = "{{.State.Running}}"
        result = process.run(
            self.cmd("container", "inspect", "--format", fmt, container), check=False
        )
        return process.text(result.stdout) == "true"

    def state(self, container: str) -> tuple[bool, int]:
        """(running, exit code) of a container; (False, -1) when it is gone."""
        fmt = "{{.State.Running}} {{.State.ExitCode}}"
        result = process.run(
            self.cmd("container", "inspect", "--format", fmt, container), check=False
        )
        running, _, code = process.text(result.stdout).partition(" ")
        return running == "true", int(code) if code.lstrip("-").isdigit() else -1

    def host_port(self, container: str, port: int) -> str:
        """`docker port` for a container port: '127.0.0.1:32768', or '' when unpublished."""
        result = process.run(self.cmd("port", container, f"{port}/tcp"), check=False)
        return process.text(result.stdout)

    def image_exists(self, image: str) -> bool:
        return process.run(self.cmd("image", "inspect", image), check=False).returncode == 0

    def image_created(self, image: str) -> float | None:
        """When an image was built (seconds since the epoch), None when there is none."""
        result = process.run(
            self.cmd("image", "inspect", "--format", "{{.Created}}", image), check=False
        )
        return parse_created(process.text(result.stdout)) if result.returncode == 0 else None

    def service_containers(self, service: str) -> list[ContainerInfo]:
        """The containers Compose made for one service of the project (not `run` one-offs)."""
        return self.containers(
            labels.label(labels.COMPOSE_PROJECT, self.project_name),
            labels.label(labels.COMPOSE_SERVICE, service),
            labels.label(labels.COMPOSE_ONEOFF, "False"),
        )

    def follow_logs(self, container: str, *, since: float | None, sink: Sink) -> LogFollower:
        """One container's output from `since` (epoch seconds) or from its start, until it
        stops (see `engine.logstream`): through the API where the engine is a local socket."""
        since_args = ["--since", f"{since:.6f}"] if since is not None else []
        socket_path = None
        if not self.podman:
            if self._location is None:
                self._location = docker_location(self.client[0])
            url = urllib.parse.urlsplit(self._location)
            socket_path = url.path if url.scheme == "unix" else None
        tty = process.run(
            self.cmd("container", "inspect", "--format", "{{.Config.Tty}}", container),
            check=False,
        )
        return LogFollower(
            socket_path=socket_path,
            argv=self.cmd("logs", "--follow", *since_args, container),
            container=container,
            since=since,
            tty=process.text(tty.stdout) == "true",
            sink=sink,
        )

    def image_facts(self, image: str) -> tuple[int, str] | None:
        """(size in bytes, Config.User) of an image, or None when it cannot be inspected."""
        fmt = "{{.Size}} {{json .Config.User}}"
        result = process.run(self.cmd("image", "inspect", "--format", fmt, image), check=False)
        return parse_image_facts(process.text(result.stdout)) if result.returncode == 0 else None

    def client_version(self) -> Version | None:
        """The client's own version (it answers without an engine), or None."""
        fmt = "{{.Client.Version}}"
        try:
            result = process.run(self.cmd("version", "--format", fmt), check=False)
        except EngineError:
            return None  # no client at all
        return parse_version(process.text(result.stdout))

    def has_buildx(self) -> bool:
        """Whether the buildx plugin answers (clients >= 23 need it for BuildKit builds)."""
        try:
            return process.run(self.cmd("buildx", "version"), check=False).returncode == 0
        except EngineError:
            return False

    def data_root(self) -> str | None:
        """Where the engine keeps images (`DockerRootDir`), or None when it does not say."""
        fmt = "{{.DockerRootDir}}"
        result = process.run(self.cmd("info", "--format", fmt), check=False)
        root = process.text(result.stdout)
        return root if result.returncode == 0 and root.startswith("/") else None

    def is_local(self) -> bool:
        """Whether the engine runs on this machine: no DOCKER_HOST, or a unix socket (a
        context other than the default may still point elsewhere: `sees_path` tells)."""
        host = os.environ.get("DOCKER_HOST", "")
        context = os.environ.get("DOCKER_CONTEXT", "default")
        return (not host or host.startswith("unix://")) and context in ("", "default")

    def sees_path(self, image: str, folder: Path, marker: str) -> bool | None:
        """Whether a container bind-mounting `folder` finds `marker` in it: False when the
        engine runs elsewhere (a remote engine mounts its own, empty, folder); None when
        the probe itself could not run."""
        args = ["--rm", "--network", "none", "--volume", f"{folder}:/probe:ro"]
        argv = self.run_cmd([*args, "--entrypoint", "test", image, "-e", f"/probe/{marker}"])
        result = process.run(argv, check=False, timeout=60)
        return {0: True, 1: False}.get(result.returncode)

    # --- actions ----------------------------------------------------------------------

    def run(self, args: Sequence[str]) -> Result:
        """`docker run ARGS` in the foreground, attached to the terminal."""
        return process.run(self.run_cmd(args), check=False, capture=False)

    def logs(
        self,
        container: str,
        *,
        tail: str = "all",
        follow: bool = False,
        capture: bool = False,
        timeout: float | None = None,
    ) -> Result:
        """A container's output; captured, stdout and stderr interleaved as written."""
        argv = self.cmd("logs", "--tail", tail, *(["--follow"] if follow else []), container)
        return process.run(argv, check=False, capture=capture, merge=True, timeout=timeout)

    def run_detached(self, args: Sequence[str]) -> Result:
        """`docker run --detach ARGS`; the caller reads a failure from the result."""
        return process.run(self.run_cmd(["--detach", *args]), check=False)

    def exec(
        self,
        container: str,
        argv: Sequence[str],
        *,
        options: Sequence[str] = (),
        capture: bool = False,
        timeout: float | None = None,
    ) -> Result:
        """Run `argv` in a running container; its exit code is the caller's to read."""
        return process.run(
            self.exec_cmd(container, argv, options),
            check=False,
            capture=capture,
            timeout=timeout,
        )

    def copy_tar(self, container: str, data: bytes) -> None:
        """Extract a tar stream at `/` in the container."""
        # --archive: files belong to the container's USER, as Compose's copyUIDGID=true.
        try:
            process.run(self.cmd("cp", "--archive", "-", f"{container}:/"), input=data)
        except CommandFailed as exc:
            raise EngineError(f"copy into {container} failed: {exc.reason}") from None

    def read_file(self, container: str, path: str) -> bytes | None:
        """A file's bytes in a container (`docker cp` out, as a tar stream), None when absent."""
        result = process.run(self.cmd("cp", f"{container}:{path}", "-"), check=False)
        if result.returncode != 0:
            return None
        with tarfile.open(fileobj=io.BytesIO(result.stdout), mode="r|") as tar:
            for member in tar:
                if member.isfile():
                    data = tar.extractfile(member)
                    return data.read() if data is not None else None
        return None

    def remove_containers(self, *names: str) -> None:
        """Remove containers (and their anonymous volumes) by name; missing ones are fine."""
        if names:
            process.run(self.cmd("rm", "--force", "--volumes", *names), check=False)

    def anonymous_volumes(self, container: str) -> list[str]:
        """The anonymous volumes mounted in a container (none when it cannot be inspected)."""
        fmt = '{{range .Mounts}}{{if eq .Type "volume"}}{{.Name}} {{end}}{{end}}'
        result = process.run(
            self.cmd("container", "inspect", "--format", fmt, container), check=False
        )
        names = process.text(result.stdout).split() if result.returncode == 0 else []
        return [n for n in names if len(n) == 64 and all(c in "0123456789abcdef" for c in n)]

    def remove_volumes(self, *names: str) -> None:
        """Remove volumes no container uses any more; one still in use, or gone, stays so."""
        if names:
            process.run(self.cmd("volume", "rm", *names), check=False)

    def container_label(self, container: str, key: str) -> str | None:
        """One label of a container, None when it has none (or is gone)."""
        fmt = f"{{{{index .Config.Labels {json.dumps(key)}}}}}"
        result = process.run(
            self.cmd("container", "inspect", "--format", fmt, container), check=False
        )
        value = process.text(result.stdout)
        return value if result.returncode == 0 and value not in ("", "<no value>") else None

    def ensure_cache_volume(self, name: str, key: str) -> None:
        """Create the project's named volume `name` unless it exists, labelled as Compose
        labels the compose file's volume `key` (Compose then adopts it, and `down --volumes`
        of either finds it)."""
        if process.run(self.cmd("volume", "inspect", name), check=False).returncode == 0:
            return
        project = labels.label(labels.COMPOSE_PROJECT, self.project_name)
        volume = labels.label(labels.COMPOSE_VOLUME, key)
        process.run(
            self.cmd("volume", "create", "--label", project, "--label", volume, name),
            check=False,
        )  # a failure shows when `run` mounts it (the engine creates it then)

    def remove_image(self, image: str) -> None:
        process.run(self.cmd("image", "rm", image), check=False)

    def remove_labelled(self, label: str, *, named_volumes: bool) -> list[str]:
        """Remove every container (with its anonymous volumes) and network carrying `label`;
        named volumes too when asked. Returns what was removed, for the report."""
        removed = []
        found = process.run(self.cmd("ps", "-aq", "--filter", f"label={label}"), check=False)
        ids = process.text(found.stdout).split()
        if ids:
            self.remove_containers(*ids)
            removed.append(f"{len(ids)} container(s)")
        for kind in ("network", "volume") if named_volumes else ("network",):
            listed = process.run(
                self.cmd(kind, "ls", "-q", "--filter", f"label={label}"), check=False
            )
            names = process.text(listed.stdout).split()
            if names:
                process.run(self.cmd(kind, "rm", *names), check=False)
                removed.append(f"{len(names)} {kind}(s)")
        return removed

    def remove_project(self, *, volumes: bool) -> list[str]:
        """Remove what either mode left for this project (named volumes only when asked)."""
        removed = []
        for key in (labels.COMPOSE_PROJECT, labels.DEVBOX_PROJECT):
            removed += self.remove_labelled(
                labels.label(key, self.project_name), named_volumes=volumes
            )
        return removed

    def compose_teardown(self, *, keep: Collection[str] = ()) -> None:
        """Remove the project's containers (except `keep`) with their anonymous volumes,
        then its networks if no container is left.

        `compose down` alone keeps anonymous volumes, and `down -v` would also
        remove named volumes, which may hold a user's data.
        """
        project = labels.label(labels.COMPOSE_PROJECT, self.project_name)
        self.remove_containers(*[c.name for c in self.containers(project) if c.name not in keep])
        if not keep:
            process.run(self.compose_cmd("down", "--remove-orphans"), check=False)

    @contextmanager
    def compose_copy(self, text: str) -> Iterator[list[Path]]:
        """Compose files to use instead of the project's: one temporary file holding `text`
        (old Compose rejects `develop`; the fallback hands it a copy without it)."""
        with tempfile.TemporaryDirectory(prefix="devbox-") as tmp:
            copy = Path(tmp) / "compose.yaml"
            copy.write_text(text, encoding="utf-8")
            yield [copy]
