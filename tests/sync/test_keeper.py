"""The fallback's container life with the engine seam faked: stopped with its client, an
exit said once, restarts backing off, a lost engine waited out, a late creation
removed. Against the real engine: tests/commands/test_up_faults_docker.py and
test_up_engine_restart_docker.py."""

from pathlib import Path

import pytest

from devbox.errors import StartError
from devbox.sync.bind_or_copy import SyncMode
from tests.fakes import FakeEngine
from tests.sync.dev_services import dev_service, exiting, keeper


def test_stop_removes_the_container_and_its_client(tmp_path: Path, engine: FakeEngine) -> None:
    fallback = dev_service(tmp_path, engine)
    run = keeper(fallback)
    run.start()
    child = run.child
    assert child is not None and child.poll() is None
    run.stop()
    assert child.poll() is not None
    assert engine.calls[-1] == ("remove", fallback.spec.name)


def test_an_exited_container_is_reported_once(tmp_path: Path, engine: FakeEngine) -> None:
    fallback = dev_service(tmp_path, engine)
    run = keeper(fallback)
    exiting(engine, 137)
    run.start()
    assert run.child is not None
    run.child.wait()
    run.check_exit()
    run.check_exit()
    name = fallback.spec.name
    assert fallback.echo.messages == [  # type: ignore[attr-defined]
        f"container {name} exited with code 137; "
        "the next change starts it again (`--restart-on-exit` restarts at once)"
    ]
    assert engine.actions().count("run") == 1
    run.stop()


def test_a_lost_engine_is_said_and_the_container_comes_back_with_it(
    tmp_path: Path, engine: FakeEngine
) -> None:
    """Bind sync (copy sync's resync runs against the real engine in
    tests/commands/test_up_engine_restart_docker.py): a daemon restart is not an exit of
    the app's own, so it is said as such, batches wait, and the engine's return (not the
    next change) starts the container, rebuilt when a batch asked for it meanwhile."""
    fallback = dev_service(tmp_path, engine, SyncMode.BIND)
    run = keeper(fallback)
    exiting(engine, 137)
    run.start()
    assert run.child is not None
    run.child.wait()
    engine.is_up = False
    run.check_exit()
    run.check_exit()
    (tmp_path / "uv.lock").write_text("")
    fallback.handle([tmp_path / "uv.lock"])  # new dependencies: a rebuild when it is back
    assert engine.actions().count("run") == 1 and "build" not in engine.actions()
    engine.is_up = True
    run.check_exit()
    assert [a for a in engine.actions() if a != "remove"] == ["run", "build", "run"]
    name = fallback.spec.name
    said = fallback.echo.messages  # type: ignore[attr-defined]
    assert [m for m in said if not m.startswith("building ")] == [
        f"the engine stopped answering (restarted?) and container {name} ended with it; "
        "devbox starts it again when the engine is back (Ctrl-C stops)",
        f"the engine is back: container {name} running again",
    ]
    run.stop()


def test_restart_on_exit_starts_it_again_and_backs_off(tmp_path: Path, engine: FakeEngine) -> None:
    fallback = dev_service(tmp_path, engine)
    run = keeper(fallback)
    run.restart_on_exit = True
    exiting(engine, 3)
    run.start()
    assert run.child is not None
    run.child.wait()
    run.check_exit()  # the first quick exit: at once
    assert engine.actions().count("run") == 2
    assert run.child is not None
    run.child.wait()
    run.check_exit()  # the second in a row: in 2 s, not now
    assert engine.actions().count("run") == 2
    messages = fallback.echo.messages  # type: ignore[attr-defined]
    assert messages[-1].endswith("exited with code 3; starting it again in 2 s")
    run.stop()


def test_a_container_created_after_an_interrupted_start_is_removed(
    tmp_path: Path, engine: FakeEngine
) -> None:
    """The engine may create the container after its `docker run` client was stopped."""
    from devbox.engine.answers import ContainerInfo

    fallback = dev_service(tmp_path, engine)
    run = keeper(fallback)
    run.starting = True  # stopped between `docker run` and the container running
    late = ContainerInfo("late", "app", "created", False, None, (), "img")
    engine.listed = [late]
    run.stop()
    assert ("remove", "late") in engine.calls
    assert not run.starting


def test_copy_mode_mounts_the_projects_uv_cache_once(tmp_path: Path, engine: FakeEngine) -> None:
    fallback = dev_service(tmp_path, engine)
    run = keeper(fallback)
    assert fallback.spec.user is None and run.uv_user == "0"
    assert fallback.spec.cache_volume == f"{fallback.project.name}_uv-cache"
    try:
        run.start()
        run.start()
    finally:
        run.stop()
    assert engine.volumes == [f"{fallback.project.name}_uv-cache"]


def test_a_command_line_app_that_ran_at_once_is_an_exit_not_a_failed_start(
    tmp_path: Path, engine: FakeEngine
) -> None:
    """`docker run` ended before the container was seen running: with the app's own code it
    ran (a CLI printing one line), said by check_exit; docker's own codes are a failed start."""
    fallback = dev_service(tmp_path, engine, SyncMode.BIND)
    run = keeper(fallback)
    engine.is_running = False
    exiting(engine, 0)
    run.start()
    assert run.child is not None
    run.child.wait()
    run.check_exit()
    assert fallback.echo.messages[-1].startswith(  # type: ignore[attr-defined]
        f"container {fallback.spec.name} exited with code 0; the next change starts it again"
    )
    exiting(engine, 125)
    with pytest.raises(StartError, match=r"did not start \(exit code 125\)"):
        run.start()
    run.stop()
