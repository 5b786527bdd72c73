"""`devbox up`: the daily command. Picks a mode, runs the dev loop, cleans up on exit.

Every session is recorded in `.devbox/state.json` (see `runtime.state`), so that
`status`, `logs`, `shell` and `down` find it, in the foreground or detached.
"""

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from devbox.commands.shell_direct import shell_facts
from devbox.commands.target import name_clash
from devbox.engine import labels
from devbox.engine.client import Engine, compose_v1_version
from devbox.engine.debug import DEBUG_PORT, DebugSpec, free_port
from devbox.engine.modes import Mode, choose_mode, podman_mode
from devbox.engine.stack import Stack, stack_for
from devbox.errors import (
    BuildError,
    ConfigError,
    DevboxError,
    Interrupted,
    UsageError,
    error_for_code,
)
from devbox.output import Echo
from devbox.project.check import missing_stage
from devbox.project.compose import ComposeProject, Service, load_compose, watched_service
from devbox.project.editor import LAUNCH_JSON, attach_name
from devbox.project.locate import locate
from devbox.project.settings import read_settings
from devbox.runtime import process, state
from devbox.runtime.signals import interruptible, shielded
from devbox.sync.batcher import Batcher
from devbox.sync.bind_or_copy import SyncMode, resolve_sync
from devbox.sync.dependencies import COMPOSE_BATCH_FAILED, recover_compose_watch
from devbox.sync.rules import load_rules

DETACHED_ENV = "DEVBOX_DETACHED"
DETACH_TIMEOUT = 600.0


BIND_QUIET_MS = 50
COPY_QUIET_MS = 5


@dataclass(frozen=True, kw_only=True)
class UpOptions:
    """How to run the loop; the batching figures stay in milliseconds end to end."""

    mode: Mode = Mode.AUTO
    service: str | None = None
    sync: SyncMode = SyncMode.AUTO
    quiet_ms: int | None = None  # None: 50 ms, or 5 ms when the sync is copy
    max_wait_ms: int = 200
    restart_on_exit: bool = False
    debug: bool = False  # the developed service's command under debugpy
    debug_port: int = DEBUG_PORT  # its host port, or the next free one

    def quiet(self) -> int:
        """Copy mode waits less: each batch is a few ms on the receiver's stream, and the
        batcher holds a batch while a file is still open for writing or an editor's temp
        file awaits its rename, so 5 ms never splits a save. Bind mode only batches
        rebuilds and restarts, where waiting for a tool's last write saves a rebuild."""
        if self.quiet_ms is not None:
            return self.quiet_ms
        return COPY_QUIET_MS if self.sync is SyncMode.COPY else BIND_QUIET_MS

    def batcher(self) -> Batcher:
        """The fallback's batcher; a usage error when the figures cannot work together."""
        try:
            return Batcher(quiet=self.quiet() / 1000, max_wait=self.max_wait_ms / 1000)
        except ValueError:
            raise UsageError(
                "--quiet-ms must be between 0 and --max-wait-ms (at most 60000)"
            ) from None

    def cli_args(self) -> list[str]:
        """The same options as `devbox up` arguments, for the detached child."""
        args = ["--mode", self.mode.value, "--sync", self.sync.value]
        if self.quiet_ms is not None:  # else the child picks it for the sync it resolves
            args += ["--quiet-ms", str(self.quiet_ms)]
        args += ["--max-wait-ms", str(self.max_wait_ms)]
        args += ["--restart-on-exit"] if self.restart_on_exit else []
        args += ["--debug", "--debug-port", str(self.debug_port)] if self.debug else []
        return args + ([self.service] if self.service else [])


