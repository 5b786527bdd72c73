"""Where apps live and what serves them (devbox/project/apps.py), through read_settings."""

# ruff: noqa: S104

from pathlib import Path

import pytest

from devbox.project.apps import App, choose_app, find_apps, import_path, named_port
from devbox.project.settings import read_settings
from devbox.project.shape import IDLE

BUILD = '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
LISTEN = ("--host", "0.0.0.0", "--port", "8000")
FASTAPI = "from fastapi import FastAPI\n\napp = FastAPI()\n"
MANAGE = "from django.core.management import execute_from_command_line\n"


def write(root: Path, deps: str, files: dict[str, str], *, extra: str = "") -> Path:
    pyproject = f'[project]\nname = "shop"\nversion = "0"\ndependencies = {deps}\n{extra}'
    for name, text in {"pyproject.toml": pyproject, **files}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (root / "uv.lock").write_text("version = 1\n")
    return root


@pytest.mark.parametrize(
    ("deps", "files", "command"),
    [
        # a package `app` with relative imports: imported as app.main from the project folder
        ('["fastapi", "uvicorn"]',
         {"app/__init__.py": "", "app/main.py": "from .routes import r\n" + FASTAPI},
         ("uvicorn", "app.main:app", *LISTEN)),
        ('["fastapi[standard]"]', {"app/__init__.py": "", "app/main.py": FASTAPI},
         ("fastapi", "run", "app/main.py", *LISTEN)),
        # loose in src/: uvicorn imports it from there
        ('["fastapi", "uvicorn"]', {"src/app.py": FASTAPI},
         ("uvicorn", "--app-dir", "src", "app:app", *LISTEN)),
        ('["flask"]', {"src/app.py": "from flask import Flask\n\napp = Flask(__name__)\n"},
         ("flask", "--app", "src/app.py", "run", *LISTEN)),
        # factories: Flask finds create_app itself; uvicorn is told
        ('["flask"]', {"app.py": "def create_app():\n    return Flask(__name__)\n"},
         ("flask", "--app", "app", "run", *LISTEN)),
        ('["fastapi", "uvicorn"]',
         {"api/__init__.py": "", "api/main.py": "def create_app():\n    return FastAPI()\n"},
         ("uvicorn", "--factory", "api.main:create_app", *LISTEN)),
        # an instance under another name
        ('["flask"]', {"app.py": "server = Flask(__name__)\n"},
         ("flask", "--app", "app:server", "run", *LISTEN)),
        ('["litestar[standard]"]', {"app.py": "from litestar import Litestar\n\napp = Litestar([])\n"},
         ("uvicorn", "app:app", *LISTEN)),
        ('["starlette", "uvicorn"]',
         {"backend/__init__.py": "", "backend/asgi.py": "application = Starlette()\n"},
         ("uvicorn", "backend.asgi:application", *LISTEN)),
        # an entry point that only imports the app
        ('["flask"]', {"wsgi.py": "from shop import create_app\n\napp = create_app()\n"},
         ("flask", "--app", "wsgi", "run", *LISTEN)),
        ('["gunicorn", "falcon"]', {"wsgi.py": "application = make()\n"},
         ("gunicorn", "--bind", "0.0.0.0:8000", "wsgi:application")),
        ('["uvicorn"]', {"asgi.py": "app = build()\n"}, ("uvicorn", "asgi:app", *LISTEN)),
        # Django below the project folder
        ('["django"]', {"web/manage.py": MANAGE, "web/web/wsgi.py": "application = x\n"},
         ("python", "web/manage.py", "runserver", "0.0.0.0:8000", "--noreload")),
        ('["django"]', {"src/site/manage.py": MANAGE},
         ("python", "src/site/manage.py", "runserver", "0.0.0.0:8000", "--noreload")),
        # a framework app wins over a plain script at the top
        ('["fastapi", "uvicorn"]', {"main.py": "print(1)\n", "app/main.py": FASTAPI},
         ("uvicorn", "--app-dir", "app", "main:app", *LISTEN)),
    ],
)  # fmt: skip
def test_apps_where_frameworks_put_them(
    tmp_path: Path, deps: str, files: dict[str, str], command: tuple[str, ...]
) -> None:
    settings = read_settings(write(tmp_path, deps, files))
    assert settings.command == command
    assert settings.prod_sources


