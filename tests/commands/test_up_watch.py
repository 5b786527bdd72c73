"""`devbox up` in watch mode on Compose 2.40.3, against a real engine."""

import subprocess
from pathlib import Path

import pytest

from tests.support import (
    dangling_volumes,
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
        devbox = start_devbox(["up", "--project-dir", str(project)], log=log)
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
    assert "watch mode: Compose 2.40.3" in output
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