def up(
    *, project_dir: Path, options: UpOptions = UpOptions(), detach: bool = False, echo: Echo
) -> None:
    """Run the dev loop for the project in `project_dir` until Ctrl-C or SIGTERM.

    With `detach`, the loop runs in a background process and this returns once it is up.
    """
    project = load_compose(locate(project_dir))
    developed = developed_services(project, options.service)
    for svc in developed:
        load_rules(project, svc)  # a broken rule is one line now, not after the engine checks
        if (problem := missing_stage(project, svc)) is not None:
            raise BuildError(problem)  # a build that cannot start, said before it does
    options.batcher()  # impossible figures fail here, before anything starts
    state.refuse_if_running(project.project_dir, warn=_warner(echo))
    if detach:
        _detach(project.project_dir, options, echo)
        return
    engine = Engine.for_project(project)
    engine.server_version()
    clash = name_clash(project, engine.project_containers())
    if clash is not None:
        raise clash  # another folder's `proj`: starting this one would replace its containers
    info = engine.info(ask=True)  # once per session; status reads the answer
    echo(info.describe(project.project_dir))
    compose, v1 = None, None
    if engine.podman:
        chosen, reason = podman_mode(options.mode)
    else:
        compose = engine.compose_version()
        v1 = None if compose else compose_v1_version()
        chosen, reason = choose_mode(options.mode, compose, v1)
    if chosen is not Mode.WATCH:
        sync = resolve_sync(
            options.sync,
            sees_project=bool(info.sees_project),
            project_dir=project.project_dir,
            engine=f"{info.client} at {info.location}",
        )
        options = replace(options, sync=sync)
    echo(reason)
    if options.debug and chosen is Mode.WATCH:
        raise UsageError("--debug runs in compose mode or the fallback, not with --mode watch")
    debug = _debug_spec(project, developed[0], options.debug_port, echo) if options.debug else None
    if options.restart_on_exit and chosen is Mode.WATCH:
        echo("--restart-on-exit is devbox's own; in watch mode, give the service a `restart:`")
    pid = os.getpid()
    detached = os.environ.get(DETACHED_ENV) == "1"
    recorder = state.Recorder(
        project.project_dir,
        state.State(
            pid=pid,
            pid_start=process.identity(pid),
            mode=chosen.value,
            reason=reason,
            compose_project=project.name,
            service=developed[0].name,
            services=[svc.name for svc in developed],
            container=None,
            detached=detached,
            log=str(state.log_path(project.project_dir)) if detached else None,
            shell=shell_facts(project, developed[0], engine.client[0]),
        ),
        warn=lambda message: echo(f"warning: {message}", error=True),
    )
    with state.session_lock(project.project_dir):
        stack = stack_for(engine, compose_v2=compose is not None, v1=v1 is not None)
        _run(project, options, engine, chosen, stack, recorder, echo, debug)


def _debug_spec(project: ComposeProject, service: Service, start: int, echo: Echo) -> DebugSpec:
    """`--debug`: debugpy's port on 127.0.0.1 (5678 unless taken), and the command to run
    when the service names none (the image's, as [tool.devbox] dev-command records it)."""
    try:
        default = read_settings(project.project_dir).dev_command
    except ConfigError:
        default = ()
    if not service.command and not default:
        raise UsageError(
            f"--debug: services.{service.name} has no command and [tool.devbox] no dev-command; "
            "set one of them"
        )
    port = free_port(start)
    launch = project.project_dir / LAUNCH_JSON
    where = f"VS Code: {attach_name(service.name)!r} in {LAUNCH_JSON}"
    if port != DEBUG_PORT:
        where += f" (set its port to {port}: {DEBUG_PORT} is taken)"
    elif not launch.exists():
        where = "VS Code: `devbox init --devcontainer` writes an attach configuration"
    echo(f"debugpy: {service.name} waits for a debugger on 127.0.0.1:{port}; {where}")
    return DebugSpec(host_port=port, default_command=default)


def _run(
    project: ComposeProject,
    options: UpOptions,
    engine: Engine,
    chosen: Mode,
    stack: Stack | None,
    recorder: state.Recorder,
    echo: Echo,
    debug: DebugSpec | None = None,
) -> None:
    """The session itself, under the project's session lock."""
    recorder.save()  # `down` and `status` see it building
    try:
        if chosen is Mode.WATCH:
            run_compose_watch(
                engine, project=project, service=options.service, recorder=recorder, echo=echo
            )
        else:
            from devbox.sync.run_loop import run_project

            run_project(
                engine=engine,
                project=project,
                services=[project.services[name] for name in recorder.record.services],
                stack=stack,
                compose_v2=stack is not None and not stack.v1,
                sync=options.sync,
                batcher=options.batcher(),
                restart_on_exit=options.restart_on_exit,
                recorder=recorder,
                echo=echo,
                mode=chosen,
                named=options.service,
                debug=debug,
            )
    finally:
        state.clear(project.project_dir, pid=recorder.record.pid)


def _warner(echo: Echo) -> Callable[[str], None]:
    return lambda message: echo(f"warning: {message}", error=True)


def developed_services(project: ComposeProject, name: str | None) -> list[Service]:
    """The service named, else every service with watch rules (as Compose watch does)."""
    if name is not None:
        return [watched_service(project, name)]
    watched = [
        svc
        for svc in project.services.values()
        if isinstance(svc.develop, dict) and svc.develop.get("watch")
    ]
    return watched or [watched_service(project, None)]  # none: its one-line error


