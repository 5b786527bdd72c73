"""A uv workspace member's folder finds the workspace root's project, against a real
engine (issue #23 item 11): `devbox up`, `status`, `init --check` and `down` run from
`packages/greeter` act on the root's compose.yaml, and an edit in the member is served."""

import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from devbox.commands.init import init_project
from tests.conftest import REPO, free_port, remove_project_volumes
from tests.support import http_json, wait_for

pytestmark = pytest.mark.docker


def devbox(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """devbox run in `cwd`, with no --project-dir: it finds the project itself."""
    return subprocess.run(
        [sys.executable, "-m", "devbox", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
        check=False,
    )


def test_commands_in_a_member_folder_act_on_the_workspace(
    tmp_path: Path, compose_2_40: str
) -> None:
    root = tmp_path / f"ws-{uuid.uuid4().hex[:8]}"
    shutil.copytree(REPO / "tests" / "corpus" / "workspace-member", root)
    init_project(project_dir=root)
    port = free_port()
    compose = root / "compose.yaml"
    compose.write_text(compose.read_text().replace("127.0.0.1:8000:8000", f"127.0.0.1:{port}:8000"))
    member = root / "packages" / "greeter"
    check = devbox(member, "init", "--check")
    assert "compose.yaml: services.ws-app" not in check.stdout  # the root's file, no drift in it
    assert not (member / "compose.yaml").exists()
    try:
        started = devbox(member, "up", "--detach")
        assert started.returncode == 0, started.stderr
        wait_for(
            lambda: http_json(port, "/health") == {"status": "ok"},
            timeout=240,
            what="the workspace's app",
        )
        status = devbox(member, "status")
        assert status.returncode == 0, status.stderr
        assert "ws-app" in status.stdout
        greeter = member / "src" / "greeter" / "__init__.py"
        greeter.write_text(greeter.read_text().replace('"ok"', '"edited in greeter"'))
        wait_for(
            lambda: subprocess.run(
                ["docker", "compose", "--project-directory", str(root), "exec", "ws-app",
                 "cat", "/app/packages/greeter/src/greeter/__init__.py"],
                capture_output=True, text=True, check=False,
            ).stdout.count("edited in greeter") == 1,
            timeout=30,
            what="the member's edit in the container",
        )  # fmt: skip
    finally:
        down = devbox(member, "down")
        remove_project_volumes(root.name)
    assert down.returncode == 0, down.stderr
    assert not (member / ".devbox").exists()
