"""`devbox up` without Compose watch: `docker run` plus devbox's own watcher.

Mirrors the service's `develop.watch` rules with Compose's semantics (see
docs/dev-loop.md); the container is rebuilt, recreated, synced
and exec'd as Compose would, and removed with its anonymous volumes on exit.
"""

import os
import stat
import time
from collections.abc import Callable, Collection, Mapping
from pathlib import Path

from devbox import defaults, uv
from devbox.engine import labels
from devbox.engine.client import BUILDKIT, Engine
from devbox.engine.container import (
    ContainerSpec,
    compose_without_develop,
    container_name,
    exec_options,
    image_tag,
    run_args,
)
from devbox.engine.kind import EngineKind
from devbox.engine.owner import cache_volume_name, give_to, mapped_user, mount_target
from devbox.engine.resolve import ResolvedService
from devbox.errors import BuildError, ConfigError, DevboxError, EngineError, StartError
from devbox.output import Echo
from devbox.project.compose import ComposeProject, Service, load_compose, watched_service
from devbox.project.locate import ProjectPaths
from devbox.project.ownership import owned_mount_point, owner_of
from devbox.project.settings import read_settings
from devbox.project.templates import dependency_sync
from devbox.runtime import process
from devbox.runtime.progress import run_step
from devbox.runtime.signals import deferred
from devbox.runtime.state import Recorder, shell_running
from devbox.sync import trace
from devbox.sync.archive import make_tar
from devbox.sync.dependencies import (
    LOCK_LAGS,
    REBUILD_FAILED,
    failure_reason,
    rebuilding,
)
from devbox.sync.masks import Masks, secret_masks
from devbox.sync.modes import SyncMode
from devbox.sync.plan import BindMount, Plan, current_copies, plan_batch
from devbox.sync.rules import WatchRule, load_rules
from devbox.sync.transfer import RECEIVER, BatchRejected, Receiver, ReceiverError
from devbox.sync.writeback import (
    Verdict,
    WritesBack,
    beside,
    host_file,
    policy_of,
    verdict,
    write_file,
)

START_TIMEOUT = 30.0
HEALTH_INTERVAL = 1.0  # seconds between looks at the container while no file changes
MAX_RESTART_DELAY = 30.0  # a container that keeps exiting is restarted at most this often
LATE_CREATE = 5.0  # seconds the engine may still create a container its client asked for
QUICK_EXIT = 10.0  # an exit this soon after a start counts towards the back-off


