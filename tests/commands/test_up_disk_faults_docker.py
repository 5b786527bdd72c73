"""Disk faults during `devbox up`, against the real engine: a read-only project tree, a
`.devbox` that turns read-only mid-session, and a full target in the container.

Read-only mounts and the size-limited tmpfs need root (CI runs as root).
"""

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
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

pytestmark = [
    pytest.mark.docker,
    pytest.mark.skipif(os.geteuid() != 0, reason="read-only bind mounts need root"),
]


@contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """`folder` read-only for everyone (root included), as a read-only mount makes it."""
    subprocess.run(["mount", "--bind", str(folder), str(folder)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(folder)], check=True)
        yield
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_a_read_only_project_is_one_line_and_changes_nothing(
    initialized_sample: tuple[Path, int], compose_2_21: str
) -> None:
    """`.devbox/` from an earlier session exists: it passed the old check, then the engine
    probe's marker write ended in a traceback."""
    project, _ = initialized_sample
    (project / ".devbox").mkdir()
    (project / ".devbox" / ".gitignore").write_text("*\n")
    before = tree_digest(project)
    with read_only(project):
        for detach in ([], ["--detach"]):
            result = subprocess.run(
                [sys.executable, "-m", "devbox", "up", *detach, "--project-dir", str(project)],
                capture_output=True,
                text=True,
                check=False,
            )
            assert result.returncode == 3, result.stderr
            assert result.stderr == (
                f"devbox: {project}/.devbox: cannot write devbox's session state there "
                "(Read-only file system); make the project folder writable, or move away a "
                "file named .devbox\n"
            )
    assert tree_digest(project) == before
    assert docker_lines("ps", "-aq", "--filter", f"label=dev.devbox.project={project.name}") == []


def test_a_full_container_disk_and_a_read_only_devbox_folder_keep_the_session(
    initialized_sample: tuple[Path, int], compose_2_21: str, tmp_path: Path
) -> None:
    """Copy sync into a 64 KiB tmpfs (a Compose `tmpfs:` entry on the service): a file
    too big is one line naming it and the cause, the session keeps watching, and once the
    file is gone the next batch applies (the half-written temporary file was removed, not
    left filling the disk). Then `.devbox` turns read-only: the session warns once and
    goes on serving edits, and Ctrl-C still leaves nothing."""
    project, port = initialized_sample
    compose = project / "compose.yaml"
    compose.write_text(
        compose.read_text().replace(
            "    develop:\n", "    tmpfs:\n      - /app/assets:size=64k\n    develop:\n"
        )
    )
    (project / "assets").mkdir()
    name = f"devbox-{project.name}-sample-app"
    log_path = tmp_path / "up.log"

    def log() -> str:
        return log_path.read_text(errors="replace")

    def in_container(*argv: str) -> str:
        result = subprocess.run(["docker", "exec", name, *argv], capture_output=True, text=True)
        return result.stdout

    with log_path.open("wb") as out:
        up = start_devbox_group(["up", "--sync", "copy", "--project-dir", str(project)], log=out)
        try:
            wait_for(lambda: http_json(port, "/"), timeout=180, what="the app")
            volumes = container_volumes(name)
            big = project / "assets" / "big.bin"
            big.write_bytes(os.urandom(200_000))
            failed = (
                f"devbox: error: sync into {name} failed at /app/assets/big.bin: "
                "No space left on device; the next change syncs again"
            )
            wait_for(lambda: failed in log(), timeout=20, what="the failed batch")
            big.unlink()
            (project / "assets" / "small.txt").write_text("fits\n")
            wait_for(
                lambda: in_container("ls", "-A", "/app/assets").split() == ["small.txt"],
                timeout=20,
                what="the next batch, and no temporary file left",
            )

            app_py = project / "src" / "sample_app" / "app.py"
            with read_only(project / ".devbox"):
                app_py.write_text(app_py.read_text().replace("hello from", "read-only"))
                wait_for(
                    lambda: http_json(port, "/") == {"message": "read-only sample-app"},
                    timeout=30,
                    what="the edit with .devbox read-only",
                )
                app_py.write_text(app_py.read_text().replace("read-only", "still"))
                wait_for(
                    lambda: http_json(port, "/") == {"message": "still sample-app"},
                    timeout=30,
                    what="a second edit",
                )
                code = signal_group(up, signal.SIGINT)
        finally:
            if up.poll() is None:
                signal_group(up, signal.SIGTERM)
    output = log()
    assert code == 130, output
    # devbox never prints a traceback (the app's own may show, as a full disk fails it)
    assert not re.search(r'File "[^"]*/devbox/[^"]*\.py"', output), output
    warning = f"devbox: warning: cannot update {project}/.devbox/state.json (Read-only file system)"
    assert output.count(warning) == 1, output
    assert [line for line in output.splitlines() if "No space left" in line] == [failed], output
    assert docker_lines("ps", "-aq", "--filter", f"label=dev.devbox.project={project.name}") == []
    # uv's cache volume outlives sessions by design
    assert [v for v in volumes if volume_exists(v) and not v.endswith("_uv-cache")] == []
    assert processes_naming(project.name) == []
