"""The Docker daemon restarted in the middle of a `devbox up` session, against a private
dockerd of this test's own (tests/private_engine.py): the shared engines must never stop
under other tests.

Chosen behaviour, fallback and compose mode (copy sync): devbox says the engine stopped answering and
keeps watching; once the engine answers again it starts the dev container again by itself
(a daemon restart is not the app exiting, so no change is needed) and copies every synced
source in again, the edits saved while the engine was down included. Watch mode: Compose
watch ends with the engine; devbox says so and runs it again once the engine is back
(Compose rebuilds, starts and syncs). Ctrl-C then leaves nothing.
"""

import os
import signal
from pathlib import Path

import pytest

from tests.private_engine import private_engine
from tests.support import (
    devbox_traceback,
    http_json,
    processes_naming,
    signal_group,
    start_devbox_group,
    wait_for,
)

pytestmark = [
    pytest.mark.docker,
    pytest.mark.skipif(os.geteuid() != 0, reason="a private dockerd needs root"),
]


@pytest.mark.parametrize("setup", ["compose_2_21", "compose_2_40"], ids=["fallback", "compose"])
def test_a_daemon_restart_is_said_and_the_session_recovers(
    initialized_sample: tuple[Path, int],
    setup: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    request.getfixturevalue(setup)
    project, port = initialized_sample
    compose = setup == "compose_2_40"
    name = f"{project.name}-sample-app-1" if compose else f"devbox-{project.name}-sample-app"
    app_py = project / "src" / "sample_app" / "app.py"
    log_path = tmp_path / "up.log"

    def log() -> str:
        return log_path.read_text(errors="replace")

    def served(message: str) -> bool:
        return http_json(port, "/") == {"message": f"{message} sample-app"}

    with private_engine(tmp_path / "engine") as engine:
        monkeypatch.setenv("DOCKER_HOST", engine.host)
        with log_path.open("wb") as out:
            up = start_devbox_group(
                ["up", "--sync", "copy", "--project-dir", str(project)], log=out
            )
            try:
                wait_for(lambda: served("hello from"), timeout=240, what="the app")
                engine.stop()
                lost = (
                    f"devbox: the engine stopped answering (restarted?) and container {name} "
                    "ended with it; devbox starts it again when the engine is back (Ctrl-C stops)"
                )
                wait_for(lambda: lost in log(), timeout=20, what="the report")
                app_py.write_text(app_py.read_text().replace("hello from", "saved while down in"))
                engine.start()
                back = f"devbox: the engine is back: container {name} running again"
                wait_for(lambda: back in log(), timeout=60, what="the recovery")
                wait_for(
                    lambda: served("saved while down in"),
                    timeout=60,
                    what="the edit made meanwhile",
                )
                app_py.write_text(app_py.read_text().replace("saved while down in", "after"))
                wait_for(lambda: served("after"), timeout=30, what="an edit after the recovery")
            finally:
                code = signal_group(up, signal.SIGINT)
        output = log()
        assert code == 130, output
        assert not devbox_traceback(output), output
        assert output.count(lost) == 1 and output.count(back) == 1, output
        label = f"label=dev.devbox.project={project.name}"
        assert engine.docker("ps", "-aq", "--filter", label).stdout.split() == []
        compose_label = f"label=com.docker.compose.project={project.name}"
        assert engine.docker("ps", "-aq", "--filter", compose_label).stdout.split() == []
        assert engine.docker("network", "ls", "-q", "--filter", compose_label).stdout.split() == []
        dangling = engine.docker("volume", "ls", "-q", "--filter", "dangling=true").stdout.split()
        assert [v for v in dangling if not v.endswith(b"_uv-cache")] == []  # uv's cache stays
        assert processes_naming(project.name) == []


def test_watch_mode_runs_compose_watch_again_after_a_daemon_restart(
    initialized_sample: tuple[Path, int],
    compose_2_40: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project, port = initialized_sample
    app_py = project / "src" / "sample_app" / "app.py"
    log_path = tmp_path / "up.log"

    def log() -> str:
        return log_path.read_text(errors="replace")

    def served(message: str) -> bool:
        return http_json(port, "/") == {"message": f"{message} sample-app"}

    with private_engine(tmp_path / "engine") as engine:
        monkeypatch.setenv("DOCKER_HOST", engine.host)
        with log_path.open("wb") as out:
            up = start_devbox_group(
                ["up", "--mode", "watch", "--project-dir", str(project)], log=out
            )
            try:
                wait_for(lambda: served("hello from"), timeout=240, what="the app")
                engine.stop()
                lost = (
                    "devbox: the engine stopped answering (restarted?) and docker compose watch "
                    "ended with it; devbox runs it again when the engine is back (Ctrl-C stops)"
                )
                wait_for(lambda: lost in log(), timeout=60, what="the report")
                engine.start()
                back = "devbox: the engine is back: running docker compose watch again"
                wait_for(lambda: back in log(), timeout=60, what="the recovery")
                wait_for(lambda: served("hello from"), timeout=120, what="the app again")
                app_py.write_text(app_py.read_text().replace("hello from", "after"))
                wait_for(lambda: served("after"), timeout=60, what="an edit after the recovery")
            finally:
                code = signal_group(up, signal.SIGINT)
        output = log()
        assert code == 130, output
        assert not devbox_traceback(output), output
        assert output.count(lost) == 1 and output.count(back) == 1, output
        compose_label = f"label=com.docker.compose.project={project.name}"
        assert engine.docker("ps", "-aq", "--filter", compose_label).stdout.split() == []
        assert processes_naming(project.name) == []
