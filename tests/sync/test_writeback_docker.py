"""What the container writes comes back to the host, in copy sync, against the real engine
(compose mode): new files, changes made in `devbox shell`, never bytecode or `.venv`, no
echo, a conflict kept beside the host's file, deletions with `writes-back = "all"`, and
the real tools: Django's makemigrations and alembic."""

import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from devbox.runtime.state import SHELL_GRACE
from tests.support import docker_lines, interrupt, start_devbox, wait_for

pytestmark = pytest.mark.docker


def shell(project: Path, script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "devbox", "shell", "-C", str(project), "--", "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def inode(container: str, path: str) -> str:
    return docker_lines("exec", container, "stat", "-c", "%i", path)[0]


def session(project: Path, log_path: Path, *extra: str) -> subprocess.Popen[bytes]:
    with log_path.open("wb") as log:
        child = start_devbox(["up", "--sync", "copy", "-C", str(project), *extra], log=log)
    wait_for(
        lambda: "watching " in log_path.read_text() or child.poll() is not None,
        timeout=180,
        what="the session",
    )
    assert child.poll() is None, log_path.read_text()
    return child


def test_new_files_and_shell_changes_come_back(
    initialized_sample: tuple[Path, int], compose_2_40: str, tmp_path: Path
) -> None:
    project, _ = initialized_sample
    container = f"{project.name}-sample-app-1"
    pkg = project / "src" / "sample_app"
    log_path = tmp_path / "up.log"
    up = session(project, log_path)
    try:
        # a migration made in a shell, in a folder that did not exist
        made = shell(
            project,
            "mkdir -p /app/src/sample_app/migrations && "
            "printf 'initial = True\\n' > /app/src/sample_app/migrations/0001_initial.py",
        )
        assert made.returncode == 0, made.stderr
        migration = pkg / "migrations" / "0001_initial.py"
        wait_for(migration.is_file, timeout=10, what="the migration on the host")
        assert migration.read_text() == "initial = True\n"
        assert migration.stat().st_uid == project.stat().st_uid
        # no echo: the container's file was not written again by the host's event
        before = inode(container, "/app/src/sample_app/migrations/0001_initial.py")
        # bytecode and the .venv never come back
        compiled = shell(project, "python -m compileall -q /app/src && touch /app/.venv/x")
        assert compiled.returncode == 0, compiled.stderr
        # a change to an existing file in a shell comes back (uv lock, a formatter)
        readme = project / "README.md"
        changed = shell(project, "printf '\\nfrom the shell\\n' >> /app/README.md")
        assert changed.returncode == 0, changed.stderr
        wait_for(
            lambda: readme.read_text().endswith("from the shell\n"),
            timeout=10,
            what="the shell's change",
        )
        # outside a shell (the app itself), an existing file is the host's: not replaced
        time.sleep(SHELL_GRACE + 0.5)
        docker_lines("exec", container, "sh", "-c", "echo app >> /app/src/sample_app/app.py")
        new = "/app/src/sample_app/generated.py"
        docker_lines("exec", container, "sh", "-c", f"echo 'GENERATED = 1' > {new}")
        wait_for((pkg / "generated.py").is_file, timeout=10, what="the app's new file")
        assert not (project / "src" / "__pycache__").exists()
        assert not list(pkg.rglob("*.pyc"))
        assert not (project / ".venv" / "x").exists()
        assert "app\n" not in (pkg / "app.py").read_text()
        assert inode(container, "/app/src/sample_app/migrations/0001_initial.py") == before
        status = subprocess.run(
            [sys.executable, "-m", "devbox", "status", "-C", str(project)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert "brought back from the container: 3 file(s)" in status.stdout, status.stdout
    finally:
        code = interrupt(up)
    output = log_path.read_text()
    assert code == 130, output
    assert "src/sample_app/migrations/0001_initial.py: brought back from the container" in output
    assert "Traceback" not in output


def test_all_brings_deletions_and_keeps_a_conflict_beside(
    initialized_sample: tuple[Path, int], compose_2_40: str, tmp_path: Path
) -> None:
    project, _ = initialized_sample
    container = f"{project.name}-sample-app-1"
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text()
    assert "[tool.devbox]\n" in text
    pyproject.write_text(text.replace("[tool.devbox]\n", '[tool.devbox]\nwrites-back = "all"\n'))
    notes = project / "notes.txt"
    notes.write_text("v1\n")
    log_path = tmp_path / "up.log"
    # a long quiet window: a host edit waits 3 s before it is synced
    up = session(project, log_path, "--quiet-ms", "3000", "--max-wait-ms", "5000")
    try:
        wait_for(
            lambda: docker_lines("exec", container, "cat", "/app/notes.txt") == ["v1"],
            timeout=20,
            what="notes.txt in the container",
        )
        notes.write_text("host v2\n")  # not yet synced when the container writes its own
        docker_lines("exec", container, "sh", "-c", "echo container v2 > /app/notes.txt")
        kept = wait_for(
            lambda: next(project.glob("notes.txt.container-*"), None),
            timeout=10,
            what="the container's version beside the host's",
        )
        assert kept.read_text() == "container v2\n"
        assert notes.read_text() == "host v2\n"  # the host's edit is never lost
        # a deletion in the container reaches the host (the host's copy unchanged since)
        extra = project / "extra.txt"
        extra.write_text("to delete\n")
        wait_for(
            lambda: (
                docker_lines("exec", container, "ls", "/app")
                and "extra.txt" in docker_lines("exec", container, "ls", "/app")
            ),
            timeout=20,
            what="extra.txt in the container",
        )
        docker_lines("exec", container, "rm", "/app/extra.txt")
        wait_for(lambda: not extra.exists(), timeout=10, what="the deletion on the host")
    finally:
        code = interrupt(up)
    output = log_path.read_text()
    assert code == 130, output
    assert "notes.txt: changed in the container and on the host" in output


CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def test_makemigrations_and_alembic_revision_leave_their_files_on_the_host(
    compose_2_40: str, tmp_path: Path
) -> None:
    """The real tools, run with `devbox shell` in copy sync: Django's `makemigrations` and
    `alembic init` + `alembic revision` (alembic run by `uv run --with`, never added to
    the project) write their files in the container; they come back to the host."""
    from devbox.commands.init import init_project
    from tests.conftest import free_port, remove_project_volumes

    project = tmp_path / f"shop-{uuid.uuid4().hex[:8]}"
    shutil.copytree(CORPUS / "django", project, ignore=shutil.ignore_patterns("__pycache__"))
    (project / "shop").mkdir()
    (project / "shop" / "__init__.py").write_text("")
    (project / "shop" / "models.py").write_text(
        "from django.db import models\n\n\nclass Order(models.Model):\n"
        "    total = models.IntegerField()\n"
    )
    settings = project / "site_conf" / "settings.py"
    settings.write_text(
        settings.read_text().replace(
            "INSTALLED_APPS: list[str] = []", 'INSTALLED_APPS: list[str] = ["shop"]'
        )
    )
    init_project(project_dir=project)
    compose = project / "compose.yaml"
    port = free_port()
    compose.write_text(compose.read_text().replace("127.0.0.1:8000:8000", f"127.0.0.1:{port}:8000"))
    log_path = tmp_path / "up.log"
    up = session(project, log_path)
    try:
        made = shell(project, "cd /app && python manage.py makemigrations shop")
        assert made.returncode == 0, made.stdout + made.stderr
        migration = project / "shop" / "migrations" / "0001_initial.py"
        wait_for(migration.is_file, timeout=10, what="the migration on the host")
        assert "class Migration(migrations.Migration)" in migration.read_text()
        assert (project / "shop" / "migrations" / "__init__.py").is_file()

        revision = shell(
            project,
            "cd /app && uv run --no-project --with alembic alembic init alembic && "
            "uv run --no-project --with alembic alembic revision -m first",
        )
        assert revision.returncode == 0, revision.stdout + revision.stderr
        wait_for(
            lambda: next((project / "alembic" / "versions").glob("*_first.py"), None),
            timeout=10,
            what="the alembic revision on the host",
        )
        assert (project / "alembic.ini").is_file()
        assert (project / "alembic" / "env.py").is_file()
        assert 'name = "django-site"' in (project / "pyproject.toml").read_text()
        assert "alembic" not in (project / "pyproject.toml").read_text()
    finally:
        code = interrupt(up)
        remove_project_volumes(project.name)
    assert code == 130, log_path.read_text()
