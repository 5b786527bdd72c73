"""`devbox up` in watch mode on Compose 2.40.3, against a real engine."""

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from devbox.commands.init import init_project
from tests.conftest import free_port
from tests.support import (
    dangling_volumes,
    docker_lines,
    http_json,
    interrupt,
    project_leftovers,
    start_devbox,
    wait_for,
)

pytestmark = pytest.mark.docker


def test_up_syncs_an_edit_and_ctrl_c_leaves_nothing(
    initialized_sample: tuple[Path, int], compose_2_40: str, tmp_path: Path
) -> None:
    project, port = initialized_sample
    volumes_before = dangling_volumes()
    log_path = tmp_path / "up.log"
    with log_path.open("wb") as log:
        devbox = start_devbox(["up", "--mode", "watch", "--project-dir", str(project)], log=log)
        try:
            first = wait_for(lambda: http_json(port, "/"), timeout=180, what="the app to answer")
            assert first == {"message": "hello from sample-app"}

            app_py = project / "src" / "sample_app" / "app.py"
            app_py.write_text(app_py.read_text().replace("hello from", "edited in"))
            wait_for(
                lambda: http_json(port, "/") == {"message": "edited in sample-app"},
                timeout=30,
                what="the edit to be served",
            )
        finally:
            code = interrupt(devbox)
    output = log_path.read_text()
    assert "watch mode: asked for with --mode watch (Compose 2.40.3)" in output
    assert "Listening on http://0.0.0.0:8000/" in output  # the app's own output is shown
    assert code == 130, output
    assert project_leftovers(project.name) == {"containers": [], "networks": []}
    # no orphaned Compose plugin (the docker CLI runs it as a child) keeps watching
    assert (
        subprocess.run(
            ["pgrep", "-f", "--", f"--project-name {project.name} "], check=False
        ).returncode
        == 1
    )
    assert dangling_volumes() <= volumes_before


def served(port: int, message: str) -> bool:
    return http_json(port, "/") == {"message": message}


def test_a_value_only_in_compose_override_reaches_the_container(
    initialized_sample: tuple[Path, int], compose_2_40: str, tmp_path: Path
) -> None:
    project, port = initialized_sample
    (project / "compose.override.yaml").write_text(
        "services:\n  sample-app:\n    environment:\n      FROM_OVERRIDE: only-here\n"
    )
    log_path = tmp_path / "up.log"
    with log_path.open("wb") as log:
        devbox = start_devbox(["up", "--project-dir", str(project)], log=log)
        try:
            wait_for(lambda: http_json(port, "/health"), timeout=180, what="the app to answer")
            label = f"label=com.docker.compose.project={project.name}"
            (container,) = docker_lines("ps", "-q", "--filter", label)
            value = docker_lines("exec", container, "printenv", "FROM_OVERRIDE")
            assert value == ["only-here"], log_path.read_text()
        finally:
            code = interrupt(devbox)
    assert code == 130, log_path.read_text()


@pytest.fixture
def removed_after(sample_copy: Path) -> Iterator[Path]:
    """sample_copy; its Compose project's containers are removed after the test."""
    yield sample_copy
    label = f"label=com.docker.compose.project={sample_copy.name}"
    ids = docker_lines("ps", "-aq", "--filter", label)
    if ids:
        subprocess.run(["docker", "rm", "-fv", *ids], capture_output=True, check=False)


def test_existing_build_without_target_serves_edits(
    removed_after: Path, compose_2_40: str, tmp_path: Path
) -> None:
    project, port = removed_after, free_port()
    (project / "compose.yaml").write_text(
        f'services:\n  web:  # ours\n    build: .\n    ports:\n      - "127.0.0.1:{port}:8000"\n'
    )
    report = init_project(project_dir=project)
    assert report.problems == []
    assert "target: dev" in (project / "compose.yaml").read_text()
    log_path = tmp_path / "up.log"
    with log_path.open("wb") as log:
        devbox = start_devbox(["up", "--project-dir", str(project)], log=log)
        try:
            wait_for(lambda: served(port, "hello from sample-app"), timeout=180, what="the app")
            app_py = project / "src" / "sample_app" / "app.py"
            app_py.write_text(app_py.read_text().replace("hello from", "edited in"))
            wait_for(
                lambda: served(port, "edited in sample-app"), timeout=30, what="the edit served"
            )
        finally:
            code = interrupt(devbox)
    assert code == 130, log_path.read_text()
