"""`devbox up`: the daily command. Picks a mode, runs the dev loop, cleans up on exit.

Every session is recorded in `.devbox/state.json` (see `state`), so that `status`,
`logs`, `shell` and `down` find it, in the foreground or detached.
"""

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from devbox import compose_file, proc, state
from devbox.batcher import Batcher
from devbox.engine import PROJECT_LABEL, SERVICE_LABEL, Engine, compose_v1_version
from devbox.errors import DevboxError, ExitCode
from devbox.modes import Mode, SyncMode, choose_mode
from devbox.output import Echo
from devbox.signals import shielded, sigterm_as_interrupt

DETACHED_ENV = "DEVBOX_DETACHED"
DETACH_TIMEOUT = 600.0


@dataclass
class Recorder:
    """Keeps the session's state file up to date as the session goes."""

    project_dir: Path
    record: state.State

    def ready(self, container: str | None = None) -> None:
        self.record.ready = True
        self.record.container = container or self.record.container
        state.save(self.project_dir, self.record)

    def child(self, process: "subprocess.Popen[bytes]") -> None:
        """Record a child's process group, so `down` can end it if devbox dies first."""
        self.record.add_child(process.pid)
        state.save(self.project_dir, self.record)

    def applied(self, what: str, seconds: float) -> None:
        self.record.last = state.Last(what=what, seconds=round(seconds, 3), at=time.time())
        state.save(self.project_dir, self.record)


def up(
    *,
    project_dir: Path,
    mode: Mode = Mode.AUTO,
    service: str | None = None,
    sync: SyncMode = SyncMode.BIND,
    batcher: Batcher | None = None,
    detach: bool = False,
    echo: Echo,
) -> None:
    """Run the dev loop for the project in `project_dir` until Ctrl-C or SIGTERM.

    `sync` and `batcher` (quiet period, maximum wait) apply to the fallback mode.
    With `detach`, the loop runs in a background process and this returns once it is up.
    """
    project = compose_file.load_compose(compose_file.find_compose_file(project_dir))
    svc = compose_file.watched_service(project, service)
    running = state.load(project.project_dir)
    if running is not None and running.alive():
        raise DevboxError(
            f"devbox up is already running for {project.project_dir} (pid {running.pid}); "
            "`devbox down` stops it",
            ExitCode.USAGE,
        )
    batcher = batcher or Batcher()
    if detach:
        _detach(project.project_dir, mode, service, sync, batcher, echo)
        return
    engine = Engine.for_project(project)
    engine.server_version()
    compose = engine.compose_version()
    chosen, reason = choose_mode(mode, compose, None if compose else compose_v1_version())
    echo(reason)
    recorder = Recorder(
        project.project_dir,
        state.State(
            pid=os.getpid(),
            mode=chosen.value,
            reason=reason,
            compose_project=project.name,
            service=svc.name,
            container=None,
            detached=os.environ.get(DETACHED_ENV) == "1",
        ),
    )
    state.save(project.project_dir, recorder.record)  # `down` and `status` see it building
    try:
        if chosen is Mode.WATCH:
            run_compose_watch(engine, service=service, recorder=recorder, echo=echo)
        else:
            from devbox.fallback import run_fallback

            run_fallback(
                engine=engine,
                project=project,
                service=svc,
                compose_v2=compose is not None,
                sync=sync,
                batcher=batcher,
                recorder=recorder,
                echo=echo,
            )
    finally:
        state.clear(project.project_dir, pid=os.getpid())


def run_compose_watch(
    engine: Engine, *, service: str | None, recorder: Recorder, echo: Echo
) -> None:
    """`docker compose watch`, its output passed through and watched for what it did.

    Compose watch prints only its own lines; the app's output (tracebacks included)
    comes from `compose logs --follow`, which also follows rebuilt containers.
    """
    child = proc.start(
        engine.compose_cmd("watch", *([service] if service else [])),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert child.stdout is not None
    recorder.child(child)
    app_logs: subprocess.Popen[bytes] | None = None
    # Containers of this project that were running before (a database started with
    # `compose up -d`, say) are not this session's to remove.
    before = {c.name for c in engine.containers(f"{PROJECT_LABEL}={engine.project_name}")}
    try:
        with sigterm_as_interrupt():
            for raw in child.stdout:
                line = raw.decode(errors="replace")
                sys.stdout.write(line)
                sys.stdout.flush()
                if line.startswith("Watch enabled"):
                    service = f"{SERVICE_LABEL}={recorder.record.service}"
                    found = engine.containers(f"{PROJECT_LABEL}={engine.project_name}", service)
                    recorder.ready(next((c.name for c in found if c.running), None))
                    if app_logs is None:
                        app_logs = proc.start(engine.compose_cmd("logs", "--follow"))
                        recorder.child(app_logs)
                elif line.startswith(("Syncing", "Rebuilding", "service(s)", "Restarting")):
                    recorder.applied(line.strip(), 0.0)
            code = child.wait()
        raise DevboxError(f"docker compose watch exited with code {code} (see its output above)")
    except KeyboardInterrupt:
        echo("stopping: removing the project's containers, networks and anonymous volumes")
        raise DevboxError("interrupted", ExitCode.INTERRUPTED) from None
    finally:
        with shielded():
            for running in (child, app_logs):
                if running is not None:
                    proc.stop(running)
            engine.compose_teardown(keep=before)


def _detach(
    project_dir: Path, mode: Mode, service: str | None, sync: SyncMode, batcher: Batcher, echo: Echo
) -> None:
    """Start `devbox up` in the background and return once its session is ready."""
    argv = [sys.executable, "-m", "devbox", "up", "--project-dir", str(project_dir)]
    argv += ["--mode", mode.value, "--sync", sync.value]
    argv += ["--quiet-ms", str(round(batcher.quiet * 1000))]
    argv += ["--max-wait-ms", str(round(batcher.max_wait * 1000))]
    argv += [service] if service else []
    log = state.log_path(project_dir)
    log.parent.mkdir(exist_ok=True)
    with log.open("wb") as out:
        child = proc.start(argv, env={DETACHED_ENV: "1"}, stdout=out, stderr=subprocess.STDOUT)
    echo(f"starting in the background (pid {child.pid}); output goes to {log}")
    try:
        _wait_until_ready(project_dir, child, log, echo)
    except KeyboardInterrupt:
        with shielded():
            proc.stop(child)  # it cleans up after itself as on Ctrl-C
        raise DevboxError("interrupted", ExitCode.INTERRUPTED) from None


def _wait_until_ready(
    project_dir: Path, child: "subprocess.Popen[bytes]", log: Path, echo: Echo
) -> None:
    deadline = time.monotonic() + DETACH_TIMEOUT
    while True:
        record = state.load(project_dir)
        if record is not None and record.pid == child.pid and record.ready:
            echo(f"{record.reason}; up. `devbox logs -f`, `devbox shell`, `devbox down`")
            return
        code = child.poll()
        if code is not None or time.monotonic() > deadline:
            proc.stop(child)
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
            known = code in ExitCode._value2member_map_
            raise DevboxError(
                f"devbox up in the background stopped (exit code {code}); its last output:\n{tail}",
                ExitCode(code) if code is not None and known else ExitCode.FAILURE,
            )
        time.sleep(0.1)
