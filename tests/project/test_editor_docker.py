"""The `.devcontainer/` devbox init writes, opened by the real Dev Containers CLI
(`@devcontainers/cli`, provisioned by scripts/provision-editor) the way VS Code's
"Reopen in Container" does: `devcontainer up`, then `devcontainer exec` imports the
project's package and a dependency from the container's interpreter, with the project
bind-mounted where the service runs it; the session ends with nothing left."""

import json
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.conftest import free_port, remove_project_volumes
from tests.support import project_leftovers

pytestmark = pytest.mark.docker

CORPUS = Path(__file__).parents[1] / "corpus"


@pytest.fixture
def devcontainer_cli() -> str:
    found = shutil.which("devcontainer")
    if found is None:
        pytest.skip("no Dev Containers CLI: run scripts/provision-editor (needs node and npm)")
    return found


def devcontainer(cli: str, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [cli, *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def corpus_copy(tmp_path: Path, name: str) -> Path:
    target = tmp_path / f"{name}-{uuid.uuid4().hex[:8]}"
    shutil.copytree(CORPUS / name, target, ignore=shutil.ignore_patterns(".venv", "__pycache__"))
    return target


@pytest.mark.parametrize(
    ("project", "imports", "user"),
    [
        ("sample", "import sample_app, bottle", None),
        ("sample", "import sample_app, bottle", "1000:1000"),
        ("fastapi-package", "import fa_shop, fastapi", None),
    ],
)
def test_devcontainer_up_and_exec_use_the_containers_interpreter(
    devcontainer_cli: str,
    sample_copy: Path,
    tmp_path: Path,
    compose_2_40: str,
    project: str,
    imports: str,
    user: str | None,
) -> None:
    from devbox.commands.init import init_project

    folder = sample_copy if project == "sample" else corpus_copy(tmp_path, project)
    init_project(project_dir=folder)
    compose = folder / "compose.yaml"
    text = compose.read_text().replace("127.0.0.1:8000:8000", f"127.0.0.1:{free_port()}:8000")
    if user is not None:  # the service's own non-root user
        text = text.replace("    build:\n", f'    user: "{user}"\n    build:\n', 1)
    compose.write_text(text)
    config = json.loads(
        "".join(
            line
            for line in (folder / ".devcontainer" / "devcontainer.json").read_text().splitlines()
            if not line.startswith("//")
        )
    )
    assert config["workspaceFolder"] == "/app"
    assert config["customizations"]["vscode"]["settings"] == {
        "python.defaultInterpreterPath": "/app/.venv/bin/python"
    }
    name = ""
    try:
        up = devcontainer(devcontainer_cli, "up", "--workspace-folder", str(folder))
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
        outcome = json.loads(up.stdout.strip().splitlines()[-1])
        assert outcome["outcome"] == "success", outcome
        name = outcome["composeProjectName"]
        probe = (
            f"{imports}; import os, sys; "
            "print(sys.executable, os.getcwd(), os.getuid(), os.path.exists('/app/.devcontainer'))"
        )
        ran = devcontainer(
            devcontainer_cli, "exec", "--workspace-folder", str(folder), "python", "-c", probe
        )
        assert ran.returncode == 0, ran.stdout + ran.stderr
        executable, cwd, uid, bound = ran.stdout.split()[-4:]
        assert (executable, cwd, bound) == ("/app/.venv/bin/python", "/app", "True")
        assert uid == ("1000" if user else "0")
        # An edit on the host is the file the container sees (the bind mount).
        (folder / "edited.txt").write_text("from the host\n")
        seen = devcontainer(
            devcontainer_cli, "exec", "--workspace-folder", str(folder), "cat", "/app/edited.txt"
        )
        assert seen.stdout.strip().endswith("from the host"), seen.stdout + seen.stderr
    finally:
        if name:
            files = [
                "-f",
                str(compose),
                "-f",
                str(folder / ".devcontainer" / "compose.devcontainer.yaml"),
            ]
            subprocess.run(
                ["docker", "compose", "--project-name", name, *files, "down", "--volumes"],
                capture_output=True,
                check=False,
                timeout=120,
            )
            remove_project_volumes(name)
    assert project_leftovers(name) == {"containers": [], "networks": []}
