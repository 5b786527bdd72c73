"""A developed service's batches with the engine seam faked: Compose's order within a
batch, a failed rebuild keeps the old container, a stopped container comes back, the
uv cache and the owner's uid. The same behaviours run against the real engine in
tests/commands/test_up_fallback_docker.py and tests/sync/test_composed_docker.py."""

import os
import time
from pathlib import Path

import pytest

from devbox.engine.resolve import ResolvedService
from devbox.errors import BuildError
from devbox.project.compose import load_compose
from devbox.project.locate import locate
from devbox.runtime import state
from devbox.sync.bind_or_copy import SyncMode
from devbox.sync.plan import Plan
from devbox.sync.rules import ExecSpec
from devbox.sync.service import DevService
from tests.fakes import FakeEngine, Said, session_record
from tests.sync.dev_services import COMPOSE, dev_service, exiting, keeper


def test_a_batch_runs_in_composes_order(tmp_path: Path, engine: FakeEngine) -> None:
    fallback = dev_service(tmp_path, engine)
    (tmp_path / "src" / "a.py").write_text("x = 1\n")
    rule = fallback.rules.rules[0]
    plan = Plan(
        changed=[tmp_path / "src" / "a.py"],
        rebuild=True,
        copies={"/app/src/a.py": (rule, tmp_path / "src" / "a.py")},
        deletes={"/app/src/gone.py"},
        restart=True,
        execs=[ExecSpec(command=("kill", "-HUP", "1"))],
    )
    try:
        fallback.apply(plan)
    finally:
        keeper(fallback).stop()
    # rebuild (and a new container), copy, delete, exec; the rebuild's new container
    # already is the restart
    assert [c for c in engine.actions() if c != "remove"] == [
        "build",
        "run",
        "copy",
        "exec",
        "exec",
    ]
    execs = [c for c in engine.calls if c[0] == "exec"]
    assert execs == [("exec", "rm", "-rf", "--", "/app/src/gone.py"), ("exec", "kill", "-HUP", "1")]


def test_a_failed_rebuild_keeps_the_old_container(tmp_path: Path) -> None:
    engine = FakeEngine(tmp_path, build_ok=False)
    fallback = dev_service(tmp_path, engine)
    with pytest.raises(BuildError) as caught:
        fallback.apply(Plan(changed=[tmp_path / "uv.lock"], rebuild=True))
    assert caught.value.message == (
        "build failed: the previous container keeps running; save a fix to retry"
    )
    assert engine.actions() == ["build"]  # nothing removed, nothing started


def test_a_container_stopped_from_outside_comes_back(tmp_path: Path, engine: FakeEngine) -> None:
    fallback = dev_service(tmp_path, engine)
    engine.is_running = False
    try:
        # running() is False until the container is started again: start it, then it runs
        original = engine.run_cmd

        def run_cmd(args: object) -> list[str]:
            engine.is_running = True
            return original(args)  # type: ignore[arg-type]

        engine.run_cmd = run_cmd  # type: ignore[method-assign]
        fallback.apply(Plan(changed=[tmp_path / "src" / "a.py"]))
    finally:
        keeper(fallback).stop()
    assert "container devbox-" in fallback.echo.messages[0]  # type: ignore[attr-defined]
    assert engine.actions()[:2] == ["remove", "run"]


def test_a_cache_volume_of_the_service_is_not_doubled(tmp_path: Path, engine: FakeEngine) -> None:
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    project = load_compose(locate(tmp_path))
    fallback = DevService(
        engine=engine,
        project=project,
        service=project.services["app"],
        compose_v2=True,
        sync=SyncMode.COPY,
        recorder=state.Recorder(tmp_path, session_record(os.getpid())),
        echo=Said(),
        resolved=ResolvedService(name="app", volumes=("p_uv-cache:/opt/uv-cache",)),
    )
    assert fallback.spec.cache_volume is None
    assert keeper(fallback).owned_paths == ["/app/.venv", "/opt/uv-cache"]


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to hand the folder to another uid")
def test_bind_mode_runs_as_the_folder_owner(
    tmp_path: Path, engine: FakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The project's owner, the .venv mount point made theirs, the .venv and cache given to
    them as the container starts, and uv run as them."""
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    os.chown(tmp_path, 1000, 1001)
    fallback = dev_service(tmp_path, engine, sync=SyncMode.BIND)
    assert fallback.spec.user == keeper(fallback).uv_user == "1000:1001"
    try:
        keeper(fallback).start()
    finally:
        keeper(fallback).stop()
    assert (tmp_path / ".venv").stat().st_uid == 1000
    execs = [c for c in engine.calls if c[0] == "exec"]
    assert execs[0][:4] == ("exec", "find", "/app/.venv", "/opt/uv-cache")


@pytest.mark.parametrize("sync", [SyncMode.BIND, SyncMode.COPY])
def test_a_save_while_it_started_runs_an_app_that_already_finished_again(
    tmp_path: Path, engine: FakeEngine, sync: SyncMode
) -> None:
    """A command-line app ran and exited before the watch was set up, and a source was
    saved meanwhile: no event will come for it, so the catch-up runs the app again."""
    service = dev_service(tmp_path, engine, sync=sync)
    exiting(engine, 0)
    since = time.time()
    try:
        keeper(service).start()
        child = keeper(service).child
        assert child is not None
        child.wait(timeout=10)
        (tmp_path / "src" / "cli.py").write_text("print('edited')\n")
        engine.is_running = False
        service.catch_up(since)
    finally:
        keeper(service).stop()
    assert engine.actions().count("run") == 2