class FallbackSession:
    """One dev container and the rules that keep it in step with the project.

    This class runs the container itself (`docker run`); compose mode's `ComposedService`
    (sync/composed.py) lets Compose create it and overrides only the container's life
    (build, start, restart, stop, exit): applying a batch is the same in both.
    """

    builds_itself = True  # the dev image is built here: the service needs `build:`

    def __init__(
        self,
        *,
        engine: Engine,
        project: ComposeProject,
        service: Service,
        compose_v2: bool,
        sync: SyncMode,
        recorder: Recorder,
        echo: Echo,
        resolved: ResolvedService | None = None,
        restart_on_exit: bool = False,
    ) -> None:
        if service.context is None and self.builds_itself:
            raise ConfigError(
                f"{project.file}: services.{service.name}.build: missing; the fallback builds the "
                "dev image itself, add `build: .`"
            )
        self.engine, self.project, self.service, self.echo = engine, project, service, echo
        self.recorder = recorder
        self.has_compose_v2 = compose_v2
        self.rules = load_rules(project, service)
        self.bind = (
            BindMount(project.project_dir, defaults.APP_DIR) if sync is SyncMode.BIND else None
        )
        self.masks = Masks() if self.bind is None else secret_masks(self.rules, self.bind.host)
        mounts = resolved.volumes if resolved is not None else ()
        env = resolved.environment if resolved is not None else service.environment
        # The service's own cache volume (devbox init's compose file mounts one), or ours.
        cached_by_service = any(mount_target(v) == defaults.UV_CACHE_DIR for v in mounts)
        own_cache = not cached_by_service and not any(k == "UV_CACHE_DIR" for k, _ in env)
        self.spec = ContainerSpec(
            name=container_name(project, service),
            image=engine.local_image(image_tag(project, service)),
            project=project.name,
            service=service,
            bind=None if self.bind is None else self.bind.host,
            resolved=resolved,
            masked_files=self.masks.files,
            masked_folders=self.masks.folders,
            user=self._mapped_user(resolved),
            cache_volume=cache_volume_name(project.name) if own_cache else None,
            project_dir=project.project_dir,
        )
        # What the mapped user must be able to write: the .venv, and uv's cache.
        self.owned_paths = [f"{defaults.APP_DIR}/.venv"] + (
            [defaults.UV_CACHE_DIR] if own_cache or cached_by_service else []
        )
        self.cache_ready = False
        self.child: process.Child | None = None
        self.starting = False  # a `docker run` started, its container not yet seen running
        self.restart_on_exit = restart_on_exit
        self.started_at = 0.0
        self.exit_reported = False
        self.quick_exits = 0  # consecutive exits soon after a start: the restart back-off
        self.restart_at = 0.0
        # Copy mode's stream into the container; None until the first batch needs it.
        self.receiver: Receiver | None = None
        self.receiver_broken = False  # no receiver could start: `docker cp` from then on
        # The engine stopped answering (a daemon restart took the container with it): the
        # container is started again once it answers, with a rebuild a batch asked for.
        self.engine_lost = False
        self.rebuild_missed = False
        self.volumes: list[str] = []  # the running container's anonymous volumes
        # Copy sync: what the container writes under the sync targets comes back.
        self.writes_back = (
            WritesBack.OFF if self.bind is not None else policy_of(project.project_dir)
        )
        self.since = time.time()  # host files untouched since then are devbox's to replace
        self.resend: Callable[[Path], None] = lambda path: None  # the watcher's, once it runs
        self.output_prefix = ""  # put before each line of the app's output (several services)

    def _mapped_user(self, resolved: ResolvedService | None) -> str | None:
        """The project owner's `uid:gid` in bind mode (see `engine.owner`), else None."""
        if self.bind is None:
            return None
        if self.engine.podman:
            kind, local = EngineKind.PODMAN, not os.environ.get("CONTAINER_HOST")
        else:
            local = self.engine.is_local()
            kind = EngineKind.DOCKER if local else EngineKind.REMOTE
        return mapped_user(
            owner=owner_of(self.bind.host),
            kind=kind,
            local=local,
            service_user=resolved.user if resolved is not None else self.service.user,
            devbox_is_root=os.geteuid() == 0,
        )

    @property
    def uv_user(self) -> str:
        """Who runs `uv` in the container: the mapped user, who owns the .venv and the cache
        there (root would leave root-owned files in the bind-mounted project); else root, so
        a service running as another user can still write the image's root-owned .venv."""
        return self.spec.user or "0"

    def _give_to_user(self) -> None:
        """Give the freshly started container's .venv (initialised from the image, root's)
        and uv's cache to the mapped user, as root; only what others own is changed."""
        if self.spec.user is None:
            return
        argv = give_to(self.spec.user, self.owned_paths)
        result = self.engine.exec(self.spec.name, argv, options=["--user", "0"], capture=True)
        if result.returncode != 0:
            self.warn(
                f"could not give {', '.join(self.owned_paths)} to {self.spec.user}: "
                f"{process.reason(result)}; "
                "`uv sync` in the container may fail"
            )

    def build(self) -> bool:
        """Build the dev image with BuildKit: through Compose v2 if present, else `docker build`."""
        title = f"building {self.spec.image}"
        if not self.has_compose_v2:
            argv = self.engine.build_cmd(
                context=self.service.context or self.project.project_dir,
                dockerfile=self.service.dockerfile,
                target=self.service.target,
                tag=self.spec.image,
                build_args=self.spec.resolved.build_args if self.spec.resolved else (),
            )
            return run_step(argv, title=title, echo=self.echo, env=BUILDKIT)[0]
        # Older Compose rejects `develop`: hand it a copy of the model without it. The file
        # may be half-saved right now: that is a message, not the end of the session.
        project = load_compose(ProjectPaths(self.project.project_dir, self.project.files))
        text = compose_without_develop(
            project.data, images={self.service.name: self.spec.image}, folder=project.project_dir
        )
        with self.engine.compose_copy(text) as files:
            argv = self.engine.compose_cmd("build", self.service.name, files=files)
            return run_step(argv, title=title, echo=self.echo, env=BUILDKIT)[0]

    def start_container(self, *, resync: bool = False) -> None:
        """(Re)create the container; its output streams to the terminal.

        With `resync` (copy mode, same image), the sources synced since the image was
        built are copied in again, so a restart does not revert them.
        """
        self.stop_container()
        self.prepare_mounts()
        args = run_args(self.spec)
        # `run` joins one network; Compose joins the others before the start, so the app
        # reaches them from its first line: create, connect, then start attached.
        more = self.spec.resolved.networks[1:] if self.spec.resolved else ()
        with deferred():  # an interruption here would leave the client unrecorded
            self.starting = True
            if more:
                process.run(self.engine.create_cmd(args))
                for network in more:
                    self.engine.connect(self.spec.name, network, alias=self.service.name)
                self.child = process.start(self.engine.start_attached_cmd(self.spec.name))
            else:
                self.child = process.start(self.engine.run_cmd(args))
        self.recorder.child(self.child)
        self.started_at, self.exit_reported = time.monotonic(), False
        deadline = time.monotonic() + START_TIMEOUT
        while not self.engine.running(self.spec.name):
            if self.child.poll() is not None or time.monotonic() > deadline:
                raise StartError(
                    f"container {self.spec.name} did not start (exit code {self.child.poll()}); "
                    "see its output above"
                )
            time.sleep(0.05)
        self.starting = False
        # A daemon restart removes the `--rm` container but keeps its anonymous volumes:
        # their names now, to remove them then.
        self.volumes = self.engine.anonymous_volumes(self.spec.name)
        self._give_to_user()
        if resync and self.bind is None:
            self.copy(current_copies(self.rules))
        self.watch_writes()

    def catch_up(self, since: float) -> None:
        """Copy sync: sources saved after `since` (wall clock), while the container started
        and before the watch was set up, have no event: copy them in now."""
        if self.bind is not None:
            return
        try:
            self.copy(current_copies(self.rules, changed_since=since))
        except (DevboxError, OSError) as exc:
            self.echo(f"error: {exc}; the next change syncs again", error=True)

    def watch_writes(self) -> None:
        """Copy sync: start the receiver now, not at the first batch, so that what the
        container writes comes back from the start (`sync.writeback`)."""
        if self.bind is None and self.writes_back is not WritesBack.OFF:
            self._receiver(at_start=True)

    def prepare_mounts(self) -> None:
        """What the container's mounts need before it is created: a `.venv` mount point
        the mapped user owns (the engine would make it root's), uv's cache volume."""
        if self.spec.user is not None and self.bind is not None:
            owned_mount_point(self.bind.host, ".venv")
        if self.spec.cache_volume is not None and not self.cache_ready:
            self.engine.ensure_cache_volume(self.spec.cache_volume, defaults.CACHE_VOLUME)
            self.cache_ready = True

    def stop_container(self) -> None:
        # The client first: stopped before it creates the container, it cannot create one
        # after the removal below.
        self.close_receiver()
        if self.child is not None:
            process.stop(self.child, grace=5)
            self.child = None
        self.engine.remove_containers(self.spec.name)
        if self.starting:
            self.starting = False
            self._remove_late_creation()

    def _remove_late_creation(self) -> None:
        """A `docker run` stopped while starting may have asked the engine for the container
        already: the engine then creates it after its client is gone (never started, so
        `--rm` never removes it). Watch for it a little while and remove it."""
        label = labels.label(labels.DEVBOX_PROJECT, self.project.name)
        deadline = time.monotonic() + LATE_CREATE
        while time.monotonic() < deadline:
            time.sleep(0.25)
            late = [c.name for c in self.engine.containers(label)]
            if late:
                self.engine.remove_containers(*late)

    def check_exit(self) -> None:
        """Say (once) when the container exited on its own, with its exit code, and with
        `restart_on_exit` start it again, backing off while it keeps exiting at once.

        `docker run` stays attached, so its exit is the container's exit, and its code the
        container's (137 after `docker kill`)."""
        if self.engine_lost:
            self._recover_engine()
            return
        code = self.exit_code()
        if code is None:
            return
        now = time.monotonic()
        if not self.exit_reported and not self.engine.answers():
            self.exit_reported = self.engine_lost = True
            self.echo(
                f"the engine stopped answering (restarted?) and container {self.spec.name} "
                "ended with it; devbox starts it again when the engine is back "
                "(Ctrl-C stops)",
                error=True,
            )
            return
        if not self.exit_reported:
            self.exit_reported = True
            quick = now - self.started_at < QUICK_EXIT
            self.quick_exits = self.quick_exits + 1 if quick else 0
            delay = (
                min(2.0 ** (self.quick_exits - 1), MAX_RESTART_DELAY)
                if self.quick_exits > 1
                else 0.0
            )
            self.restart_at = now + delay
            then = (
                "starting it again" + (f" in {delay:g} s" if delay else "")
                if self.restart_on_exit
                else "the next change starts it again (`--restart-on-exit` restarts at once)"
            )
            self.echo(f"container {self.spec.name} exited with code {code}; {then}", error=True)
        if self.restart_on_exit and now >= self.restart_at:
            try:
                self.start_container(resync=True)
            except DevboxError as exc:
                self.echo(f"error: {exc.message}", error=True)
            else:
                self.echo(f"container {self.spec.name} running again")

    def exit_code(self) -> int | None:
        """The container's exit code once it has exited, None while it runs."""
        return None if self.child is None else self.child.poll()

    def restart(self) -> None:
        """A restart rule: a new container from the same image, the synced sources copied in
        again (copy mode)."""
        self.start_container(resync=True)

    def _recover_engine(self) -> None:
        """Once the engine answers again: the missed rebuild, a new container, and (copy
        sync) every synced source copied in again, the edits made meanwhile included."""
        if not self.engine.answers():
            return
        self.engine.remove_volumes(*self.volumes)  # left by the container the restart removed
        try:
            if self.rebuild_missed and not self.build():
                raise BuildError("build failed: save a fix to retry")
            self.start_container(resync=True)
        except DevboxError as exc:  # the engine may answer before it can run containers
            self.echo(f"error: the engine is back, but {exc.message}", error=True)
            return
        self.engine_lost = self.rebuild_missed = False
        self.echo(f"the engine is back: container {self.spec.name} running again")

    def copy(
        self, copies: Mapping[str, tuple[WatchRule, Path]], deletes: Collection[str] = ()
    ) -> None:
        """Copy, then remove (`rm -rf`), container paths: through the receiver's stream in
        copy mode, else (or when it cannot run) `docker cp` and `docker exec rm`."""
        if not copies and not deletes:
            return
        receiver = self._receiver()
        if receiver is not None:
            try:
                receiver.send(copies, self.rules.triggers, deletes)
                return
            except BatchRejected as exc:
                raise EngineError(
                    f"sync into {self.spec.name} failed at {exc}; the next change syncs again"
                ) from None
            except ReceiverError as exc:
                # Gone with a restarted container, or a batch it could not apply: a new
                # receiver retries the batch once; failing that, `docker cp` does.
                self.close_receiver()
                receiver = self._receiver()
                if receiver is not None:
                    try:
                        receiver.send(copies, self.rules.triggers, deletes)
                        return
                    except ReceiverError:
                        self.close_receiver()
                self.echo(f"sync stream failed ({exc}); this batch goes through docker cp")
        if copies:
            data = make_tar(copies, keep=self.rules.triggers)
            self.engine.copy_tar(self.spec.name, data)
        if deletes:
            self.engine.exec(self.spec.name, ["rm", "-rf", "--", *sorted(deletes)])

    def _receiver(self, *, at_start: bool = False) -> Receiver | None:
        """The live receiver, started when needed. One that cannot start makes copy sync
        fall back to `docker cp` (said once), unless `at_start`: the first batch retries."""
        if self.bind is not None or self.receiver_broken:
            return None
        if self.receiver is not None and self.receiver.alive():
            return self.receiver
        self.close_receiver()
        targets = {
            rule.target
            for rule in self.rules.rules
            if rule.action.syncs and rule.target and self.writes_back is not WritesBack.OFF
        }
        try:
            self.receiver = Receiver(
                self.engine.receiver_cmd(self.spec.name, RECEIVER),
                watch=targets,
                on_file=self._container_file,
            )
        except (ReceiverError, DevboxError) as exc:
            if at_start:
                return None
            if self.engine.running(self.spec.name):  # else the container is gone, not python3
                self.receiver_broken = True
                self.echo(f"copy sync falls back to docker cp per batch: {exc}")
            return None
        return self.receiver

    def _container_file(self, name: str, data: bytes | None, mode: int, mtime_ns: int) -> None:
        """A file the container wrote (or removed, `data` None): brought back to the host
        as `sync.writeback` decides. Runs in the receiver's reader thread: never raises."""
        try:
            self._bring_back(name, data, mode, mtime_ns)
        except FileNotFoundError:
            pass  # the host removed its folder meanwhile: that deletion wins, synced in next
        except Exception as exc:  # a thread: said, never a traceback
            self.echo(f"could not bring back {name} from the container: {exc}", error=True)

    def _bring_back(self, name: str, data: bytes | None, mode: int, mtime_ns: int) -> None:
        receiver, found = self.receiver, host_file(self.rules, name)
        if receiver is None or found is None:
            return  # not a path the rules sync: .venv, __pycache__, an ignored file
        path, key = found[1], name.strip("/")
        try:
            st: os.stat_result | None = path.lstat()
        except (FileNotFoundError, NotADirectoryError):  # gone, or a file where its folder was
            st = None
        if st is not None and not stat.S_ISREG(st.st_mode):
            return  # a folder or a link on the host is never replaced
        exists = st is not None
        same = st is not None and data is not None and st.st_size == len(data)
        same = same and path.read_bytes() == data
        with receiver.lock:
            known = st is not None and receiver.sent.unchanged(key, st)
        unchanged = known or (st is not None and st.st_mtime < self.since)
        in_shell = exists and not same and shell_running(self.project.project_dir)
        what = verdict(
            policy=self.writes_back,
            deleted=data is None,
            exists=exists,
            same=same,
            host_unchanged=unchanged,
            in_shell=in_shell,
        )
        rel = os.path.relpath(path, self.project.project_dir)
        deletion_refused = what is Verdict.SKIP and data is None and exists
        if what is Verdict.BESIDE or (deletion_refused and self.writes_back is WritesBack.ALL):
            # The host's copy changed meanwhile and stays: it goes back into the container.
            with receiver.lock:
                receiver.sent.drop(key)
            self.resend(path)
        if what is Verdict.DELETE:
            path.unlink(missing_ok=True)
            with receiver.lock:
                receiver.sent.drop(key)
            self.echo(f"{rel}: removed in the container, so on the host too")
        elif what is Verdict.WRITE and data is not None:
            write_file(
                path, data, mode=mode, mtime_ns=mtime_ns, project_dir=self.project.project_dir
            )
            with receiver.lock:  # the host watcher's event for it sends nothing back
                receiver.sent.remember(key, path.lstat())
            self.echo(f"{rel}: brought back from the container")
        elif what is Verdict.BESIDE and data is not None:
            kept = beside(path, time.time())
            write_file(
                kept, data, mode=mode, mtime_ns=mtime_ns, project_dir=self.project.project_dir
            )
            self.echo(
                f"{rel}: changed in the container and on the host; the host's is kept, the "
                f"container's is in {os.path.relpath(kept, self.project.project_dir)}",
                error=True,
            )
        else:
            return
        self.recorder.brought_back()

    def known_running(self) -> bool:
        """Running, known without asking the engine: a live receiver proves it (its exec
        ends with the container)."""
        return self.receiver is not None and self.receiver.alive()

    def close_receiver(self) -> None:
        if self.receiver is not None:
            self.receiver.close()
            self.receiver = None

    def apply(self, plan: Plan) -> None:
        """Compose's order: rebuild, sync, restart, exec."""
        if plan.reload_rules:
            self.reload_rules()
        if plan.rebuild:
            if not self.build():
                raise BuildError(REBUILD_FAILED)
            self.start_container()
        elif not self.known_running() and not self.engine.running(self.spec.name):
            # No `docker inspect` process per batch where the container is known to run.
            self.echo(f"container {self.spec.name} is not running: starting it again")
            self.start_container(resync=True)
        self.copy(plan.copies, plan.deletes)
        if plan.dependencies and not plan.rebuild:
            self.sync_dependencies(plan)
        if plan.restart and not plan.rebuild:
            self.restart()
        for spec in plan.execs:
            uv_sync = uv.is_sync(spec.command)
            options = exec_options(
                env=spec.environment,
                workdir=spec.working_dir,
                # devbox init writes `user: root` for Compose; a mapped user owns the .venv
                user=self.spec.user if uv_sync and self.spec.user else spec.user,
                privileged=spec.privileged,
            )
            if not uv_sync:
                self.engine.exec(self.spec.name, spec.command, options=options)
                continue
            # A sync+exec rule's `uv sync` (devbox init writes them for Compose >= 2.32):
            # as Compose runs it, but a failure rebuilds, as a rebuild rule would.
            result = self.engine.exec(self.spec.name, spec.command, options=options, capture=True)
            if result.returncode != 0:
                self.rebuild_after_failed_sync(result)

    def sync_dependencies(self, plan: Plan) -> None:
        """New pyproject.toml / uv.lock: `uv sync` in the running container, into its .venv,
        instead of a rebuild (seconds, and the app keeps serving; its reloader restarts it
        when code that imports the new package is saved). Run as `uv_user`. A failed sync rebuilds
        the image, saying why; a failed rebuild keeps the old container serving."""
        if self.bind is None:  # copy mode: the files may have no sync rule of their own
            copied = {path for _, path in plan.copies.values()}
            self.copy(
                {
                    _app_path(self.project.project_dir, path): (rule, path)
                    for path in plan.dependencies
                    if path not in copied and path.is_file()
                    for rule in self.rules.matching(path)[:1]
                }
            )
        options = exec_options(workdir=defaults.APP_DIR, user=self.uv_user)
        result = self.engine.exec(
            self.spec.name, self.dependency_command(), options=options, capture=True
        )
        if result.returncode != 0:
            self.rebuild_after_failed_sync(result)

    def rebuild_after_failed_sync(self, result: process.Result) -> None:
        reason = failure_reason(result)
        if reason is None:
            self.echo(LOCK_LAGS)
            return
        self.echo(rebuilding(self.spec.name, reason), error=True)
        if not self.build():
            raise BuildError(REBUILD_FAILED)
        self.start_container()

    def dependency_command(self) -> list[str]:
        """The dev stage's `uv sync` flags for this project (`[tool.devbox]` may scope it)."""
        try:
            return dependency_sync(read_settings(self.project.project_dir))
        except DevboxError:
            return dependency_sync(None)

    def reload_rules(self) -> None:
        """A changed compose file reloads the rules (Compose does not); a broken one keeps them."""
        try:
            project = load_compose(ProjectPaths(self.project.project_dir, self.project.files))
            self.rules = load_rules(project, watched_service(project, self.service.name))
        except DevboxError as exc:
            self.echo(f"compose file not reloaded: {exc.message}")
        else:
            self.echo(f"reloaded {len(self.rules.rules)} watch rules from {self.project.file.name}")

    def warn(self, message: str) -> None:
        self.echo(f"warning: {message}", error=True)

    def handle(
        self, batch: Collection[Path], *, prefix: str = "", first_event: float | None = None
    ) -> None:
        """Plan and apply one batch for this service; a failure is reported, not raised.

        `first_event` (monotonic) is when the batch's first change was seen: save->applied
        is recorded from it.
        """
        started = time.monotonic()
        plan = plan_batch(batch, self.rules, bind=self.bind, compose_file=self.project.file)
        if plan.empty:
            return
        if self.engine_lost:  # applied when the engine is back: a new container, resynced
            self.rebuild_missed = self.rebuild_missed or plan.rebuild or bool(plan.dependencies)
            return
        planned = time.monotonic()
        try:
            self.apply(plan)
        except DevboxError as exc:
            self.echo(f"{prefix}error: {exc.message}", error=True)
            return
        except OSError as exc:  # a file vanished or became unreadable meanwhile
            self.echo(f"{prefix}error: {exc}; the next change retries", error=True)
            return
        done = time.monotonic()
        ms = (done - started) * 1000
        names = ", ".join(os.path.relpath(p, self.project.project_dir) for p in plan.changed[:3])
        more = f" and {len(plan.changed) - 3} more" if len(plan.changed) > 3 else ""
        summary = f"{prefix}{names}{more}: {'; '.join(plan.actions())}"
        self.echo(f"{summary} ({ms:.0f} ms)")
        latency = None if first_event is None else done - first_event
        if trace.enabled():
            trace.record(
                paths=len(batch),
                copies=len(plan.copies),
                deletes=len(plan.deletes),
                first=first_event,
                taken=started,
                planned=planned,
                written=self.receiver.written if self.receiver else None,
                acked=done,
            )
        self.recorder.applied(summary, ms / 1000, latency)


def _app_path(project_dir: Path, path: Path) -> str:
    return f"{defaults.APP_DIR}/{path.relative_to(project_dir).as_posix()}"
