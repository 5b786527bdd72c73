"""Project trees of each kind devbox init handles, built in a test's tmp_path."""

import subprocess
import sys
from pathlib import Path

UV = Path(sys.executable).parent / "uv"

SERVER = """\
import bottle

app = bottle.Bottle()


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


def main() -> None:
    bottle.run(app, host="0.0.0.0", port=8000)
"""


def uv_lock(project: Path) -> None:
    subprocess.run(
        [str(UV), "lock", "--quiet", "--python", sys.executable], cwd=project, check=True
    )


def workspace_project(root: Path) -> Path:
    """A workspace: the root app depends on a member package `greeter`."""
    member = root / "packages" / "greeter"
    (member / "src" / "greeter").mkdir(parents=True)
    (member / "pyproject.toml").write_text(
        '[project]\nname = "greeter"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
    )
    (member / "src" / "greeter" / "__init__.py").write_text(
        'def greet() -> str:\n    return "hi from greeter"\n'
    )
    (root / "src" / "ws_app").mkdir(parents=True)
    (root / "src" / "ws_app" / "__init__.py").write_text(
        "from greeter import greet\n\n\ndef main() -> None:\n    print(greet())\n"
    )
    (root / "pyproject.toml").write_text(
        '[project]\nname = "ws-app"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
        'dependencies = ["greeter"]\n[project.scripts]\nws-app = "ws_app:main"\n'
        "[tool.uv.sources]\ngreeter = { workspace = true }\n"
        '[tool.uv.workspace]\nmembers = ["packages/*"]\n'
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
    )
    uv_lock(root)
    return root


def requirements_project(root: Path) -> Path:
    """A plain app: requirements.txt and app.py, no pyproject.toml."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "requirements.txt").write_text("bottle>=0.13\n")
    (root / "app.py").write_text(SERVER + '\n\nif __name__ == "__main__":\n    main()\n')
    (root / ".python-version").write_text("3.13\n")
    return root
