"""The fallback's control flow with the engine seam faked: Compose's order within a batch,
a failed rebuild keeps the old container, a stopped container comes back, clean-up
always runs. The same behaviours run against the real engine in
tests/commands/test_up_fallback.py."""

import os
from pathlib import Path

import pytest

from devbox.engine.resolve import ResolvedService
from devbox.errors import BuildError
from devbox.project.compose import load_compose
from devbox.project.locate import locate
from devbox.runtime import state
from devbox.sync.fallback import FallbackSession
from devbox.sync.modes import SyncMode
from devbox.sync.plan import Plan
from devbox.sync.rules import ExecSpec
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


def session(tmp_path: Path, engine: FakeEngine, sync: SyncMode = SyncMode.COPY) -> FallbackSession:
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    (tmp_path / "src").mkdir()
    project = load_compose(locate(tmp_path))
    record = session_record(os.getpid(), compose_project=project.name)
    return FallbackSession(
        engine=engine,
        project=project,
        service=project.services["app"],
        compose_v2=False,
        sync=sync,
        recorder=state.Recorder(tmp_path, record),
        echo=Said(),
    )


@pytest.fixture
def engine(tmp_path: Path) -> FakeEngine:
    return FakeEngine(tmp_path)


def test_a_batch_runs_in_composes_order(tmp_path: Path, engine: FakeEngine) -> None:
    fallback = session(tmp_path, engine)
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
        fallback.stop_container()
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
    fallback = session(tmp_path, engine)
    with pytest.raises(BuildError) as caught:
        fallback.apply(Plan(changed=[tmp_path / "uv.lock"], rebuild=True))
    assert caught.value.message == (
        "build failed: the previous container keeps running; save a fix to retry"
    )
    assert engine.actions() == ["build"]  # nothing removed, nothing started


def test_a_container_stopped_from_outside_comes_back(tmp_path: Path, engine: FakeEngine) -> None:
    fallback = session(tmp_path, engine)
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
        fallback.stop_container()
    assert "container devbox-" in fallback.echo.messages[0]  # type: ignore[attr-defined]
    assert engine.actions()[:2] == ["remove", "run"]


def test_stop_removes_the_container_and_its_client(tmp_path: Path, engine: FakeEngine) -> None:
    fallback = session(tmp_path, engine)
    fallback.start_container()
    child = fallback.child
    assert child is not None and child.poll() is None
    fallback.stop_container()
    assert child.poll() is not None
    assert engine.calls[-1] == ("remove", fallback.spec.name)


def exiting(engine: FakeEngine, code: int) -> None:
    """`docker run` exits at once with `code`, as when the container is killed."""
    original = engine.run_cmd

    def run_cmd(args: object) -> list[str]:
        original(args)  # type: ignore[arg-type]
        return ["sh", "-c", f"exit {code}"]

    engine.run_cmd = run_cmd  # type: ignore[method-assign]


def test_an_exited_container_is_reported_once(tmp_path: Path, engine: FakeEngine) -> None:
    fallback = session(tmp_path, engine)
    exiting(engine, 137)
    fallback.start_container()
    assert fallback.child is not None
    fallback.child.wait()
    fallback.check_exit()
    fallback.check_exit()
    name = fallback.spec.name
    assert fallback.echo.messages == [  # type: ignore[attr-defined]
        f"container {name} exited with code 137; "
        "the next change starts it again (`--restart-on-exit` restarts at once)"
    ]
    assert engine.actions().count("run") == 1
    fallback.stop_container()


