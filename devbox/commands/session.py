"""Finding a project's dev session and its containers, the same way in both modes:
shared by `shell`, `logs`, `status` and `down`.

Watch mode's containers carry Compose's labels, the fallback's carry devbox's; both
are looked up through the engine, so a session started elsewhere (or one whose
watcher died) is still found.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from devbox.engine.answers import ContainerInfo
from devbox.engine.client import Engine
from devbox.errors import NotRunning
from devbox.project.compose import ComposeProject, Service, load_compose, watched_service
from devbox.project.locate import locate
from devbox.runtime import state


@dataclass
class Session:
    project: ComposeProject
    service: Service
    engine: Engine
    record: state.State | None

    @property
    def stale(self) -> bool:
        """A recorded session whose devbox process is gone."""
        return self.record is not None and not self.record.alive()

    def containers(self) -> list[ContainerInfo]:
        return self.engine.project_containers()

    def running_container_name(self) -> str | None:
        """The live session's recorded container (no engine round trip), else a lookup."""
        record = self.record
        if (
            record is not None
            and record.container
            and record.service == self.service.name
            and record.alive()
        ):
            return record.container
        found = [c for c in self.containers() if c.running and c.service == self.service.name]
        return found[0].name if found else None

    def not_running(self) -> NotRunning:
        stale = " (its devbox up process died; `devbox down` cleans up)" if self.stale else ""
        return NotRunning(
            f"no dev container is running for {self.project.project_dir}{stale}; start it with "
            "`devbox up --detach`, or use `devbox shell --start` for a one-off container"
        )


def find_session(
    *,
    project_dir: Path,
    service: str | None = None,
    project: ComposeProject | None = None,
    warn: Callable[[str], None] | None = None,
) -> Session:
    """The project's session; `warn` hears of a corrupt record set aside."""
    project = project or load_compose(locate(project_dir))
    record = state.load(project.project_dir, warn=warn)
    if service is None and record is not None:
        service = record.service
    return Session(
        project=project,
        service=watched_service(project, service),
        engine=Engine.for_project(project),
        record=record,
    )
