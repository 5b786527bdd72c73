"""The corpus (tests/corpus): projects of the shapes real uv projects have, each through
the whole path against the real engine: init -> up serves -> an edit is visible in the
container -> smoke passes on the prod image, which runs as non-root.

Each project runs `up` twice: in the default mode (compose mode, Compose 2.40.3) and in
one other, the fallback (under Compose 2.21.0) and watch (2.40.3) taking turns in name
order, so every shape meets the mode users get and the corpus as a whole meets all three.
One test per project keeps the suite lean: the dependency cache mount and the base images
are shared by every build, and each image is built once.
"""

import os
import re
import shutil
import subprocess
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from devbox.commands.init import init_project
from devbox.commands.smoke import smoke
from devbox.commands.smoke_report import SmokeOutcome
from tests.conftest import REPO, free_port, remove_project_volumes
from tests.support import interrupt, start_devbox, wait_for

pytestmark = pytest.mark.docker

CORPUS = REPO / "tests" / "corpus"
ADVICE = re.compile(r"`devbox init --command '([^']+)'`")


@dataclass(frozen=True)
class Shape:
    edit: str  # a source file the test edits; the edit must reach the container
    http: bool = True  # serves GET /health on port 8000; else a dev container for `shell`
    python: str | None = None  # the Python the container must run (`python --version`)
    mode: str | None = None  # fallback or watch; default: alternating in name order
    env: tuple[str, str] | None = None  # a variable from .env the dev container must have
    prints: str | None = None  # a command-line app: the line it prints, then exits
    smoke_health: str | None = "/health"  # None: smoke probes the port (no database there)
    root_image: bool = False  # its own Dockerfile's image runs as root (smoke says so)
    advised: bool = False  # init only names the app: the test passes the --command it gives


SHAPES = {
    "console-script": Shape("src/cs_app/__init__.py"),
    "source-path": Shape("src/sp_app/serve.py"),
    "flat-layout": Shape("flat_app/__init__.py"),
    "non-packaged": Shape("main.py"),
    "fastapi": Shape("main.py"),
    "fastapi-package": Shape("src/fa_shop/routes.py"),  # `fastapi run src/fa_shop`
    "flask": Shape("app.py"),
    "django": Shape("site_conf/urls.py"),
    # Apps below the project folder (issue 22): a package `app` with relative imports
    # (`uvicorn app.main:app`), a Flask factory in src/app.py, Django's manage.py in web/.
    "fastapi-app-dir": Shape("app/routes.py"),
    # ... and reads .env (python-dotenv): init gives it `env_file`, .env stays out of the image.
    "flask-src": Shape("src/app.py", env=("GREETING", "hello from .env")),
    "django-nested": Shape("web/web_conf/urls.py"),
    "litestar-package": Shape("src/py/ls_api/routes.py"),  # litestar-fullstack: uvicorn --factory
    "gunicorn-wsgi": Shape("shop/views.py"),  # wsgi.py over a factory: gunicorn wsgi:app
    "workspace-member": Shape("packages/greeter/src/greeter/__init__.py"),
    "virtual-root": Shape("apps/api/src/api/__init__.py"),
    "path-dependency": Shape("vendor/vendored/src/vendored/__init__.py"),
    "library": Shape("src/tiny_lib/__init__.py", http=False),
    "requirements": Shape("app.py"),  # pyproject.toml: an empty [tool.devbox]; init finds app.py
    "python-pinned": Shape("src/pinned_app/__init__.py", python="3.13"),  # .python-version
    # requires-python allows 3.11 only: a python:3.11 image (provisioned from Debian bookworm).
    "python-311": Shape("src/py311_app/__init__.py", python="3.11", mode="watch"),
    # requires-python allows 3.11 to 3.14, but the lock's MarkupSafe has wheels up to 3.11
    # only: init picks 3.11 rather than build it from source on 3.13 (issue 22).
    "python-wheels": Shape("main.py", python="3.11"),
    # Public projects' shapes (issue 22): a workspace root with nothing of its own to
    # install (leehuwuj/python-uv-monorepo-template), a command-line tool (fastapi/typer),
    # the uv guide's own compose.yml and one-stage Dockerfile (astral-sh/uv-docker-example),
    # a Django project's compose file with a database, a cache and a worker
    # (cookiecutter-django), the full-stack template's backend behind a healthy database
    # (fastapi/full-stack-fastapi-template). A CLI's exited container is not re-run by
    # Compose watch, so it runs in the fallback beside compose mode.
    "workspace-package-false": Shape("src/api/app/routes.py"),
    "cli-tool": Shape(
        "src/greet_cli/__init__.py",
        http=False,
        prints="greeting: hello from the cli",
        mode="fallback",
    ),
    "own-compose-watch": Shape("src/hello_svc/__init__.py", root_image=True),
    "django-services": Shape("shop_conf/urls.py", smoke_health=None),
    "fullstack-backend": Shape("backend/app/api.py", smoke_health=None),
    # DavidVujic/python-polylith-example-uv: the app is nowhere init looks first; its
    # note's `devbox init --command` must serve it (no advice leads to a dead end).
    "polylith": Shape("components/shop/greeting/core.py", advised=True),
}
_ALTERNATING = sorted(name for name, shape in SHAPES.items() if shape.mode is None)
MODES = {name: ("fallback", "watch")[i % 2] for i, name in enumerate(_ALTERNATING)}
MODES |= {name: shape.mode for name, shape in SHAPES.items() if shape.mode is not None}