def test_a_lost_engine_is_said_and_the_container_comes_back_with_it(
    tmp_path: Path, engine: FakeEngine
) -> None:
    """Bind sync (copy sync's resync runs against the real engine in
    tests/commands/test_up_engine_restart_docker.py): a daemon restart is not an exit of
    the app's own, so it is said as such, batches wait, and the engine's return (not the
    next change) starts the container, rebuilt when a batch asked for it meanwhile."""
    fallback = session(tmp_path, engine, SyncMode.BIND)
    exiting(engine, 137)
    fallback.start_container()
    assert fallback.child is not None
    fallback.child.wait()
    engine.is_up = False
    fallback.check_exit()
    fallback.check_exit()
    (tmp_path / "uv.lock").write_text("")
    fallback.handle([tmp_path / "uv.lock"])  # new dependencies: a rebuild when it is back
    assert engine.actions().count("run") == 1 and "build" not in engine.actions()
    engine.is_up = True
    fallback.check_exit()
    assert [a for a in engine.actions() if a != "remove"] == ["run", "build", "run"]
    name = fallback.spec.name
    said = fallback.echo.messages  # type: ignore[attr-defined]
    assert [m for m in said if not m.startswith("building ")] == [
        f"the engine stopped answering (restarted?) and container {name} ended with it; "
        "devbox starts it again when the engine is back (Ctrl-C stops)",
        f"the engine is back: container {name} running again",
    ]
    fallback.stop_container()


def test_restart_on_exit_starts_it_again_and_backs_off(tmp_path: Path, engine: FakeEngine) -> None:
    fallback = session(tmp_path, engine)
    fallback.restart_on_exit = True
    exiting(engine, 3)
    fallback.start_container()
    assert fallback.child is not None
    fallback.child.wait()
    fallback.check_exit()  # the first quick exit: at once
    assert engine.actions().count("run") == 2
    assert fallback.child is not None
    fallback.child.wait()
    fallback.check_exit()  # the second in a row: in 2 s, not now
    assert engine.actions().count("run") == 2
    messages = fallback.echo.messages  # type: ignore[attr-defined]
    assert messages[-1].endswith("exited with code 3; starting it again in 2 s")
    fallback.stop_container()


def test_a_container_created_after_an_interrupted_start_is_removed(
    tmp_path: Path, engine: FakeEngine
) -> None:
    """The engine may create the container after its `docker run` client was stopped."""
    from devbox.engine.answers import ContainerInfo

    fallback = session(tmp_path, engine)
    fallback.starting = True  # stopped between `docker run` and the container running
    late = ContainerInfo("late", "app", "created", False, None, (), "img")
    engine.listed = [late]
    fallback.stop_container()
    assert ("remove", "late") in engine.calls
    assert not fallback.starting


def test_copy_mode_mounts_the_projects_uv_cache_once(tmp_path: Path, engine: FakeEngine) -> None:
    fallback = session(tmp_path, engine)
    assert fallback.spec.user is None and fallback.uv_user == "0"
    assert fallback.spec.cache_volume == f"{fallback.project.name}_uv-cache"
    try:
        fallback.start_container()
        fallback.start_container()
    finally:
        fallback.stop_container()
    assert engine.volumes == [f"{fallback.project.name}_uv-cache"]


def test_a_cache_volume_of_the_service_is_not_doubled(tmp_path: Path, engine: FakeEngine) -> None:
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    project = load_compose(locate(tmp_path))
    fallback = FallbackSession(
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
    assert fallback.owned_paths == ["/app/.venv", "/opt/uv-cache"]


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to hand the folder to another uid")
def test_bind_mode_runs_as_the_folder_owner(
    tmp_path: Path, engine: FakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The project's owner, the .venv mount point made theirs, the .venv and cache given to
    them as the container starts, and uv run as them."""
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    os.chown(tmp_path, 1000, 1001)
    fallback = session(tmp_path, engine, sync=SyncMode.BIND)
    assert fallback.spec.user == fallback.uv_user == "1000:1001"
    try:
        fallback.start_container()
    finally:
        fallback.stop_container()
    assert (tmp_path / ".venv").stat().st_uid == 1000
    execs = [c for c in engine.calls if c[0] == "exec"]
    assert execs[0][:4] == ("exec", "find", "/app/.venv", "/opt/uv-cache")
