"""Faults during `devbox up`, against the real engine: a container killed from outside, a
second `up`, Ctrl-C and SIGTERM in each phase, the host's `.venv`, named volumes and
`down`. (A build failing after a dependency edit is in test_up_fallback_docker.py's scenario.)

Elsewhere: the engine restarted mid-session (test_up_engine_restart_docker.py, on a
private dockerd: the shared engine never stops), SIGTERM while starting and rebuilding in
copy sync (test_up_signal_phases_docker.py), full and read-only disks
(test_up_disk_faults_docker.py).
"""

import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support import (
    container_volumes,
    docker_lines,
    http_json,
    processes_naming,
    signal_group,
    start_devbox_group,
    tree_digest,
    volume_exists,
    wait_for,
)

pytestmark = pytest.mark.docker


def fallback_name(project: Path) -> str:
    return f"devbox-{project.name}-sample-app"


@pytest.fixture(params=["fallback", "compose"])
def dev_name(request: pytest.FixtureRequest) -> Callable[[Path], str]:
    """Plain `up` in the fallback (Compose 2.21) and in compose mode (Compose 2.40): the
    dev container's name for a project."""
    if request.param == "fallback":
        request.getfixturevalue("compose_2_21")
        return fallback_name
    request.getfixturevalue("compose_2_40")
    return lambda project: f"{project.name}-sample-app-1"


def plant_venv(project: Path) -> dict[str, str]:
    """A host `.venv` the container must never touch; its digest."""
    venv = project / ".venv"
    (venv / "lib" / "site-packages").mkdir(parents=True)
    (venv / "lib" / "site-packages" / "host_only.py").write_bytes(b"HOST = True\n\x00\xff")
    (venv / "bin").mkdir()
    (venv / "bin" / "python").symlink_to("/usr/bin/python3")
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    return tree_digest(venv)


