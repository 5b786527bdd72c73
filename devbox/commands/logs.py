"""`devbox logs`: the dev container's output."""

from pathlib import Path

from devbox.commands.target import find_target


def logs(
    *, project_dir: Path, service: str | None = None, follow: bool = False, tail: str = "all"
) -> int:
    """Print the newest container of the service's output; the client's exit code."""
    target = find_target(project_dir=project_dir, service=service)
    containers = [c for c in target.containers() if c.service == target.service.name]
    if not containers:
        raise target.not_running()
    newest = max(containers, key=lambda c: c.started_at.timestamp() if c.started_at else 0.0)
    return target.engine.logs(newest.name, tail=tail, follow=follow).returncode
