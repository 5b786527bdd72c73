"""The project a command acts on (`shell`, `logs`, `status`, `add`): its developed
service, its engine, its containers, and the record of its session (the `devbox up`
running for it), if one runs; `down` and `up` share the name-clash refusal.

Compose's containers carry Compose's labels, the fallback's carry devbox's; both are
looked up through the engine, so a session started elsewhere (or one whose watcher
died) is still found.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from devbox.engine.answers import ContainerInfo
from devbox.engine.client import Engine
from devbox.errors import ConfigError, NotRunning, config_error
from devbox.project.compose import ComposeProject, Service, load_compose, watched_service
from devbox.project.locate import locate
from devbox.runtime import state


@dataclass
class Target:
    project: ComposeProject
    service: Service
    engine: Engine
    record: state.State | None
    version: str = ""  # the engine's, asked once (bounded) when the target is found

    @property
    def stale(self) -> bool:
        """A recorded session whose devbox process is gone."""
        return self.record is not None and not self.record.alive()

    def containers(self) -> list[ContainerInfo]:
        """The project's containers; never another folder's project of the same name."""
        found = self.engine.project_containers()
        return [c for c in found if c not in other_folders(found, self.project.project_dir)]

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


def other_folders(containers: list[ContainerInfo], project_dir: Path) -> list[ContainerInfo]:
    """Containers of the same Compose project name started for another folder (`a/proj`
    and `b/proj` are both `proj` to Compose); those without a folder label are unknown."""
    here = project_dir.resolve()
    return [c for c in containers if c.folder is not None and Path(c.folder).resolve() != here]


def name_clash(project: ComposeProject, containers: list[ContainerInfo]) -> ConfigError | None:
    """The refusal to act when another folder's project of the same name has containers:
    its containers, network and volumes would be this project's to Compose and devbox."""
    others = other_folders(containers, project.project_dir)
    if not others:
        return None
    return config_error(
        project.file,
        "name",
        f"the Compose project name {project.name!r} is already used by {others[0].folder} "
        f"(container {others[0].name})",
        f"give this project its own: set `name:` at the top of {project.file.name} (or "
        f"COMPOSE_PROJECT_NAME), or run `devbox down` in {others[0].folder}",
    )


def find_target(
    *,
    project_dir: Path,
    service: str | None = None,
    project: ComposeProject | None = None,
    warn: Callable[[str], None] | None = None,
) -> Target:
    """The project (this folder's, or `project`) and its service (`service`, else the
    session's, else the one with watch rules); `warn` hears of a corrupt record set aside."""
    project = project or load_compose(locate(project_dir))
    record = state.load(project.project_dir, warn=warn)
    if service is None and record is not None:
        service = record.service
    engine = Engine.for_project(project)
    svc = watched_service(project, service)
    version = engine.server_version()  # bounded: an engine that never answers is an error
    return Target(project=project, service=svc, engine=engine, record=record, version=version)
