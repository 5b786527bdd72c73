"""`devbox up` without Compose watch: `docker run` plus devbox's own watcher.

Mirrors the service's `develop.watch` rules with Compose's semantics (see
docs in README "Fallback mode"); the container is rebuilt, recreated, synced
and exec'd as Compose would, and removed with its anonymous volumes on exit.
"""

import os
import time
from collections.abc import Collection, Mapping
from pathlib import Path

from devbox import defaults
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
from devbox.engine.resolve import ResolvedService
from devbox.errors import BuildError, ConfigError, DevboxError, StartError
from devbox.output import Echo
from devbox.project.compose import ComposeProject, Service, load_compose, watched_service
from devbox.project.locate import ProjectPaths
from devbox.runtime import process
from devbox.runtime.progress import run_step
from devbox.runtime.signals import interruptible
from devbox.runtime.state import Recorder
from devbox.sync.archive import make_tar
from devbox.sync.batcher import Batcher
from devbox.sync.modes import SyncMode
from devbox.sync.plan import BindMount, Plan, current_copies, plan_batch
from devbox.sync.rules import WatchRule, load_rules
from devbox.sync.transfer import RECEIVER, Receiver, ReceiverError
from devbox.sync.watcher import ProjectWatcher

START_TIMEOUT = 30.0


class FallbackSession:
    """One dev container and the rules that keep it in step with the project."""

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
    ) -> None:
        if service.context is None:
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
        self.spec = ContainerSpec(
            name=container_name(project, service),
            image=image_tag(project, service),
            project=project.name,
            service=service,
            bind=None if self.bind is None else self.bind.host,
            resolved=resolved,
        )
        self.child: process.Child | None = None
        # Copy mode's stream into the container; None until the first batch needs it.
        self.receiver: Receiver | None = None
        self.receiver_broken = False  # no receiver could start: `docker cp` from then on

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
        text = compose_without_develop(project.data, images={self.service.name: self.spec.image})
        with self.engine.compose_copy(text) as files:
            argv = self.engine.compose_cmd("build", self.service.name, files=files)
            return run_step(argv, title=title, echo=self.echo, env=BUILDKIT)[0]

    def start_container(self, *, resync: bool = False) -> None:
        """(Re)create the container; its output streams to the terminal.

        With `resync` (copy mode, same image), the sources synced since the image was
        built are copied in again, so a restart does not revert them.
        """
        self.stop_container()
        self.child = process.start(self.engine.run_cmd(run_args(self.spec)))
        self.recorder.child(self.child)
        deadline = time.monotonic() + START_TIMEOUT
        while not self.engine.running(self.spec.name):
            if self.child.poll() is not None or time.monotonic() > deadline:
                raise StartError(
                    f"container {self.spec.name} did not start (exit code {self.child.poll()}); "
                    "see its output above"
                )
            time.sleep(0.05)
        if resync and self.bind is None:
            self.copy(current_copies(self.rules))

    def stop_container(self) -> None:
        # The client first: stopped before it creates the container, it cannot create one
        # after the removal below.
        self.close_receiver()
        if self.child is not None:
            process.stop(self.child, grace=5)
            self.child = None
        self.engine.remove_containers(self.spec.name)

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

    def _receiver(self) -> Receiver | None:
        if self.bind is not None or self.receiver_broken:
            return None
        if self.receiver is not None and self.receiver.alive():
            return self.receiver
        self.close_receiver()
        try:
            self.receiver = Receiver(self.engine.receiver_cmd(self.spec.name, RECEIVER))
        except (ReceiverError, DevboxError) as exc:
            if self.engine.running(self.spec.name):  # else the container is gone, not python3
                self.receiver_broken = True
                self.echo(f"copy sync falls back to docker cp per batch: {exc}")
            return None
        return self.receiver

    def _receiver_alive(self) -> bool:
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
                raise BuildError(
                    "build failed: the previous container keeps running; save a fix to retry"
                )
            self.start_container()
        elif not self._receiver_alive() and not self.engine.running(self.spec.name):
            # A live receiver proves the container runs (its exec ends with the container):
            # no `docker inspect` process per batch on the copy path.
            self.echo(f"container {self.spec.name} is not running: starting it again")
            self.start_container(resync=True)
        self.copy(plan.copies, plan.deletes)
        if plan.restart and not plan.rebuild:
            self.start_container(resync=True)
        for spec in plan.execs:
            options = exec_options(
                env=spec.environment,
                workdir=spec.working_dir,
                user=spec.user,
                privileged=spec.privileged,
            )
            self.engine.exec(self.spec.name, spec.command, options=options)

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

    def watch(self, batcher: Batcher) -> None:
        while True:
            rules = self.rules
            root = self.project.project_dir
            with ProjectWatcher(
                root, skip=rules.skips_everywhere, batcher=batcher, on_warning=self.warn
            ) as watcher:
                how = " by polling" if watcher.polling else ""
                self.echo(
                    f"watching {watcher.watched_folders} folders{how}; Ctrl-C stops and cleans up"
                )
                for batch in watcher.batches():
                    self.handle(batch, first_event=batcher.taken_first)
                    if self.rules is not rules:
                        break  # the rules changed: watch again with the new ones

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
        self.recorder.applied(summary, ms / 1000, latency)


def run_fallback(
    *,
    engine: Engine,
    project: ComposeProject,
    service: Service,
    compose_v2: bool,
    echo: Echo,
    recorder: Recorder,
    sync: SyncMode = SyncMode.BIND,
    batcher: Batcher | None = None,
) -> None:
    """Build, run and keep the dev container in step until Ctrl-C; it is always removed."""
    session = FallbackSession(
        engine=engine,
        project=project,
        service=service,
        compose_v2=compose_v2,
        sync=sync,
        recorder=recorder,
        echo=echo,
    )

    def cleanup() -> None:
        session.stop_container()
        # Whatever a cut-short start may have left under this project's label.
        engine.remove_labelled(
            labels.label(labels.DEVBOX_PROJECT, project.name), named_volumes=False
        )

    stopping = f"removing {session.spec.name} and its anonymous volumes"
    with interruptible(cleanup=cleanup, stopping=stopping, echo=echo):
        if not session.build():
            raise BuildError("the dev image did not build (output above)")
        session.start_container()
        echo(f"container {session.spec.name} running ({sync.value} sync)")
        recorder.ready(session.spec.name)
        session.watch(batcher or Batcher())