def run_compose_watch(
    engine: Engine,
    *,
    project: ComposeProject,
    service: str | None,
    recorder: state.Recorder,
    echo: Echo,
) -> None:
    """`docker compose watch`, its output passed through and watched for what it did.

    Compose watch prints only its own lines; the app's output (tracebacks included)
    comes from `compose logs --follow`, which also follows rebuilt containers. A batch
    Compose failed may be a failed `uv sync`: devbox then says why and rebuilds
    (sync/dependencies.py), where Compose would leave the old packages.
    """
    # Containers of this project that were running before (a database started with
    # `compose up -d`, say) are not this session's to remove.
    before = {c.name for c in engine.containers(_project_label(engine))}
    children: list[process.Child] = []

    def cleanup() -> None:
        for child in children:
            process.stop(child)
        engine.compose_teardown(keep=before)

    stopping = "removing the project's containers, networks and anonymous volumes"
    with interruptible(cleanup=cleanup, stopping=stopping, echo=echo):
        while True:
            code, failed_build = _one_compose_watch(
                engine, service, recorder, children, project, echo
            )
            if failed_build is not None and engine.answers():
                raise BuildError(
                    f"the dev image did not build: {failed_build}; fix the Dockerfile or the "
                    "dependencies (build output above), then `devbox up` again"
                )
            if engine.answers():
                raise DevboxError(
                    f"docker compose watch exited with code {code} (see its output above)"
                )
            # A daemon restart ends Compose watch with it: run it again once the engine is
            # back (it rebuilds and starts the containers the restart took).
            echo(
                "the engine stopped answering (restarted?) and docker compose watch ended with "
                "it; devbox runs it again when the engine is back (Ctrl-C stops)",
                error=True,
            )
            for child in children:
                process.stop(child)
            children.clear()
            while not engine.answers():
                time.sleep(ENGINE_POLL)
            echo("the engine is back: running docker compose watch again")


ENGINE_POLL = 1.0  # seconds between asking a lost engine whether it is back


def _project_label(engine: Engine) -> str:
    return labels.label(labels.COMPOSE_PROJECT, engine.project_name)


def _end_with_the_engine(engine: Engine, watch: process.Child, app_logs: process.Child) -> None:
    """Compose watch outlives a lost engine (it waits, syncing nothing), but `compose logs
    --follow` ends with it: then stop watch too, so the run loop sees the loss. Free while
    all is well (no polling)."""
    app_logs.wait()
    if watch.poll() is None and not engine.answers():
        process.stop(watch)


def _one_compose_watch(
    engine: Engine,
    service: str | None,
    recorder: state.Recorder,
    children: list[process.Child],
    compose: ComposeProject,
    echo: Echo,
) -> tuple[int, str | None]:
    """One `docker compose watch` until it exits: its code, and the build's error when it
    ended because the images did not build; `compose logs --follow` is started beside it
    once it watches."""
    watch = engine.compose_watch(service)
    children.append(watch)
    recorder.child(watch)
    assert watch.stdout is not None
    logs_started = False
    failed_build: str | None = None
    for raw in watch.stdout:
        line = raw.decode(errors="replace")
        sys.stdout.write(line)
        sys.stdout.flush()
        if line.startswith("Watch enabled"):
            developed = labels.label(labels.COMPOSE_SERVICE, recorder.record.service)
            found = engine.containers(_project_label(engine), developed)
            recorder.ready(next((c.name for c in found if c.running), None))
            if not logs_started:
                logs_started = True
                app_logs = engine.compose_follow_logs()
                children.append(app_logs)
                recorder.child(app_logs)
                threading.Thread(
                    target=_end_with_the_engine, args=(engine, watch, app_logs), daemon=True
                ).start()
        elif line.startswith(("Syncing", "Rebuilding", "service(s)", "Restarting")):
            recorder.applied(line.strip(), 0.0)
        elif not logs_started and line.startswith("failed to solve"):
            failed_build = line.strip()  # BuildKit's error, before Compose watches anything
        elif COMPOSE_BATCH_FAILED in line:
            recover_compose_watch(engine, compose, recorder.record.services, echo)
    return watch.wait(), failed_build


def _detach(project_dir: Path, options: UpOptions, echo: Echo) -> None:
    """Start `devbox up` in the background and return once its session is ready."""
    argv = [sys.executable, "-m", "devbox", "up", "--project-dir", str(project_dir)]
    state.state_dir(project_dir)  # a read-only project: its one-line error, before the start
    log = state.log_path(project_dir)
    with state.open_log(log) as out:  # never through a planted link
        child = process.start(
            [*argv, *options.cli_args()],
            env={DETACHED_ENV: "1"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    echo(f"starting in the background (pid {child.pid}); output goes to {log}")
    try:
        with interruptible():
            _wait_until_ready(project_dir, child, log, echo)
    except Interrupted:
        with shielded():
            process.stop(child)  # it cleans up after itself as on Ctrl-C
        raise


def _wait_until_ready(project_dir: Path, child: process.Child, log: Path, echo: Echo) -> None:
    deadline = time.monotonic() + DETACH_TIMEOUT
    while True:
        record = state.load(project_dir)
        if record is not None and record.pid == child.pid and record.ready:
            echo(f"{record.reason}; up. `devbox logs -f`, `devbox shell`, `devbox down`")
            return
        code = child.poll()
        if code is not None or time.monotonic() > deadline:
            process.stop(child)
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
            raise error_for_code(
                code,
                f"devbox up in the background stopped (exit code {code}); its last output:\n{tail}",
            )
        time.sleep(0.1)
