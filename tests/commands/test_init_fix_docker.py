"""`devbox init --fix` against a real engine (issue #22 item 9): a kept compose file whose
service builds `prod` is fixed in place, and `devbox up` then serves the `dev` target, an
edit included."""

import json
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.support import docker_lines, http_json, run_devbox, wait_for

pytestmark = pytest.mark.docker


devbox = run_devbox


def container_cmd(project: Path) -> list[str]:
    label = f"label=com.docker.compose.project={project.name}"
    [first, *_] = docker_lines("ps", "-q", "--filter", label)
    [cmd] = docker_lines("inspect", "--format", "{{json .Config.Cmd}}", first)
    found: list[str] = json.loads(cmd)
    return found


def test_after_init_fix_up_serves_the_dev_target(sample_copy: Path, compose_2_40: str) -> None:
    assert devbox(sample_copy, "init").returncode == 0
    compose = sample_copy / "compose.yaml"
    port = free_port()
    text = compose.read_text().replace("127.0.0.1:8000:8000", f"127.0.0.1:{port}:8000")
    kept = text.replace("      target: dev\n", "      target: prod  # ours, by mistake\n")
    compose.write_text(kept)
    init = devbox(sample_copy, "init")
    assert init.returncode != 0
    assert "builds the `prod` stage" in init.stderr and "`devbox init --fix`" in init.stderr

    fixed = devbox(sample_copy, "init", "--fix")
    assert fixed.returncode == 0, fixed.stderr
    assert fixed.stdout.startswith("compose.yaml: services.sample-app.build.target is now `dev`")
    assert compose.read_text() == kept.replace("target: prod  #", "target: dev  #")

    started = devbox(sample_copy, "up", "--detach")
    try:
        assert started.returncode == 0, started.stderr
        wait_for(
            lambda: http_json(port, "/") == {"message": "hello from sample-app"},
            timeout=180,
            what="the app",
        )
        assert container_cmd(sample_copy) == ["sample-app", "--reload"]  # the dev stage's CMD
        app_py = sample_copy / "src" / "sample_app" / "app.py"
        app_py.write_text(app_py.read_text().replace("hello from", "fixed in"))
        wait_for(
            lambda: http_json(port, "/") == {"message": "fixed in sample-app"},
            timeout=30,
            what="the edit to be served",
        )
    finally:
        assert devbox(sample_copy, "down").returncode == 0
