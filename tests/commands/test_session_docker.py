"""`up --detach`, `shell`, `status`, `logs`, `down` against a real engine, in every mode."""

import json
import os
import pty
import select
import signal
import subprocess
import sys
import threading
import time
from functools import partial
from pathlib import Path

import pytest

from devbox.commands.shell import shell as run_shell
from devbox.commands.shell_direct import recorded_exec
from devbox.runtime import process, state
from tests.support import dangling_volumes, docker_lines, http_json, run_devbox, wait_for

pytestmark = pytest.mark.docker


def pid_alive(pid: int) -> bool:
    return process.identity(pid) is not None


devbox = partial(run_devbox, timeout=300)


def in_a_terminal(argv: list[str], keys: bytes, timeout: float = 30) -> tuple[int, str]:
    """Run argv on a pseudo-terminal, type `keys`, return its exit code and what it showed."""
    master, slave = pty.openpty()
    child = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    os.write(master, keys)
    shown = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break  # the terminal closed: the command is done
            if not chunk:
                break
            shown += chunk
        elif child.poll() is not None:
            break
    os.close(master)
    return child.wait(timeout=10), shown.decode(errors="replace")


def leftovers(project: str) -> list[str]:
    found = []
    for label in (f"com.docker.compose.project={project}", f"dev.devbox.project={project}"):
        found += docker_lines("ps", "-aq", "--filter", f"label={label}")
        found += docker_lines("network", "ls", "-q", "--filter", f"label={label}")
    return found


@pytest.fixture(params=["compose", "watch", "fallback"])
def mode(request: pytest.FixtureRequest) -> str:
    """compose: plain `up` under Compose 2.40; watch: `--mode watch`; fallback: plain `up`
    under Compose 2.21."""
    fixture = "compose_2_21" if request.param == "fallback" else "compose_2_40"
    request.getfixturevalue(fixture)
    return str(request.param)


def served_while_busy(project: Path, port: int) -> None:
    """A source edit is served while requests keep coming (each one a line of the session's
    output): a log inside the tree restarted Compose watch's 500 ms quiet period at every
    request, and nothing synced until the requests stopped."""
    busy = threading.Event()

    def requests() -> None:
        while not busy.is_set():
            http_json(port, "/health")
            time.sleep(0.05)

    poller = threading.Thread(target=requests, daemon=True)
    poller.start()
    try:
        time.sleep(1)
        app_py = project / "src" / "sample_app" / "app.py"
        app_py.write_text(app_py.read_text().replace("hello from", "busy in"))
        wait_for(
            lambda: http_json(port, "/") == {"message": "busy in sample-app"},
            timeout=30,
            what="the edit to be served while the app answers requests",
        )
    finally:
        busy.set()
        poller.join()


def test_detached_session(initialized_sample: tuple[Path, int], mode: str) -> None:
    project, port = initialized_sample
    volumes_before = dangling_volumes()
    started = devbox(project, "up", "--detach", *(["--mode", "watch"] if mode == "watch" else []))
    assert started.returncode == 0, started.stderr
    try:
        record = json.loads((project / ".devbox" / "state.json").read_text())
        assert record["mode"] == mode and record["detached"] is True
        # shell execs the recorded container straight away (commands/shell_direct.py)
        direct = recorded_exec(
            project_dir=project, service=None, command=["true"], user=None, env=None
        )
        assert direct is not None and direct[-2:] == [record["container"], "true"]

        ok = devbox(project, "shell", "--", "python", "-c", "import sys; print(sys.prefix, 40 + 2)")
        assert (ok.returncode, ok.stdout) == (0, "/app/.venv 42\n"), ok.stderr
        assert devbox(project, "shell", "--", "python", "-c", "raise SystemExit(7)").returncode == 7
        # `shell SERVICE -- CMD`: the `--` separates, it is not run (it was: exit 126)
        named = devbox(project, "shell", "sample-app", "--", "python", "-c", "print(6 * 7)")
        assert (named.returncode, named.stdout) == (0, "42\n"), named.stderr
        assert devbox(project, "shell", "sample-app", "--", "sh", "-c", "exit 3").returncode == 3
        # ... on the full path as well (the one taken when the record cannot serve)
        assert run_shell(project_dir=project, service="sample-app", command=["--", "true"]) == 0
        piped = devbox(project, "shell", "--", "python", stdin="print(6 * 7)\n")
        assert (piped.returncode, piped.stdout) == (0, "42\n")

        code, shown = in_a_terminal(
            [sys.executable, "-m", "devbox", "shell", "--project-dir", str(project)],
            b"echo pty-$((20 + 22))\nexit 5\n",
        )
        assert code == 5, shown
        assert "pty-42" in shown

        report = json.loads(devbox(project, "status", "--json").stdout)
        assert report["session"]["mode"] == mode and report["session"]["alive"] is True
        running = [c for c in report["containers"] if c["status"] == "running"]
        assert [c["service"] for c in running] == ["sample-app"]
        assert report["rules"][0] == {"action": "sync", "path": ".", "target": "/app"}

        logged = devbox(project, "logs")  # the app writes to stderr, and so does `logs`
        assert "Listening on http://0.0.0.0:8000/" in logged.stderr
        output = Path(record["log"])  # the session's own output, outside the project
        assert not output.is_relative_to(project)
        assert f"output: {output}" in devbox(project, "status").stdout
        served_while_busy(project, port)
        assert "GET /health" in output.read_text()  # the requests were logged there
    finally:
        stopped = devbox(project, "down")
    assert stopped.returncode == 0, stopped.stderr
    assert not pid_alive(record["pid"])
    assert leftovers(project.name) == []
    assert dangling_volumes() <= volumes_before
    assert not (project / ".devbox" / "state.json").exists()


@pytest.mark.parametrize("setup", ["compose_2_40", "compose_2_21"])  # compose, fallback
def test_killed_watcher_is_reported(
    initialized_sample: tuple[Path, int], setup: str, request: pytest.FixtureRequest
) -> None:
    """A devbox killed with SIGKILL cannot clean up: status says so, down finishes the job."""
    request.getfixturevalue(setup)
    project, _ = initialized_sample
    assert devbox(project, "up", "--detach").returncode == 0
    try:
        pid = json.loads((project / ".devbox" / "state.json").read_text())["pid"]
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        report = devbox(project, "status")
        assert "STALE: its devbox process is gone" in report.stdout
        assert json.loads(devbox(project, "status", "--json").stdout)["session"]["alive"] is False
        record = state.load(project)
        assert record is not None
        orphans = record.live_children()
        if setup == "compose_2_40":  # Compose's containers outlive it; devbox had no child
            assert orphans == {}
            assert leftovers(project.name) != []
        else:
            assert orphans  # the killed devbox's children live on in their own sessions
    finally:
        stopped = devbox(project, "down")
    assert stopped.returncode == 0, stopped.stderr
    if orphans:
        assert f"ended {len(orphans)} leftover process group(s)" in stopped.stderr
    assert not any(pid_alive(pid) for pid in orphans)
    assert leftovers(project.name) == []


def test_shell_with_nothing_running(
    initialized_sample: tuple[Path, int], compose_2_40: str
) -> None:
    project, _ = initialized_sample
    result = devbox(project, "shell", "--", "true")
    assert result.returncode == 9
    assert result.stderr == (
        f"devbox: no dev container is running for {project}; start it with `devbox up --detach`, "
        "or use `devbox shell --start` for a one-off container\n"
    )
