"""What a dev container of the fallback can see of the host (real engine): not the
`.env` and `.git` the rules leave out, not the host's `.venv`, which stays untouched."""

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import http_json, interrupt, start_devbox, wait_for

pytestmark = pytest.mark.docker


def tree(folder: Path) -> dict[str, str]:
    """Every entry under `folder` with its content's checksum (folders as 'dir')."""
    return {
        str(p.relative_to(folder)): "dir"
        if p.is_dir()
        else hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
    }


def sh(name: str, script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", "exec", name, "sh", "-c", script], capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize("sync", ["bind", "copy"])
def test_secrets_and_host_venv_stay_out_of_the_container(
    initialized_sample: tuple[Path, int], compose_2_21: str, tmp_path: Path, sync: str
) -> None:
    project, port = initialized_sample
    (project / ".env").write_text("TOKEN=SECRET\n")
    (project / ".env.local").write_text("TOKEN=SECRET\n")
    (project / ".git").mkdir()
    (project / ".git" / "config").write_text("[remote]\n  url = https://SECRET@host\n")
    venv = project / ".venv"
    (venv / "lib").mkdir(parents=True)
    (venv / "lib" / "host-marker.py").write_text("HOST = 1\n")
    (venv / "pyvenv.cfg").write_text("home = /host/python\n")
    before = {"venv": tree(venv), "git": tree(project / ".git")}
    name = f"devbox-{project.name}-sample-app"
    log_path = tmp_path / "up.log"
    with log_path.open("wb") as log:
        devbox = start_devbox(["up", "-C", str(project), "--sync", sync], log=log)
        try:
            wait_for(lambda: http_json(port, "/"), timeout=180, what="the app")
            env = sh(name, "cat /app/.env /app/.env.local")
            assert env.stdout == "" and "SECRET" not in env.stderr
            git = sh(name, "ls -A /app/.git 2>/dev/null; cat /app/.git/config 2>/dev/null")
            assert git.stdout == ""
            assert sh(name, "grep -rq SECRET /app").returncode == 1  # nowhere under /app
            marker = sh(name, "test -e /app/.venv/lib/host-marker.py")
            assert marker.returncode == 1  # the image's own .venv, not the host's
            assert sh(name, "python -c 'import bottle'").returncode == 0
            # writing where the secrets are leaves the host's files alone
            sh(name, "echo x > /app/.env; touch /app/.git/new /app/.venv/lib/new")
        finally:
            code = interrupt(devbox)
    output = log_path.read_text()
    assert code == 130, output
    hidden = "hidden in the container (the watch rules leave them out): .env, .env.local, .git"
    assert (hidden in output) == (sync == "bind"), output
    # a one-off shell from the dev image mounts the project the same way
    one_off = subprocess.run(
        [sys.executable, "-m", "devbox", "shell", "--start", "-C", str(project), "--",
         "sh", "-c", "cat /app/.env; ls -A /app/.git; test -e /app/.venv/lib/host-marker.py"],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert one_off.returncode == 1 and one_off.stdout == "", one_off
    assert (project / ".env").read_text() == "TOKEN=SECRET\n"
    assert {"venv": tree(venv), "git": tree(project / ".git")} == before
