"""What keeps one dev container alive: its build, start and stop, an exit said (or, with
`--restart-on-exit`, restarted with a back-off), and a lost engine waited out.

Two keepers share this: `RunKeeper` runs the container itself (`docker run`: the
fallback) and `ComposeKeeper` (sync/composed.py) keeps the one Compose made (compose
mode). Neither applies a batch: `sync.service.DevService` does, through the keeper it
holds, and hears of each start and stop through the keeper's two hooks. A lost engine
(a daemon restart takes the containers with it) is handled here alone: said once, the
batches meanwhile reduced to "rebuild or not", and the container started again (rebuilt
if a batch asked) once the engine answers.
"""

import time
from collections.abc import Callable
from typing import Any

from devbox import defaults
from devbox.engine import labels
from devbox.engine.client import Engine
from devbox.engine.container import ContainerSpec, compose_without_develop
from devbox.engine.owner import give_to
from devbox.errors import BuildError, ConfigError, DevboxError, StartError
from devbox.output import Echo
from devbox.project.compose import ComposeProject, Service, load_compose
from devbox.project.locate import ProjectPaths
from devbox.project.ownership import owned_mount_point
from devbox.runtime import process
from devbox.runtime.signals import deferred
from devbox.runtime.state import Recorder

START_TIMEOUT = 30.0
MAX_RESTART_DELAY = 30.0  # a container that keeps exiting is restarted at most this often
LATE_CREATE = 5.0  # seconds the engine may still create a container its client asked for
QUICK_EXIT = 10.0  # an exit this soon after a start counts towards the back-off

# `docker run`'s own failures (the engine's, a command that cannot run or is not found),
# told apart from the exit code of a container that ran.
_RUN_FAILED = (125, 126, 127)

# Told after each start: whether the synced sources must be copied in again (a new
# container from an older image), and (copy sync) only those changed since when.
Started = Callable[[bool, float | None], None]


def restart_delay(quick_exits: int) -> float:
    """Seconds before the next restart after `quick_exits` quick exits in a row (pure):
    at once for the first, then 2, 4, ... up to `MAX_RESTART_DELAY`."""
    return min(2.0 ** (quick_exits - 1), MAX_RESTART_DELAY) if quick_exits > 1 else 0.0


class Keeper:
    """One dev container's life; the subclasses say how it is built, started and stopped."""

    def __init__(
        self,
        *,
        engine: Engine,
        project: ComposeProject,
        service: Service,
        spec: ContainerSpec,
        owned_paths: list[str],
        recorder: Recorder,
        echo: Echo,
        restart_on_exit: bool = False,
    ) -> None:
        self.engine, self.project, self.service, self.spec = engine, project, service, spec
        self.owned_paths = owned_paths  # what the mapped user must be able to write
        self.recorder, self.echo = recorder, echo
        self.restart_on_exit = restart_on_exit
        self.on_started: Started = lambda resync, changed_since: None
        self.on_stopping: Callable[[], None] = lambda: None
        self.cache_ready = False
        self.started_at = 0.0
        self.exit_reported = False
        self.quick_exits = 0  # consecutive exits soon after a start: the restart back-off
        self.restart_at = 0.0
        # The engine stopped answering: the container is started again once it answers,
        # with a rebuild a batch asked for meanwhile.
        self.engine_lost = False
        self.rebuild_missed = False
        self.volumes: list[str] = []  # the running container's anonymous volumes

    # --- what each keeper does its own way -------------------------------------------

    def build(self) -> bool:
        """Build the dev image; whether it built (the output shows why not)."""
        raise NotImplementedError

    def start(self, *, resync: bool = False) -> None:
        """(Re)create the container; `resync`: from an image older than the sources."""
        raise NotImplementedError

    def restart(self) -> None:
        """A restart rule."""
        raise NotImplementedError

    def stop(self) -> None:
        """Let go of the container (the fallback's is removed; Compose's at the end)."""
        raise NotImplementedError

    def exit_code(self) -> int | None:
        """The container's exit code once it has exited, None while it runs."""
        raise NotImplementedError

    def known_running(self) -> bool:
        """Running, known without asking the engine."""
        return False

    # --- shared ----------------------------------------------------------------------

    @property
    def uv_user(self) -> str:
        """Who runs `uv` in the container: the mapped user, who owns the .venv and the cache
        there (root would leave root-owned files in the bind-mounted project); else root, so
        a service running as another user can still write the image's root-owned .venv."""
        return self.spec.user or "0"

    def prepare_mounts(self) -> None:
        """What the container's mounts need before it is created: a `.venv` mount point
        the mapped user owns (the engine would make it root's), uv's cache volume."""
        if self.spec.user is not None and self.spec.bind is not None:
            owned_mount_point(self.spec.bind, ".venv")
        if self.spec.cache_volume is not None and not self.cache_ready:
            self.engine.ensure_cache_volume(self.spec.cache_volume, defaults.CACHE_VOLUME)
            self.cache_ready = True

    def give_to_user(self) -> None:
        """Give the freshly started container's .venv (initialised from the image, root's)
        and uv's cache to the mapped user, as root; only what others own is changed."""
        if self.spec.user is None:
            return
        argv = give_to(self.spec.user, self.owned_paths)
        result = self.engine.exec(self.spec.name, argv, options=["--user", "0"], capture=True)
        if result.returncode != 0:
            self.echo(
                f"warning: could not give {', '.join(self.owned_paths)} to {self.spec.user}: "
                f"{process.reason(result)}; `uv sync` in the container may fail",
                error=True,
            )

    def ensure_running(self, *, known: bool = False) -> None:
        """Before a batch: a container stopped from outside starts again. `known`: the
        caller knows it runs (a live receiver), so no engine question per batch."""
        if known or self.known_running() or self.engine.running(self.spec.name):
            return
        self.echo(f"container {self.spec.name} is not running: starting it again")
        self.start(resync=True)

    def deferred(self, *, rebuild: bool) -> bool:
        """While the engine is lost, a batch waits for its return (True): a new container,
        the sources synced again, rebuilt if this batch or another asked for it."""
        if self.engine_lost:
            self.rebuild_missed = self.rebuild_missed or rebuild
        return self.engine_lost

    def check_exit(self) -> None:
        """Say (once) when the container exited on its own, with its exit code, and with
        `restart_on_exit` start it again, backing off while it keeps exiting at once; a
        lost engine is said as such, and waited out."""
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
            delay = restart_delay(self.quick_exits)
            self.restart_at = now + delay
            then = (
                "starting it again" + (f" in {delay:g} s" if delay else "")
                if self.restart_on_exit
                else "the next change starts it again (`--restart-on-exit` restarts at once)"
            )
            self.echo(f"container {self.spec.name} exited with code {code}; {then}", error=True)
        if self.restart_on_exit and now >= self.restart_at:
            try:
                self.start(resync=True)
            except DevboxError as exc:
                self.echo(f"error: {exc.message}", error=True)
            else:
                self.echo(f"container {self.spec.name} running again")

    def _recover_engine(self) -> None:
        """Once the engine answers again: the missed rebuild, a new container, and (copy
        sync) every synced source copied in again, the edits made meanwhile included."""
        if not self.engine.answers():
            return
        self.engine.remove_volumes(*self.volumes)  # left by the container the restart removed
        try:
            if self.rebuild_missed and not self.build():
                raise BuildError("build failed: save a fix to retry")
            self.start(resync=True)
        except DevboxError as exc:  # the engine may answer before it can run containers
            self.echo(f"error: the engine is back, but {exc.message}", error=True)
            return
        self.engine_lost = self.rebuild_missed = False
        self.echo(f"the engine is back: container {self.spec.name} running again")