def test_app_in_the_installed_package_needs_no_app_dir(tmp_path: Path) -> None:
    files = {"src/shop/__init__.py": "", "src/shop/app.py": FASTAPI}
    root = write(tmp_path, '["fastapi", "uvicorn"]', files, extra=BUILD)
    assert read_settings(root).command == ("uvicorn", "shop.app:app", *LISTEN)


def test_an_app_nothing_serves_names_the_command_to_pass(tmp_path: Path) -> None:
    root = write(
        tmp_path, '["starlette"]', {"app/__init__.py": "", "app/main.py": "app = Starlette()\n"}
    )
    settings = read_settings(root)
    assert settings.command == IDLE
    hint = next(n for n in settings.notes if "nothing in the dependencies serves it" in n)
    assert "app/main.py creates a Starlette app" in hint
    assert (
        "`uv add uvicorn`, then `devbox init --command "
        "'uvicorn app.main:app --host 0.0.0.0 --port 8000'`"
    ) in hint


def test_an_app_without_a_module_level_name_is_a_hint(tmp_path: Path) -> None:
    text = "def build():\n    return FastAPI()\n"
    root = write(tmp_path, '["fastapi", "uvicorn"]', {"src/app.py": text})
    settings = read_settings(root)
    assert settings.command == IDLE
    assert any(
        "not as a module-level name or a create_app() factory" in n
        and "'uvicorn --app-dir src app:app" in n
        for n in settings.notes
    )


def test_other_apps_found_are_named_with_their_command(tmp_path: Path) -> None:
    files = {"main.py": FASTAPI, "app/__init__.py": "", "app/main.py": FASTAPI}
    settings = read_settings(write(tmp_path, '["fastapi", "uvicorn"]', files))
    assert settings.command == ("uvicorn", "main:app", *LISTEN)
    assert (
        "command: also found app/main.py creates a FastAPI app; to run it instead: "
        "`devbox init --command 'uvicorn app.main:app --host 0.0.0.0 --port 8000'`"
    ) in settings.notes


