"""A whole Compose project (tests/multiservice): an app and a worker developed, a database
stand-in that turns healthy after a delay, a named volume, env_file, .env, an override
file, a profile service, a one-shot migration waited for. One scenario per Compose: 2.21.0
and v1 through the fallback, 2.40.3 in compose mode (the default) and in watch mode."""

import json
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.support import docker_lines, interrupt, start_devbox, wait_for

pytestmark = pytest.mark.docker

PROJECT = Path(__file__).resolve().parent.parent / "multiservice"


def http(port: int) -> dict[str, object] | None:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
            body: dict[str, object] = json.loads(response.read())
            return body
    except (OSError, ValueError):
        return None


@pytest.fixture
def multiservice(tmp_path: Path) -> tuple[Path, int, int]:
    target = tmp_path / f"multi-{uuid.uuid4().hex[:8]}"
    shutil.copytree(PROJECT, target)
    app_port, worker_port = free_port(), free_port()
    (target / ".env").write_text(f"APP_PORT={app_port}\nMODE=from-dotenv\n")
    # WORKER_PORT comes from the environment devbox runs in (as with Compose).
    return target, app_port, worker_port


def leftovers(project: str) -> dict[str, list[str]]:
    found = {}
    for kind in ("container", "network", "volume"):
        listed = "ps" if kind == "container" else kind
        args = [listed, "-aq"] if kind == "container" else [listed, "ls", "-q"]
        found[kind] = docker_lines(*args, "--filter", f"label=com.docker.compose.project={project}")
        found[kind] += docker_lines(*args, "--filter", f"label=dev.devbox.project={project}")
    return found


def remove_all(project: str) -> None:
    left = leftovers(project)
    if left["container"]:
        subprocess.run(
            ["docker", "rm", "-fv", *left["container"]], capture_output=True, check=False
        )
    for kind in ("network", "volume"):
        if left[kind]:
            subprocess.run(["docker", kind, "rm", *left[kind]], capture_output=True, check=False)


def scenario(project: Path, app_port: int, worker_port: int, log_path: Path, *extra: str) -> None:
    name = project.name
    env_before = dict(__import__("os").environ)
    __import__("os").environ["WORKER_PORT"] = str(worker_port)
    try:
        with log_path.open("wb") as log:
            devbox = start_devbox(["up", "--project-dir", str(project), *extra], log=log)
            try:
                body: dict[str, object] = wait_for(
                    lambda: (
                        http(app_port) or ({"exited": True} if devbox.poll() is not None else None)
                    ),
                    timeout=150,
                    what="the app",
                )
                assert "exited" not in body, log_path.read_text()
                # the database was healthy before the app started, and reachable by its name
                assert body["db_at_start"] == {"ready": True, "starts": 1}, log_path.read_text()
                assert body["env"] == {
                    "GREETING": "hello from env_file",
                    "MODE": "from-dotenv",
                    "FROM_OVERRIDE": "yes",
                    "BUILT_WITH": "build-arg",
                }
                assert body["message"] == "app v1"
                # the start-up line names what the mode leaves out (engine/applied.py)
                unapplied = "not applied in fallback with a Compose: services.worker.labels"
                fallback = "--mode" not in extra
                assert (unapplied in log_path.read_text()) is fallback, log_path.read_text()
                # the worker started once the one-shot migration had completed
                assert wait_for(lambda: http(worker_port), timeout=60, what="the worker") == {
                    "message": "worker v1",
                    "migrated": True,
                }
                # edits in either developed service reach its container
                (project / "app" / "message.txt").write_text("app v2\n")
                (project / "worker" / "message.txt").write_text("worker v2\n")
                wait_for(
                    lambda: (http(app_port) or {}).get("message") == "app v2",
                    timeout=30,
                    what="the app's edit",
                )
                wait_for(
                    lambda: (http(worker_port) or {}).get("message") == "worker v2",
                    timeout=30,
                    what="the worker's edit",
                )
                # the profile service did not start
                debug = docker_lines(
                    "ps", "-aq", "--filter", f"label=com.docker.compose.project={name}",
                    "--filter", "label=com.docker.compose.service=debug",
                )  # fmt: skip
                assert debug == []
            finally:
                code = interrupt(devbox, timeout=120)
        assert code == 130, log_path.read_text()
        # only the named volume is left, with its data
        left = leftovers(name)
        assert left["container"] == [] and left["network"] == [], log_path.read_text()
        volumes = docker_lines(
            "volume", "ls", "-q", "--filter", f"label=com.docker.compose.project={name}"
        )
        assert [v for v in volumes if not v.endswith("_uv-cache")] == [f"{name}_dbdata"]
        starts = subprocess.run(
            ["docker", "run", "--rm", "--pull", "never", "-v", f"{name}_dbdata:/data",
             "python:3.13-slim-trixie", "cat", "/data/starts"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        assert starts == "1"
    finally:
        __import__("os").environ.clear()
        __import__("os").environ.update(env_before)
        remove_all(name)


def test_whole_project_under_compose_2_21(
    compose_2_21: str, multiservice: tuple[Path, int, int], tmp_path: Path
) -> None:
    scenario(*multiservice, tmp_path / "up.log")


def test_whole_project_under_compose_v1(
    no_compose_plugin: str, multiservice: tuple[Path, int, int], tmp_path: Path
) -> None:
    assert shutil.which("docker-compose"), "Compose v1 is not on PATH"
    scenario(*multiservice, tmp_path / "up.log")


@pytest.mark.parametrize("mode", ["compose", "watch"])
def test_whole_project_under_compose_2_40(
    compose_2_40: str, multiservice: tuple[Path, int, int], tmp_path: Path, mode: str
) -> None:
    scenario(*multiservice, tmp_path / "up.log", "--mode", mode)


del sys
