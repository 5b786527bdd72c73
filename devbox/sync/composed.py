"""Compose mode: Compose creates and runs every container, devbox keeps them in step.

The project is started with `docker compose up --detach`, so every Compose setting
applies because Compose applies it (override files, profiles, `depends_on`
conditions, healthchecks, secrets, ...). devbox adds what the fallback's
`docker run` adds through one override file outside the tree (`compose_override`):
the bind mount, the secrets masks, the owner's uid and uv's cache. Applying a batch
is the fallback's (`FallbackSession.apply`); only the container's life differs, and
it is Compose's own: `compose build`, `compose up --no-deps`, `compose restart`.
"""

import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from devbox.engine.client import BUILDKIT
from devbox.engine.logstream import LogFollower
from devbox.errors import StartError
from devbox.project.compose import ComposeProject, Service
from devbox.runtime import process
from devbox.runtime.progress import run_step
from devbox.sync.fallback import FallbackSession
from devbox.sync.plan import current_copies

# Files whose change makes the image Compose has for a service stale: its dependency
# layer and the Dockerfile. Compose's own `up` builds only a missing image.
IMAGE_INPUTS = (".dockerignore", "pyproject.toml", "uv.lock", ".python-version")


def compose_image(project: ComposeProject, service: Service) -> str:
    """The image Compose builds for a service: its `image:`, else `<project>-<service>`."""
    return service.image or f"{project.name}-{service.name}"


def stale(image_created: float | None, inputs: list[Path]) -> bool:
    """An image is rebuilt when missing or older than one of its inputs (pure)."""
    if image_created is None:
        return True
    newest = max((p.stat().st_mtime for p in inputs if p.is_file()), default=0.0)
    return newest > image_created


class ComposedService(FallbackSession):
    """One developed service of a project Compose runs.

    Its container is Compose's (`<project>-<service>-1`, or its `container_name`),
    found once Compose has made it. The app's output streams to the terminal
    (`engine.logstream`), which also tells of an exit for free: the stream ends when the
    container stops.
    """

    builds_itself = False  # Compose builds (and may not need `build:` at all)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec = replace(self.spec, image=compose_image(self.project, self.service))
        self.logs: LogFollower | None = None
        self.pending = b""  # the app's last line, not yet ended
        self.exited: int | None = None  # the exit code once the container has stopped
        self.image_time: float | None = None  # when the image was built, once asked

    def image_inputs(self) -> list[Path]:
        context = self.service.context or self.project.project_dir
        dockerfile = context / self.service.dockerfile
        return [dockerfile, *(context / name for name in IMAGE_INPUTS)]

    def needs_build(self) -> bool:
        if self.service.context is None:
            return False  # an `image:` service: Compose pulls or finds it
        self.image_time = self.engine.image_created(self.spec.image)
        return stale(self.image_time, self.image_inputs())

    def build(self) -> bool:
        argv = self.engine.compose_cmd("build", self.service.name)
        return run_step(argv, title=f"building {self.spec.image}", echo=self.echo, env=BUILDKIT)[0]

    def attach(
        self,
        *,
        resync: bool,
        changed_since: float | None = None,
        output_since: float | None = None,
    ) -> None:
        """Find the container Compose made, follow its output, give the mapped user its
        `.venv`, and (copy sync, with `resync`) copy every synced source in, or only those
        changed since `changed_since` (the image's build: it holds the others). A container
        started again keeps its old output: `output_since` shows only what came after."""
        found = [c for c in self.engine.service_containers(self.service.name) if c.running]
        if not found:
            raise StartError(
                f"Compose did not start service {self.service.name}; `devbox logs "
                f"{self.service.name}` shows why"
            )
        self.spec = replace(self.spec, name=found[0].name)
        self.exited, self.exit_reported = None, False
        self.started_at = time.monotonic()
        self._follow(since=output_since)
        self._give_to_user()
        if resync and self.bind is None:
            copies = current_copies(self.rules, changed_since=changed_since)
            self.copy(copies)
        self.watch_writes()

    def start_container(self, *, resync: bool = False) -> None:
        """After a rebuild: recreate the service only, with fresh anonymous volumes (the
        old `.venv` would hide the new image's). Else start it (and what it needs) as it
        is, every synced source copied in again (copy sync)."""
        self.stop_container()
        # Compose removes the container it recreates, not its anonymous volumes.
        old_volumes = [] if resync else self.engine.anonymous_volumes(self.spec.name)
        if resync:
            argv = self.engine.compose_cmd("up", "--detach", self.service.name)
        else:
            argv = self.engine.compose_cmd(
                "up", "--detach", "--no-deps", "--force-recreate", "--renew-anon-volumes",
                self.service.name,
            )  # fmt: skip
        asked = time.time() - 1  # a second of slack: the engine's clock may differ
        result = process.run(argv, check=False, merge=True, env=BUILDKIT)
        if result.returncode != 0:
            tail = " / ".join(process.text(result.stdout).splitlines()[-3:])
            raise StartError(f"Compose did not start {self.service.name}: {tail}")
        self.engine.remove_volumes(*old_volumes)
        self.attach(resync=resync, output_since=asked if resync else None)

    def restart(self) -> None:
        """A restart rule, as Compose watch does it: `compose restart` (the container and
        what was synced into it stay)."""
        self.stop_container()
        asked = time.time() - 1  # a second of slack: the engine's clock may differ
        process.run(self.engine.compose_cmd("restart", self.service.name), check=False)
        self.attach(resync=False, output_since=asked)

    def stop_container(self) -> None:
        """Let go of the container (Compose's, removed at the session's end)."""
        self.close_receiver()
        if self.logs is not None:
            self.logs.stop()
            self.logs = None

    def _follow(self, *, since: float | None) -> None:
        self.logs = self.engine.follow_logs(self.spec.name, since=since, sink=self._write)
        if self.logs.child is not None:
            self.recorder.child(self.logs.child)

    def _write(self, data: bytes) -> None:
        """The app's output to the terminal, each line under its service's name when there
        are several (then lines are whole: the API's frames may split them)."""
        if not self.output_prefix:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
            return
        self.pending += data
        *lines, self.pending = self.pending.split(b"\n")
        for line in lines:
            sys.stdout.write(f"{self.output_prefix}{line.decode(errors='replace')}\n")
        sys.stdout.flush()

    def exit_code(self) -> int | None:
        """The code once the container stopped; its log stream ending says when. A stream
        that ended while the container runs (Compose's `restart:` policy restarted it) is
        followed again from then."""
        if self.logs is None or self.logs.alive():
            return self.exited
        ended = time.time()
        self.logs = None
        running, code = self.engine.state(self.spec.name)
        if running:
            self._follow(since=ended)
            return None
        self.exited = code
        return code

    def known_running(self) -> bool:
        return super().known_running() or (self.logs is not None and self.logs.alive())

    def _recover_engine(self) -> None:
        self.volumes = []  # Compose's containers keep their volumes across a daemon restart
        super()._recover_engine()
