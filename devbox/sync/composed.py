"""Compose mode: Compose creates and runs every container, devbox keeps them in step.

The project is started with `docker compose up --detach`, so every Compose setting
applies because Compose applies it (override files, profiles, `depends_on`
conditions, healthchecks, secrets, ...). devbox adds what the fallback's
`docker run` adds through one override file outside the tree (`compose_override`):
the bind mount, the secrets masks, the owner's uid and uv's cache. Applying a batch
is the same as in the fallback (`sync.service`); only the container's life differs,
and it is Compose's own (`ComposeKeeper`): `compose build`, `compose up --no-deps`,
`compose restart`.
"""

import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from devbox.engine.logstream import LogFollower
from devbox.errors import StartError
from devbox.project.compose import ComposeProject, Service
from devbox.sync.keeper import Keeper

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


class ComposeKeeper(Keeper):
    """The container Compose made for one developed service (`<project>-<service>-1`, or
    its `container_name`), found once Compose has made it. The app's output streams to
    the terminal (`engine.logstream`), which also tells of an exit for free: the stream
    ends when the container stops."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec = replace(self.spec, image=compose_image(self.project, self.service))
        self.logs: LogFollower | None = None
        self.pending = b""  # the app's last line, not yet ended
        self.exited: int | None = None  # the exit code once the container has stopped
        self.image_time: float | None = None  # when the image was built, once asked
        self.output_prefix = ""  # put before each line of the app's output (several services)

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
        return self.engine.compose_build(
            self.service.name, title=f"building {self.spec.image}", echo=self.echo
        )

    def attach(
        self,
        *,
        resync: bool,
        changed_since: float | None = None,
        output_since: float | None = None,
    ) -> None:
        """Find the container Compose made, follow its output, give the mapped user its
        `.venv`, and tell the service (which, copy sync, with `resync`, copies every
        synced source in, or only those changed since `changed_since`: the image's build
        holds the others). A container started again keeps its old output:
        `output_since` shows only what came after."""
        made = self.engine.service_containers(self.service.name)
        found = [c for c in made if c.running] or [c for c in made if c.status == "exited"]
        if not found:
            raise StartError(
                f"Compose did not start service {self.service.name}; `devbox logs "
                f"{self.service.name}` shows why"
            )
        self.spec = replace(self.spec, name=found[0].name)
        self.exited, self.exit_reported = None, False
        self.started_at = time.monotonic()
        self._follow(since=output_since)
        if not found[0].running:  # a command-line app that already ran: its exit is said
            return  # by check_exit; the next change starts it again
        self.give_to_user()
        self.on_started(resync, changed_since)

    def start(self, *, resync: bool = False) -> None:
        """After a rebuild: recreate the service only, with fresh anonymous volumes (the
        old `.venv` would hide the new image's). Else start it (and what it needs) as it
        is, every synced source copied in again (copy sync)."""
        self.stop()
        # Compose removes the container it recreates, not its anonymous volumes.
        old_volumes = [] if resync else self.engine.anonymous_volumes(self.spec.name)
        asked = time.time() - 1  # a second of slack: the engine's clock may differ
        if resync:
            self.engine.compose_up("--detach", self.service.name, what=self.service.name)
        else:
            self.engine.compose_up(
                "--detach", "--no-deps", "--force-recreate", "--renew-anon-volumes",
                self.service.name, what=self.service.name,
            )  # fmt: skip
        self.engine.remove_volumes(*old_volumes)
        self.attach(resync=resync, output_since=asked if resync else None)

    def restart(self) -> None:
        """A restart rule, as Compose watch does it: `compose restart` (the container and
        what was synced into it stay)."""
        self.stop()
        asked = time.time() - 1  # a second of slack: the engine's clock may differ
        self.engine.compose_restart(self.service.name)
        self.attach(resync=False, output_since=asked)

    def stop(self) -> None:
        """Let go of the container (Compose's, removed at the session's end)."""
        self.on_stopping()
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
        return self.logs is not None and self.logs.alive()