def test_every_corpus_project_has_a_shape_and_a_lock() -> None:
    folders = sorted(p.name for p in CORPUS.iterdir() if p.is_dir())
    assert folders == sorted(SHAPES)
    for name in folders:
        assert (CORPUS / name / "uv.lock").is_file() or name == "requirements"
    assert set(MODES.values()) == {"fallback", "watch"}  # and each runs compose mode too


def health(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
            return int(response.status) == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def container_of(project: str) -> str | None:
    ids = subprocess.run(
        ["docker", "ps", "-q", "--filter", f"name={project}"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    return ids[0] if ids else None


def in_container(container: str, *argv: str) -> str:
    result = subprocess.run(
        ["docker", "exec", container, *argv], capture_output=True, text=True, check=False
    )
    return result.stdout


def remove_containers(project: str) -> None:
    ids = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"name={project}"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    if ids:
        subprocess.run(["docker", "rm", "-fv", *ids], capture_output=True, check=False)


COMPOSE = {
    "compose": "DEVBOX_DOCKER_CONFIG_COMPOSE_2_40",
    "fallback": "DEVBOX_DOCKER_CONFIG_COMPOSE_2_21",
    "watch": "DEVBOX_DOCKER_CONFIG_COMPOSE_2_40",
}
COMPOSE_FILES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")


def up_serves_an_edit(
    name: str, project: Path, port: int, mode: str, log_path: Path, edit: str
) -> None:
    """`devbox up` in `mode` serves (or gives a shell, or runs a command-line app), and an
    edit reaches the container (runs the app again)."""
    shape = SHAPES[name]
    chosen = [] if mode == "compose" else ["--mode", mode]  # compose: the default
    try:
        with log_path.open("wb") as log:
            devbox = start_devbox(["up", *chosen, "-C", str(project)], log=log)
            try:
                if shape.prints is not None:
                    runs_again(project, shape, log_path, edit)
                    assert devbox.poll() is None, log_path.read_text()
                    return
                if shape.http:
                    wait_for(lambda: health(port), timeout=240, what=f"{name} to serve")
                container = wait_for(
                    lambda: container_of(project.name), timeout=240, what="the container"
                )
                edited = project / shape.edit
                edited.write_text(edited.read_text() + f"\n{edit} = 1\n")
                wait_for(
                    lambda: f"{edit} = 1" in in_container(container, "cat", f"/app/{shape.edit}"),
                    timeout=30,
                    what="the edit in the container",
                )
                if shape.python is not None:  # the venv's interpreter, first on PATH
                    version = in_container(container, "python", "--version").split()
                    assert version[1].startswith(f"{shape.python}."), version
                if shape.env is not None:  # from .env, which the image and the sync leave out
                    name_, value = shape.env
                    assert in_container(container, "printenv", name_).strip() == value
                    assert value not in in_container(container, "cat", "/app/.env")
                if not shape.http:  # the dev container is a shell: the project imports there
                    out = in_container(
                        container, "python", "-c", f"import tiny_lib; print(tiny_lib.{edit})"
                    )
                    assert out.strip() == "1"
                assert devbox.poll() is None, log_path.read_text()
            finally:
                interrupt(devbox)
    except AssertionError:
        print(log_path.read_text())
        raise
    finally:
        remove_containers(project.name)
        remove_project_volumes(project.name)


def runs_again(project: Path, shape: Shape, log_path: Path, edit: str) -> None:
    """A command-line app: its line in up's output, then, after an edit to it, the edited
    line (the exited container started again by the change)."""
    line = shape.prints
    assert line is not None
    wait_for(lambda: line in log_path.read_text(), timeout=240, what="the app's line")
    wait_for(lambda: "devbox: watching" in log_path.read_text(), timeout=60, what="the watch")
    edited = project / shape.edit
    edited.write_text(edited.read_text().replace(line, f"{line} {edit}"))
    wait_for(
        lambda: f"{line} {edit}" in log_path.read_text(),
        timeout=60,
        what="the edited app's line",
    )


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_corpus_project(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both modes, each under its Compose: the project's own mode first, then the other
    (its image layers cached by then, so the second costs little)."""
    shape = SHAPES[name]
    project = tmp_path / f"corpus-{name}-{uuid.uuid4().hex[:8]}"
    shutil.copytree(CORPUS / name, project, ignore=shutil.ignore_patterns(".venv", "__pycache__"))
    notes = init_project(project_dir=project).notes
    if shape.advised:
        [command] = {m for n in notes for m in re.findall(ADVICE, n)}
        init_project(project_dir=project, overrides={"command": command})
    port = free_port()
    compose = next(project / f for f in COMPOSE_FILES if (project / f).is_file())
    compose.write_text(compose.read_text().replace("127.0.0.1:8000:8000", f"127.0.0.1:{port}:8000"))

    for mode in ("compose", MODES[name]):
        config = os.environ.get(COMPOSE[mode])
        assert config, f"{COMPOSE[mode]} is not set; run scripts/provision-engine"
        monkeypatch.setenv("DOCKER_CONFIG", config)
        edit = f"EDITED_{mode.upper()}"
        up_serves_an_edit(name, project, port, mode, tmp_path / f"up-{mode}.log", edit)

    report = smoke(
        project_dir=project,
        echo=lambda message, *, error=False: None,
        health_path=shape.smoke_health if shape.http else None,
        timeout=60,
        rm_image=True,
    )
    assert report.outcome is SmokeOutcome.PASSED, report.message
    if shape.prints is not None:
        assert report.completed  # a command-line app: "ran to completion"
    if not shape.root_image:
        assert report.user not in (None, "", "root", "0")
