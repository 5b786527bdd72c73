"""`devbox smoke`: prove in CI that the production image builds, starts and answers.

A server must answer on its port (and its health path, when one is known); an app that
is no known server may instead run to completion: exit 0 passes, said as such.

Needs only Docker with BuildKit and the project's Dockerfile (no compose.yaml). The
verdict is a typed `SmokeReport` whose outcome maps to a distinct exit code; the
container is removed whatever happens, Ctrl-C and SIGTERM included.
"""

import hashlib
import http.client
import secrets
import shlex
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from devbox.commands.smoke_report import (
    SmokeOutcome,
    SmokeReport,
    build_error,
    expects_server,
    write_junit,
)
from devbox.engine import labels
from devbox.engine.answers import endpoint, parse_host_port
from devbox.engine.client import Engine
from devbox.engine.kind import choose_client
from devbox.errors import CommandTimedOut, ConfigError
from devbox.output import Echo
from devbox.project.check import dockerfile_targets
from devbox.project.files import read_text
from devbox.project.locate import locate
from devbox.project.settings import ProjectSettings, read_settings, service_name
from devbox.runtime import process
from devbox.runtime.process import TAIL, text
from devbox.runtime.signals import interruptible

LOG_LINES = 20
POLL = 0.2


# --- probes (network, no subprocess) -----------------------------------------------


def probe_tcp(host: str, port: int) -> str | None:
    """None when something listens; else why not.

    Docker's userland proxy accepts every connection on a published port and closes
    it at once when nothing listens inside, so an accepted connection is not enough.
    """
    try:
        with socket.create_connection((host, port), timeout=1) as sock:
            sock.settimeout(0.2)
            try:
                closed = sock.recv(1) == b""
            except TimeoutError:
                return None  # open and waiting for a request
            return "closed at once: nothing listens in the container" if closed else None
    except OSError as exc:
        return exc.strerror or str(exc)


_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def probe_http(host: str, port: int, path: str, *, timeout: float) -> str | None:
    """None when GET `path` answers 2xx; else the status or error."""
    try:
        with _NO_PROXY.open(f"http://{host}:{port}{path}", timeout=timeout) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (OSError, http.client.HTTPException) as exc:
        return f"no answer ({exc})"
    return None if 200 <= status < 300 else f"HTTP {status}"


# --- the run -------------------------------------------------------------------------