def devbox(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "devbox", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def log_has(log_path: Path, text: str) -> bool:
    return text in log_path.read_text(errors="replace")


def build_starts(log_path: Path) -> list[str]:
    """The lines saying a build began (not the ones saying it ended)."""
    lines = log_path.read_text(errors="replace").splitlines()
    return [line for line in lines if line.startswith("devbox: building ") and line.endswith("...")]


def assert_nothing_left(project: Path, volumes: list[str]) -> None:
    label = f"label=dev.devbox.project={project.name}"
    assert docker_lines("ps", "-aq", "--filter", label) == []
    compose_label = f"label=com.docker.compose.project={project.name}"
    assert docker_lines("ps", "-aq", "--filter", compose_label) == []
    assert docker_lines("network", "ls", "-q", "--filter", compose_label) == []
    # uv's cache volume outlives sessions on purpose (`down --volumes` removes it)
    assert [v for v in volumes if volume_exists(v) and not v.endswith("_uv-cache")] == []
    assert processes_naming(project.name) == []


def test_killed_container_is_reported_and_the_next_change_starts_it(
    initialized_sample: tuple[Path, int], dev_name: Callable[[Path], str], tmp_path: Path
) -> None:
    """Bind sync. Also: a second `up` is refused while this one runs, and the host's
    `.venv` is left byte for byte as it was."""
    project, port = initialized_sample
    venv_before = plant_venv(project)
    name = dev_name(project)
    app_py = project / "src" / "sample_app" / "app.py"
    log_path = tmp_path / "up.log"
    with log_path.open("wb") as log:
        up = start_devbox_group(["up", "--project-dir", str(project)], log=log)
        try:
            wait_for(lambda: http_json(port, "/"), timeout=180, what="the app")

            second = devbox("up", "--project-dir", str(project))
            assert second.returncode == 2, second.stderr
            assert second.stderr == (
                f"devbox: devbox up is already running for {project} (pid {up.pid}); "
                "`devbox down` stops it\n"
            )

            subprocess.run(["docker", "kill", name], capture_output=True, check=True)
            report = f"container {name} exited with code 137; the next change starts it again"
            wait_for(lambda: log_has(log_path, report), timeout=10, what="the exit report")
            assert http_json(port, "/") is None

            app_py.write_text(app_py.read_text().replace("hello from", "back in"))
            wait_for(
                lambda: http_json(port, "/") == {"message": "back in sample-app"},
                timeout=60,
                what="the app after the next change",
            )
            volumes = container_volumes(name)
        finally:
            code = signal_group(up, signal.SIGINT)
    assert code == 130, log_path.read_text()
    assert_nothing_left(project, volumes)
    assert tree_digest(project / ".venv") == venv_before


def test_restart_on_exit_starts_a_killed_container_at_once(
    initialized_sample: tuple[Path, int], dev_name: Callable[[Path], str], tmp_path: Path
) -> None:
    """Copy sync: the restarted container gets the edits synced since the build, and the
    host's `.venv` is never written."""
    project, port = initialized_sample
    venv_before = plant_venv(project)
    name = dev_name(project)
    app_py = project / "src" / "sample_app" / "app.py"
    log_path = tmp_path / "up.log"
    args = ["up", "--project-dir", str(project), "--sync", "copy", "--restart-on-exit"]
    with log_path.open("wb") as log:
        up = start_devbox_group(args, log=log)
        try:
            wait_for(lambda: http_json(port, "/"), timeout=180, what="the app")
            app_py.write_text(app_py.read_text().replace("hello from", "copied into"))
            wait_for(
                lambda: http_json(port, "/") == {"message": "copied into sample-app"},
                timeout=60,
                what="the synced edit",
            )
            subprocess.run(["docker", "kill", name], capture_output=True, check=True)
            wait_for(
                lambda: log_has(log_path, f"container {name} running again"),
                timeout=30,
                what="the restart",
            )
            assert log_has(log_path, f"container {name} exited with code 137; starting it again")
            # no change made: the app answers again, with the edit synced before the kill
            wait_for(
                lambda: http_json(port, "/") == {"message": "copied into sample-app"},
                timeout=60,
                what="the restarted app",
            )
            volumes = container_volumes(name)
        finally:
            code = signal_group(up, signal.SIGTERM)
    assert code == 130, log_path.read_text()
    assert_nothing_left(project, volumes)
    assert tree_digest(project / ".venv") == venv_before


# (phase, signal): every phase with Ctrl-C, the first and the longest with SIGTERM too.
PHASES = [
    ("building", signal.SIGINT),
    ("starting", signal.SIGINT),
    ("watching", signal.SIGINT),
    ("rebuilding", signal.SIGINT),
    ("building", signal.SIGTERM),
    ("watching", signal.SIGTERM),
]


@pytest.mark.parametrize(
    ("phase", "sig"), PHASES, ids=[f"{p}-{signal.Signals(s).name}" for p, s in PHASES]
)
def test_a_signal_in_each_phase_leaves_nothing(
    initialized_sample: tuple[Path, int],
    dev_name: Callable[[Path], str],
    tmp_path: Path,
    phase: str,
    sig: int,
) -> None:
    project, _ = initialized_sample
    name = dev_name(project)
    log_path = tmp_path / "up.log"
    volumes: list[str] = []
    with log_path.open("wb") as log:
        up = start_devbox_group(["up", "--project-dir", str(project)], log=log)
        try:
            if phase == "building":
                wait_for(lambda: build_starts(log_path), timeout=60, what="the build")
            elif phase == "starting":
                wait_for(lambda: log_has(log_path, ": done in"), timeout=180, what="the build")
            else:
                wait_for(lambda: log_has(log_path, "watching "), timeout=180, what="the watch")
                volumes = container_volumes(name)
            if phase == "rebuilding":
                # a lock uv cannot sync: the in-container sync fails and devbox rebuilds
                lock = project / "uv.lock"
                lock.write_text(lock.read_text() + "\nnot [toml\n")
                wait_for(
                    lambda: len(build_starts(log_path)) >= 2,
                    timeout=30,
                    what="the rebuild",
                )
            volumes += container_volumes(name)
        finally:
            code = signal_group(up, sig)
    assert code == 130, log_path.read_text()
    assert_nothing_left(project, volumes)


def test_sigterm_in_watch_mode_leaves_nothing(
    initialized_sample: tuple[Path, int], compose_2_40: str, tmp_path: Path
) -> None:
    project, port = initialized_sample
    log_path = tmp_path / "up.log"
    with log_path.open("wb") as log:
        up = start_devbox_group(["up", "--mode", "watch", "--project-dir", str(project)], log=log)
        try:
            wait_for(lambda: http_json(port, "/"), timeout=180, what="the app")
            compose_label = f"label=com.docker.compose.project={project.name}"
            containers = docker_lines("ps", "-q", "--filter", compose_label)
            volumes = [v for c in containers for v in container_volumes(c)]
        finally:
            code = signal_group(up, signal.SIGTERM)
    assert code == 130, log_path.read_text()
    assert_nothing_left(project, volumes)


def test_down_keeps_named_volumes_unless_asked(
    initialized_sample: tuple[Path, int], compose_2_40: str
) -> None:
    project, _ = initialized_sample
    compose = project / "compose.yaml"
    text = compose.read_text().replace(
        "      - uv-cache:/opt/uv-cache\n", "      - uv-cache:/opt/uv-cache\n      - data:/data\n"
    )
    compose.write_text(text.rstrip("\n") + "\n  data: {}\n")
    volume = f"{project.name}_data"
    try:
        started = devbox("up", "--detach", "--project-dir", str(project))
        assert started.returncode == 0, started.stderr
        assert volume_exists(volume)
        stopped = devbox("down", "--project-dir", str(project))
        assert stopped.returncode == 0, stopped.stderr
        label = f"label=com.docker.compose.project={project.name}"
        assert docker_lines("ps", "-aq", "--filter", label) == []
        assert volume_exists(volume)
        removed = devbox("down", "--volumes", "--project-dir", str(project))
        assert removed.returncode == 0, removed.stderr
        assert "2 volume(s)" in removed.stderr  # data and uv's cache
        assert not volume_exists(volume)
    finally:
        devbox("down", "--project-dir", str(project))
        subprocess.run(["docker", "volume", "rm", volume], capture_output=True, check=False)
