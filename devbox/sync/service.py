"""One developed service kept in step with the project: each batch of changes planned and
applied with Compose watch's semantics (see docs/dev-loop.md), in its order: rebuild,
sync, restart, exec.

The same in every mode devbox syncs (compose mode and the fallback): only the
container's life differs, and it is the service's keeper's (`sync.keeper`).
Dependencies are installed with `uv sync` in the running container instead of a
rebuild; a changed compose file reloads the rules (Compose does not).
"""

import os
import time
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from devbox import defaults, uv
from devbox.engine.client import Engine
from devbox.engine.container import (
    ContainerSpec,
    container_name,
    exec_options,
    image_tag,
)
from devbox.engine.kind import EngineKind
from devbox.engine.owner import cache_volume_name, mapped_user, mount_target
from devbox.engine.resolve import ResolvedService
from devbox.errors import BuildError, DevboxError
from devbox.output import Echo
from devbox.project.compose import ComposeProject, Service, load_compose, watched_service
from devbox.project.locate import ProjectPaths
from devbox.project.ownership import owner_of
from devbox.project.settings import read_settings
from devbox.project.templates import dependency_sync
from devbox.runtime import process
from devbox.runtime.state import Recorder
from devbox.sync import trace
from devbox.sync.archive import make_tar
from devbox.sync.bind_or_copy import SyncMode
from devbox.sync.composed import ComposeKeeper
from devbox.sync.copy_stream import CopyStream
from devbox.sync.dependencies import LOCK_LAGS, REBUILD_FAILED, failure_reason, rebuilding
from devbox.sync.keeper import Keeper, RunKeeper
from devbox.sync.masks import Masks, secret_masks
from devbox.sync.plan import BindMount, Plan, current_copies, plan_batch
from devbox.sync.rules import WatchRule, load_rules

HEALTH_INTERVAL = 1.0  # seconds between looks at the container while no file changes


def _mapped_user(
    engine: Engine, bind: BindMount | None, service: Service, resolved: ResolvedService | None
) -> str | None:
    """The project owner's `uid:gid` in bind mode (see `engine.owner`), else None."""
    if bind is None:
        return None
    if engine.podman:
        kind, local = EngineKind.PODMAN, not os.environ.get("CONTAINER_HOST")
    else:
        local = engine.is_local()
        kind = EngineKind.DOCKER if local else EngineKind.REMOTE
    return mapped_user(
        owner=owner_of(bind.host),
        kind=kind,
        local=local,
        service_user=resolved.user if resolved is not None else service.user,
        devbox_is_root=os.geteuid() == 0,
    )


class DevService:
    """One developed service: its rules, its sync (bind or copy), its keeper."""

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
        composed: bool = False,
    ) -> None:
        """`composed`: Compose runs the container (compose mode), else devbox does."""
        self.project, self.service, self.recorder, self.echo = project, service, recorder, echo
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
        spec = ContainerSpec(
            name=container_name(project, service),
            image=engine.local_image(image_tag(project, service)),
            project=project.name,
            service=service,
            bind=None if self.bind is None else self.bind.host,
            resolved=resolved,
            masked_files=self.masks.files,
            masked_folders=self.masks.folders,
            user=_mapped_user(engine, self.bind, service, resolved),
            cache_volume=cache_volume_name(project.name) if own_cache else None,
            project_dir=project.project_dir,
        )
        owned_paths = [f"{defaults.APP_DIR}/.venv"] + (
            [defaults.UV_CACHE_DIR] if own_cache or cached_by_service else []
        )
        common: dict[str, Any] = {
            "engine": engine,
            "project": project,
            "service": service,
            "spec": spec,
            "owned_paths": owned_paths,
            "recorder": recorder,
            "echo": echo,
            "restart_on_exit": restart_on_exit,
        }
        self.keeper: Keeper = (
            ComposeKeeper(**common) if composed else RunKeeper(compose_v2=compose_v2, **common)
        )
        self.keeper.on_started = self._started
        self.keeper.on_stopping = self._stopping
        self.stream = (
            CopyStream(keeper=self.keeper, rules=lambda: self.rules, recorder=recorder, echo=echo)
            if self.bind is None
            else None
        )

    @property
    def engine(self) -> Engine:
        return self.keeper.engine

    @property
    def spec(self) -> ContainerSpec:
        return self.keeper.spec

    def _started(self, resync: bool, changed_since: float | None) -> None:
        """Copy sync, after each start: with `resync`, the synced sources (or those changed
        since `changed_since`) copied in, as an older image lacks them; the receiver
        started at once, so what the container writes comes back from the start."""
        if self.stream is None:
            return
        if resync:
            self.copy(current_copies(self.rules, changed_since=changed_since))
        self.stream.watch_writes()

    def _stopping(self) -> None:
        if self.stream is not None:
            self.stream.close()

    def catch_up(self, since: float) -> None:
        """Sources saved after `since` (wall clock), while the container started and before
        the watch was set up, have no event. Copy sync copies them in; in either sync, a
        command-line app that already ran to completion runs again with them, as after an
        edit once the watch is set up."""
        try:
            copies = current_copies(self.rules, changed_since=since)
            if copies and self.keeper.exit_code() is not None:
                self.handle([path for _, path in copies.values()])
            elif self.bind is None:
                self.copy(copies)
        except (DevboxError, OSError) as exc:
            self.echo(f"error: {exc}; the next change syncs again", error=True)

    def copy(
        self, copies: Mapping[str, tuple[WatchRule, Path]], deletes: Collection[str] = ()
    ) -> None:
        """Copy, then remove (`rm -rf`), container paths: over the copy stream, else (bind
        sync, or no receiver) `docker cp` and `docker exec rm`."""
        if not copies and not deletes:
            return
        if self.stream is not None and self.stream.send(copies, deletes):
            return
        if copies:
            self.engine.copy_tar(self.spec.name, make_tar(copies, keep=self.rules.triggers))
        if deletes:
            self.engine.exec(self.spec.name, ["rm", "-rf", "--", *sorted(deletes)])

    def apply(self, plan: Plan) -> None:
        """Compose's order: rebuild, sync, restart, exec."""
        if plan.reload_rules:
            self.reload_rules()
        if plan.rebuild:
            if not self.keeper.build():
                raise BuildError(REBUILD_FAILED)
            self.keeper.start()
        else:
            self.keeper.ensure_running(known=self.stream is not None and self.stream.alive())
        self.copy(plan.copies, plan.deletes)
        if plan.dependencies and not plan.rebuild:
            self.sync_dependencies(plan)
        if plan.restart and not plan.rebuild:
            self.keeper.restart()
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
        when code that imports the new package is saved). Run as the keeper's `uv_user`. A
        failed sync rebuilds the image, saying why; a failed rebuild keeps the old
        container serving."""
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
        options = exec_options(workdir=defaults.APP_DIR, user=self.keeper.uv_user)
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
        if not self.keeper.build():
            raise BuildError(REBUILD_FAILED)
        self.keeper.start()

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
        if plan.empty or self.keeper.deferred(rebuild=plan.rebuild or bool(plan.dependencies)):
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
            receiver = self.stream.receiver if self.stream is not None else None
            trace.record(
                paths=len(batch),
                copies=len(plan.copies),
                deletes=len(plan.deletes),
                first=first_event,
                taken=started,
                planned=planned,
                written=receiver.written if receiver else None,
                acked=done,
            )
        self.recorder.applied(summary, ms / 1000, latency)


def _app_path(project_dir: Path, path: Path) -> str:
    return f"{defaults.APP_DIR}/{path.relative_to(project_dir).as_posix()}"