class _Failed(Exception):
    def __init__(self, outcome: SmokeOutcome, message: str, details: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.outcome, self.message, self.details = outcome, message, tuple(details)


class _SmokeRun:
    """One build, run and check; its figures accumulate here for the report."""

    def __init__(self, *, engine: Engine, settings: ProjectSettings, project_dir: Path) -> None:
        self.engine, self.settings, self.project_dir = engine, settings, project_dir
        self.publish_on, self.host = endpoint(engine.info(ask=False).location)
        token, name = secrets.token_hex(4), service_name(settings.name)
        # One image tag per project folder, so repeated runs replace the image instead of
        # piling up, and two checkouts of one project never build over each other's tag.
        folder = hashlib.sha256(str(project_dir).encode()).hexdigest()[:8]
        self.image = engine.local_image(f"devbox-smoke-{name}-{folder}:latest")
        self.container = f"devbox-smoke-{name}-{folder}-{token}"
        self.build_seconds: float | None = None
        self.image_size: int | None = None
        self.user: str | None = None
        self.healthy_seconds: float | None = None
        self.completed = False
        self.started = 0.0
        self.server = expects_server(settings.command, settings.health_path)

    @property
    def check(self) -> str:
        if self.settings.smoke:
            return f"command `{shlex.join(self.settings.smoke)}`"
        if self.settings.health_path:
            return f"GET {self.settings.health_path}"
        if self.completed:
            return "ran to completion (exit 0)"
        if self.server:
            return f"TCP port {self.settings.app_port}"
        return f"TCP port {self.settings.app_port}, or running to completion"

    def run(self, *, timeout: float, echo: Echo) -> SmokeReport:
        began, failed = time.monotonic(), None
        try:
            self.build(echo)
            self.start()
            self.wait_healthy(self.started + timeout, echo)
        except _Failed as exc:
            failed = exc
        return SmokeReport(
            project=self.settings.name,
            image=self.image,
            container=self.container,
            check=self.check,
            outcome=failed.outcome if failed else SmokeOutcome.PASSED,
            message=failed.message if failed else "",
            total_seconds=time.monotonic() - began,
            details=failed.details if failed else (),
            build_seconds=self.build_seconds,
            image_size=self.image_size,
            healthy_seconds=self.healthy_seconds,
            completed=self.completed,
            user=self.user,
        )

    def build(self, echo: Echo) -> None:
        # A Dockerfile without devbox's `prod` stage is built as it is (its last stage).
        stages = dockerfile_targets(read_text(self.project_dir / "Dockerfile") or "")
        target = "prod" if "prod" in stages else None
        began = time.monotonic()
        title = f"building {self.image} ({'target prod' if target else 'its last stage'})"
        ok, lines = self.engine.build_image(
            context=self.project_dir,
            dockerfile="Dockerfile",
            target=target,
            tag=self.image,
            title=title,
            echo=echo,
        )
        self.build_seconds = time.monotonic() - began
        if not ok:
            raise _Failed(
                SmokeOutcome.BUILD,
                f"the prod image did not build: {build_error(lines)}; fix the Dockerfile or the "
                "dependencies (build output above)",
                lines[-TAIL:],
            )
        facts = self.engine.image_facts(self.image)
        if facts is not None:
            self.image_size, self.user = facts

    def start(self) -> None:
        self.started = time.monotonic()
        label = labels.label(labels.SMOKE, self.settings.name)
        publish = f"{self.publish_on}::{self.settings.app_port}"
        args = ["--name", self.container, "--label", label, "--publish", publish, self.image]
        result = self.engine.run_detached(args)
        if result.returncode != 0:
            why = process.reason(result, "no output")
            raise _Failed(
                SmokeOutcome.START,
                f"the container did not start: {why}; fix [tool.devbox] command",
                text(result.stderr).splitlines() or [why],
            )

    def logs(self, echo: Echo, why: str) -> list[str]:
        """The container's last lines, stdout and stderr interleaved as they were written."""
        try:
            result = self.engine.logs(self.container, tail=str(LOG_LINES), capture=True, timeout=30)
            lines = text(result.stdout).splitlines()
        except CommandTimedOut:
            lines = ["(docker logs did not answer within 30 s)"]
        shown = f"its last {len(lines)} log lines:\n" + "\n".join(lines) if lines else "no logs"
        echo(f"{why}; {shown}", error=True)
        return lines

    def healthy(self) -> None:
        self.healthy_seconds = time.monotonic() - self.started

    def wait_healthy(self, deadline: float, echo: Echo) -> None:
        port: int | None = None
        reason = "its port was never published"
        while True:
            running, code = self.engine.state(self.container)
            if not running and code == 0 and not self.settings.smoke and not self.server:
                self.completed = True  # a command-line app: it ran and succeeded
                echo(f"{self.container} ran to completion (exit 0)")
                return self.healthy()
            if not running and code == 0 and not self.settings.smoke:
                what = self.settings.health_path or f"port {self.settings.app_port}"
                raise _Failed(
                    SmokeOutcome.START,
                    f"the container exited with code 0 before it answered on {what} (last log "
                    "lines above); a server must keep running: fix the app's start-up or "
                    "[tool.devbox] command",
                    self.logs(echo, "the container exited with code 0"),
                )
            if not running:
                raise _Failed(
                    SmokeOutcome.START,
                    f"the container exited with code {code} instead of starting (last log lines "
                    "above); fix the app's start-up or [tool.devbox] command",
                    self.logs(echo, f"the container exited with code {code}"),
                )
            if self.settings.smoke:
                return self.run_command(self.settings.smoke, deadline, echo)
            if port is None:
                port = parse_host_port(
                    self.engine.host_port(self.container, self.settings.app_port)
                )
            if port is not None:
                problem, path = probe_tcp(self.host, port), self.settings.health_path
                if problem is None and path:
                    wait = max(0.1, min(2.0, deadline - time.monotonic()))
                    problem = probe_http(self.host, port, path, timeout=wait)
                if problem is None:
                    return self.healthy()
                reason = problem
            if time.monotonic() >= deadline:
                raise self.timed_out(reason, echo)
            time.sleep(POLL)

    def timed_out(self, reason: str, echo: Echo) -> _Failed:
        logs = self.logs(echo, "not healthy in time")
        port, path = self.settings.app_port, self.settings.health_path
        if path:
            problem = f"GET {path} never answered 2xx in time (last: {reason})"
            fix = "fix the route or [tool.devbox] health-path, or raise --timeout"
        elif self.server:
            problem = f"port {port} never accepted a connection in time (last: {reason})"
            fix = (
                f"make the app listen on 0.0.0.0:{port} (or set [tool.devbox] app-port to its "
                "port), or raise --timeout"
            )
        else:
            problem = (
                f"port {port} never accepted a connection, and the app did not run to "
                f"completion, in time (last: {reason})"
            )
            fix = (
                f"a server: make it listen on 0.0.0.0:{port} (or set [tool.devbox] app-port); a "
                "command-line app: let it exit 0 or set [tool.devbox] smoke; or raise --timeout"
            )
        return _Failed(SmokeOutcome.HEALTH_TIMEOUT, f"{problem}; {fix}", logs)

    def run_command(self, argv: Sequence[str], deadline: float, echo: Echo) -> None:
        shown = shlex.join(argv)
        echo(f"running the smoke command `{shown}` in {self.container}")
        left = max(1.0, deadline - time.monotonic())
        try:
            result = self.engine.exec(self.container, argv, capture=True, timeout=left)
        except CommandTimedOut:
            message = f"smoke command `{shown}` was still running at the timeout; raise --timeout"
            raise _Failed(SmokeOutcome.SMOKE_COMMAND, message) from None
        output = "\n".join([text(result.stdout), text(result.stderr)]).strip()
        lines = output.splitlines()[-TAIL:]
        if result.returncode != 0:
            echo("smoke command output:\n" + "\n".join(lines), error=True)
            raise _Failed(
                SmokeOutcome.SMOKE_COMMAND,
                f"smoke command `{shown}` exited with code {result.returncode} (output above); "
                "fix the app or [tool.devbox] smoke",
                lines,
            )
        self.healthy()

    def cleanup(self, *, rm_image: bool) -> None:
        self.engine.remove_containers(self.container)
        if rm_image:
            self.engine.remove_image(self.image)


def smoke(
    *,
    project_dir: Path,
    echo: Echo,
    health_path: str | None = None,
    command: str | Sequence[str] | None = None,
    timeout: float = 30.0,
    rm_image: bool = False,
    junit: Path | None = None,
) -> SmokeReport:
    """Build the `prod` target, run it, check it; the container is always removed.

    `health_path` and `command` override `[tool.devbox]` health-path and smoke (a
    string command is split like a shell would). A smoke command replaces the port/HTTP
    check and runs once, as soon as the container runs. A failed check is a report (also
    written to `junit` when given), not an exception; config and engine problems raise.
    """
    project_dir = locate(project_dir).dir
    overrides: dict[str, object] = {}
    if health_path is not None:
        overrides["health-path"] = health_path
    if command is not None:
        overrides["smoke"] = command if isinstance(command, str) else list(command)
    settings = read_settings(project_dir, overrides=overrides)
    if not (project_dir / "Dockerfile").is_file():
        raise ConfigError(
            f"{project_dir / 'Dockerfile'}: not found; run `devbox init` to write one with a "
            "`prod` target"
        )
    # smoke needs no Compose: no compose files
    client, why = choose_client(project_dir)
    engine = Engine(
        project_dir=project_dir,
        project_name=service_name(settings.name),
        client=(client,),
        why=why,
    )
    engine.server_version()
    run = _SmokeRun(engine=engine, settings=settings, project_dir=project_dir)
    stopping = f"removing {run.container}"
    with interruptible(
        cleanup=lambda: run.cleanup(rm_image=rm_image), stopping=stopping, echo=echo
    ):
        report = run.run(timeout=timeout, echo=echo)
    if junit is not None:
        try:
            write_junit(report, junit)
        except OSError as exc:
            raise ConfigError(
                f"{junit}: cannot write the JUnit report ({exc.strerror}); choose another --junit"
            ) from None
    return report
