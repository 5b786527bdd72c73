"""A developed service on the faked engine seam (tests/fakes.py), for the unit tests of
sync/service.py and sync/keeper.py."""

import os
from pathlib import Path

from devbox.project.compose import load_compose
from devbox.project.locate import locate
from devbox.runtime import state
from devbox.sync.bind_or_copy import SyncMode
from devbox.sync.keeper import RunKeeper
from devbox.sync.service import DevService
from tests.fakes import FakeEngine, Said, session_record

COMPOSE = """\
services:
  app:
    build: .
    develop:
      watch:
        - {action: sync, path: ./src, target: /app/src}
        - {action: rebuild, path: ./uv.lock}
"""


def dev_service(tmp_path: Path, engine: FakeEngine, sync: SyncMode = SyncMode.COPY) -> DevService:
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    (tmp_path / "src").mkdir()
    project = load_compose(locate(tmp_path))
    record = session_record(os.getpid(), compose_project=project.name)
    return DevService(
        engine=engine,
        project=project,
        service=project.services["app"],
        compose_v2=False,
        sync=sync,
        recorder=state.Recorder(tmp_path, record),
        echo=Said(),
    )


def keeper(service: DevService) -> RunKeeper:
    """The fallback's keeper of `service`'s container."""
    assert isinstance(service.keeper, RunKeeper)
    return service.keeper


def exiting(engine: FakeEngine, code: int) -> None:
    """`docker run` exits at once with `code`, as when the container is killed."""
    original = engine.run_cmd

    def run_cmd(args: object) -> list[str]:
        original(args)  # type: ignore[arg-type]
        return ["sh", "-c", f"exit {code}"]

    engine.run_cmd = run_cmd  # type: ignore[method-assign]
