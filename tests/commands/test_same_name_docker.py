"""Two project folders of one name (`a/proj`, `b/proj`), and a project copied with `cp -a`:
neither acts on the other's session, against a real engine (issue #23, items 2 and 5)."""

import json
import shutil
import subprocess
import uuid
from functools import partial
from pathlib import Path

import pytest

from devbox.commands.init import init_project
from devbox.runtime import process
from tests.conftest import SAMPLE, free_port, remove_project_volumes
from tests.support import NOT_OF_SAMPLE, docker_lines, run_devbox

pytestmark = pytest.mark.docker


devbox = partial(run_devbox, timeout=300)


def sample_at(folder: Path) -> Path:
    shutil.copytree(SAMPLE, folder, ignore=NOT_OF_SAMPLE)
    init_project(project_dir=folder)
    compose = folder / "compose.yaml"
    port = free_port()
    compose.write_text(compose.read_text().replace("127.0.0.1:8000:8000", f"127.0.0.1:{port}:8000"))
    return folder


def running(name: str) -> set[str]:
    found = set()
    for key in ("dev.devbox.project", "com.docker.compose.project"):
        found |= set(docker_lines("ps", "-q", "--filter", f"label={key}={name}"))
    return found


@pytest.fixture(params=["compose", "fallback"])
def mode(request: pytest.FixtureRequest) -> str:
    request.getfixturevalue("compose_2_40" if request.param == "compose" else "compose_2_21")
    return str(request.param)


def test_a_second_folder_of_the_same_name_is_refused_and_a_copy_is_not_the_session(
    tmp_path: Path, mode: str
) -> None:
    name = f"proj-{uuid.uuid4().hex[:8]}"
    first = sample_at(tmp_path / "a" / name)
    second = sample_at(tmp_path / "b" / name)
    started = devbox(first, "up", "--detach")
    assert started.returncode == 0, started.stderr
    try:
        record = json.loads((first / ".devbox" / "state.json").read_text())
        assert len(running(name)) == 1
        container = f"{name}-sample-app-1" if mode == "compose" else f"devbox-{name}-sample-app"
        clash = (
            f"devbox: {second}/compose.yaml: name: the Compose project name {name!r} is "
            f"already used by {first} (container {container}); give this project "
            "its own: set `name:` at the top of compose.yaml (or COMPOSE_PROJECT_NAME), or run "
            f"`devbox down` in {first}"
        )
        refused = devbox(second, "up", "--detach")
        assert refused.returncode == 3  # said by the background child, its last line here
        assert refused.stderr.splitlines()[-1] == clash
        assert devbox(second, "down").stderr.strip() == clash
        report = json.loads(devbox(second, "status", "--json").stdout)
        assert report["containers"] == [] and report["session"] is None
        assert len(running(name)) == 1 and process.same_process(record["pid"], record["pid_start"])

        # `cp -a` copies .devbox/state.json: in the copy it is nobody's session.
        copy = tmp_path / f"copy-{name}"
        subprocess.run(["cp", "-a", str(first), str(copy)], check=True)
        stopped = devbox(copy, "down")
        assert (stopped.returncode, stopped.stderr.strip()) == (0, "devbox: nothing was running")
        shell = devbox(copy, "shell", "--", "true")
        assert shell.returncode == 9, shell.stderr
        assert len(running(name)) == 1 and process.same_process(record["pid"], record["pid_start"])
    finally:
        devbox(first, "down")
        remove_project_volumes(name)
        remove_project_volumes(f"copy-{name}")
    assert running(name) == set()