class RunKeeper(Keeper):
    """The fallback's container: built and run by devbox (`docker run`, attached, so its
    output is the app's and its exit the container's), removed with its anonymous
    volumes when it stops."""

    def __init__(self, *, compose_v2: bool, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if self.service.context is None:
            raise ConfigError(
                f"{self.project.file}: services.{self.service.name}.build: missing; the "
                "fallback builds the dev image itself, add `build: .`"
            )
        self.has_compose_v2 = compose_v2
        self.child: process.Child | None = None
        self.starting = False  # a `docker run` started, its container not yet seen running

    def build(self) -> bool:
        """Build the dev image with BuildKit: through Compose v2 if present, else `docker build`."""
        title = f"building {self.spec.image}"
        if not self.has_compose_v2:
            return self.engine.build_image(
                context=self.service.context or self.project.project_dir,
                dockerfile=self.service.dockerfile,
                target=self.service.target,
                tag=self.spec.image,
                build_args=self.spec.resolved.build_args if self.spec.resolved else (),
                title=title,
                echo=self.echo,
            )[0]
        # Older Compose rejects `develop`: hand it a copy of the model without it. The file
        # may be half-saved right now: that is a message, not the end of the session.
        project = load_compose(ProjectPaths(self.project.project_dir, self.project.files))
        text = compose_without_develop(
            project.data, images={self.service.name: self.spec.image}, folder=project.project_dir
        )
        with self.engine.compose_copy(text) as files:
            return self.engine.compose_build(
                self.service.name, files=files, title=title, echo=self.echo
            )

    def start(self, *, resync: bool = False) -> None:
        """(Re)create the container; its output streams to the terminal."""
        self.stop()
        self.prepare_mounts()
        with deferred():  # an interruption here would leave the client unrecorded
            self.starting = True
            self.child = self.engine.start_dev_container(self.spec)
        self.recorder.child(self.child)
        self.started_at, self.exit_reported = time.monotonic(), False
        deadline = time.monotonic() + START_TIMEOUT
        while not self.engine.running(self.spec.name):
            code = self.child.poll()
            if code is not None and code not in _RUN_FAILED:
                # It ran and exited already (a command-line app): check_exit says so.
                self.starting = False
                return
            if code is not None or time.monotonic() > deadline:
                raise StartError(
                    f"container {self.spec.name} did not start (exit code {code}); "
                    "see its output above"
                )
            time.sleep(0.05)
        self.starting = False
        # A daemon restart removes the `--rm` container but keeps its anonymous volumes:
        # their names now, to remove them then.
        self.volumes = self.engine.anonymous_volumes(self.spec.name)
        self.give_to_user()
        self.on_started(resync, None)

    def restart(self) -> None:
        """A new container from the same image, the synced sources copied in again."""
        self.start(resync=True)

    def stop(self) -> None:
        # The client first: stopped before it creates the container, it cannot create one
        # after the removal below.
        self.on_stopping()
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

    def exit_code(self) -> int | None:
        """`docker run` stays attached: its exit is the container's, and its code the
        container's (137 after `docker kill`)."""
        return None if self.child is None else self.child.poll()