def test_import_path_walks_up_the_packages(tmp_path: Path) -> None:
    for name in ("src/shop/__init__.py", "src/shop/web/__init__.py", "app/__init__.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    assert import_path(tmp_path, tmp_path / "src/shop/web/main.py") == ("shop.web.main", "src")
    assert import_path(tmp_path, tmp_path / "src/shop/__init__.py") == ("shop", "src")
    assert import_path(tmp_path, tmp_path / "app/main.py") == ("app.main", "")
    assert import_path(tmp_path, tmp_path / "main.py") == ("main", "")


def test_nothing_found(tmp_path: Path) -> None:
    (tmp_path / "lib.py").write_text("x = 1\n")
    assert find_apps(tmp_path, None) == []
    assert choose_app(tmp_path, set(), 8000, package=None, installed=None) is None


def test_a_hidden_folder_is_not_searched(tmp_path: Path) -> None:
    (tmp_path / ".tox").mkdir()
    (tmp_path / ".tox" / "manage.py").write_text(MANAGE)
    assert find_apps(tmp_path, None) == []
    (tmp_path / "manage.py").write_text(MANAGE)
    assert find_apps(tmp_path, None) == [App("manage.py", "Django", None)]


def test_a_manage_py_not_of_django_is_no_django_project(tmp_path: Path) -> None:
    """litestar-fullstack's manage.py runs the project's own CLI."""
    text = '"""A convenience, as in Django."""\nfrom app.__main__ import run_cli\n\nrun_cli()\n'
    (tmp_path / "manage.py").write_text(text)
    assert find_apps(tmp_path, None) == []


def test_the_idle_note_points_at_the_hint(tmp_path: Path) -> None:
    root = write(tmp_path, '["starlette"]', {"asgi.py": "app = Starlette()\n"})
    notes = read_settings(root).notes
    assert any(
        n.startswith("command: sleep infinity (no app it can serve yet, see above)") for n in notes
    )


@pytest.mark.parametrize(
    ("command", "port"),
    [
        (("uvicorn", "app:app", "--host", "0.0.0.0", "--port", "5000"), 5000),
        (("flask", "--app", "app", "run", "-p", "5001"), 5001),
        (("fastapi", "run", "--port=5002"), 5002),
        (("gunicorn", "--bind", "0.0.0.0:5003", "wsgi:app"), 5003),
        (("gunicorn", "-b=[::]:5004", "wsgi:app"), 5004),
        (("python", "manage.py", "runserver", "0.0.0.0:5005", "--noreload"), 5005),
        (("python", "manage.py", "runserver", "5006"), 5006),
        (("python", "manage.py", "runserver", "--noreload"), None),
        (("sample-app", "--reload"), None),
        (("app", "--port", "http"), None),
        (("app", "--port", "70000"), None),
        ((), None),
    ],
)
def test_named_port(command: tuple[str, ...], port: int | None) -> None:
    assert named_port(command) == port


LITESTAR_FACTORY = (
    "def create_app():\n    from litestar import Litestar\n\n    return Litestar([])\n"
)


@pytest.mark.parametrize(
    "where",
    [
        '[tool.hatch.build.targets.wheel]\npackages = ["src/py/app"]\n',
        '[tool.uv.build-backend]\nmodule-root = "src/py"\nmodule-name = "app"\n',
    ],
)
def test_the_package_folder_the_build_backend_names(tmp_path: Path, where: str) -> None:
    """litestar-fullstack: project `app` in src/py/app (hatch's `packages`), its app made
    by a factory in the package's `server/asgi.py`, beside a console script `app` (a CLI
    group); the app is served, the script one flag away. Without a server for it, the
    script stays the command and a note gives the two steps to serve the app."""
    files = {
        "src/py/app/__init__.py": "",
        "src/py/app/server/__init__.py": "",
        "src/py/app/server/asgi.py": LITESTAR_FACTORY,
    }
    extra = BUILD + '[project.scripts]\napp = "app.__main__:run_cli"\n' + where
    root = write(tmp_path, '["litestar[standard]"]', files, extra=extra)
    (root / "pyproject.toml").write_text(
        (root / "pyproject.toml").read_text().replace('name = "shop"', 'name = "app"')
    )
    settings = read_settings(root)
    assert settings.command == ("uvicorn", "--factory", "app.server.asgi:create_app", *LISTEN)
    (root / "pyproject.toml").write_text(
        (root / "pyproject.toml").read_text().replace("litestar[standard]", "litestar")
    )
    settings = read_settings(root)
    assert settings.command == ("app",)
    assert any(
        "src/py/app/server/asgi.py creates a Litestar app, but nothing in the dependencies "
        "serves it: `uv add uvicorn`, then `devbox init --command 'uvicorn --factory "
        "app.server.asgi:create_app" in note
        for note in settings.notes
    )


def test_a_frameworks_own_source_is_not_an_app(tmp_path: Path) -> None:
    """pallets/flask: src/flask/app.py defines `class Flask(App)` and shows
    `app = Flask(__name__)` in its docstrings; the project is the framework, so its
    console script stays the command. A class of that name elsewhere is no app either."""
    source = 'class Flask(App):\n    """Use it:\n\n        app = Flask(__name__)\n    """\n'
    files = {"src/flask/__init__.py": "", "src/flask/app.py": source}
    root = write(
        tmp_path,
        '["werkzeug"]',
        files,
        extra=BUILD + '[project.scripts]\nflask = "flask.cli:main"\n',
    )
    (root / "pyproject.toml").write_text(
        (root / "pyproject.toml").read_text().replace('name = "shop"', 'name = "flask"')
    )
    assert read_settings(root).command == ("flask",)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "app.py").write_text("class Flask(Base):\n    pass\n")
    assert find_apps(elsewhere, None) == []


def test_apps_further_down_are_named_not_chosen(tmp_path: Path) -> None:
    """DavidVujic/python-polylith-example-uv: apps in bases/<namespace>/<name>/core.py,
    nowhere init looks first; each is named with the command that serves it, and the
    project stays a dev container until one is chosen. Tests, docs and hidden folders are
    not searched."""
    files = {
        "bases/example/greet_api/__init__.py": "",
        "bases/example/greet_api/core.py": FASTAPI,
        "tests/example/fake/core.py": FASTAPI,
        ".cache/x/y/core.py": FASTAPI,
    }
    root = write(tmp_path, '["fastapi[standard]"]', files)
    settings = read_settings(root)
    assert settings.command == IDLE
    command = "fastapi run bases/example/greet_api/core.py --host 0.0.0.0 --port 8000"
    assert (
        "command: found bases/example/greet_api/core.py creates a FastAPI app; to serve it: "
        f"`devbox init --command '{command}'`" in settings.notes
    )
    assert not any("tests/example" in n or ".cache" in n for n in settings.notes)
    assert any("sleep infinity (no app it can serve yet, see above)" in n for n in settings.notes)
