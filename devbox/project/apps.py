"""Where a project's web app is, and the command that serves it: pure logic over the
folder's files, so each layout is unit-tested.

Frameworks put apps in a handful of places: the project's top (`main.py`, `app.py`,
`wsgi.py`, `asgi.py`), a package named for what it is (`app/main.py`, `api/main.py`), the
project's own package (`src/<pkg>/main.py`, `<pkg>/__init__.py`), or loose in `src/`
(`src/app.py`), with Django's `manage.py` at the top or one folder down. An app is a
module-level instance (`app = FastAPI()`, also Flask, Litestar, Starlette) or a factory
(`def create_app()`); the server is the one the project depends on (fastapi-cli,
uvicorn, gunicorn, Flask's own). Where the app is found but nothing can serve it, or
several apps are found, the notes give the exact `--command` to pass.
"""

import os
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ANY = "0.0.0.0"  # noqa: S104 - inside a container, the published port needs it
ROOT_SCRIPTS = ("main.py", "app.py")  # run as `python <file>` when no framework is found
_NAMES = ("main.py", "app.py", "application.py", "asgi.py", "wsgi.py")
_APP_FOLDERS = ("app", "api", "backend", "server", "web")
_INSTANCE = re.compile(
    r"^(\w+)\s*(?::[^=\n]+)?=\s*(?:\w+\.)?(FastAPI|Flask|Litestar|Starlette)\(", re.MULTILINE
)
_CONSTRUCTED = re.compile(r"(?<!class )\b(FastAPI|Flask|Litestar|Starlette)\(")
_FACTORY = re.compile(r"^(?:async\s+)?def\s+(create_app|make_app|get_app|app_factory)\s*\(", re.M)
_DJANGO = re.compile(r"DJANGO_SETTINGS_MODULE|^\s*(?:from|import)\s+django\b", re.MULTILINE)
_ASSIGNED = re.compile(r"^(app|application)\s*(?::[^=\n]+)?=", re.MULTILINE)


@dataclass(frozen=True)
class App:
    """One app found: its file, framework, the name that holds it, and how it imports."""

    file: str  # relative to the project, posix
    framework: str  # FastAPI, Flask, Litestar, Starlette, Django, ASGI, WSGI
    attr: str | None  # the module-level instance; None when only `factory` is there
    factory: str | None = None
    module: str = ""  # dotted import name from `root`
    root: str = ""  # the folder to import from ("" = the project folder)


@dataclass(frozen=True)
class Found:
    """The command chosen (None: nothing to serve it), why, and hints for the user;
    `served`: a framework's server runs a web app (not a plain script at the top)."""

    command: tuple[str, ...] | None
    why: str
    hints: tuple[str, ...] = ()
    served: bool = True


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else None
    except OSError:
        return None


def import_path(project_dir: Path, file: Path) -> tuple[str, str]:
    """The dotted module of `file` and the folder it imports from: the nearest parent that
    is not a package ('app/main.py' in a package `app` -> ('app.main', ''))."""
    parts = [file.stem] if file.name != "__init__.py" else []
    folder = file.parent
    while folder != project_dir and (folder / "__init__.py").is_file():
        parts.insert(0, folder.name)
        folder = folder.parent
    root = folder.relative_to(project_dir).as_posix() if folder != project_dir else ""
    return ".".join(parts), root


def _packages(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if (p / "__init__.py").is_file())


def candidate_files(
    project_dir: Path, package: str | None, members: Sequence[str] = ()
) -> list[Path]:
    """Where apps live, most likely first: the top, the project's own package folder
    (`package`, relative: `src/shop`, or hatch's `src/py/app`) and the folders named for an
    app inside it (`app/server/asgi.py`), folders named for an app, then `src/` and its
    other packages; then the same in each workspace member folder of `members` (a
    `backend/` member holding `app/main.py`), and its packages."""
    folders = [project_dir]
    if package:
        own = project_dir / package
        folders += [own, *(own / name for name in _APP_FOLDERS)]
    folders += [project_dir / name for name in _APP_FOLDERS]
    src = project_dir / "src"
    folders.append(src)
    folders += _packages(src)
    for member in members:
        top = project_dir / member
        folders += [top, *(top / name for name in _APP_FOLDERS), top / "src"]
        folders += _packages(top / "src") + _packages(top)
    seen: set[Path] = set()
    files = []
    for folder in folders:
        if folder in seen or not folder.is_dir():
            continue
        seen.add(folder)
        names = _NAMES if folder == project_dir else (*_NAMES, "__init__.py")
        files += [folder / name for name in names if (folder / name).is_file()]
    return files


def _django(manage: Path) -> bool:
    """Whether `manage` is Django's (imports it, or names its settings module):
    litestar-fullstack's manage.py runs its own CLI, "as in Django"."""
    text = _read(manage)
    return text is not None and _DJANGO.search(text) is not None


def _app_in(project_dir: Path, path: Path, *, entry_points: bool = True) -> App | None:
    """The app `path` makes, if any: an instance, a factory, a construction elsewhere in
    it, or (with `entry_points`) the name an `asgi.py`/`wsgi.py` assigns."""
    text = _read(path)
    if text is None:
        return None
    rel = path.relative_to(project_dir).as_posix()
    module, root = import_path(project_dir, path)
    instance = _INSTANCE.search(text)
    factory = _FACTORY.search(text)
    constructed = _CONSTRUCTED.search(text)
    if instance is not None:
        return App(rel, instance.group(2), instance.group(1), None, module, root)
    if constructed is not None and factory is not None:
        return App(rel, constructed.group(1), None, factory.group(1), module, root)
    if constructed is not None:  # built inside a function of another name, or passed around
        return App(rel, constructed.group(1), None, None, module, root)
    if entry_points and path.stem in ("asgi", "wsgi") and (assigned := _ASSIGNED.search(text)):
        return App(rel, path.stem.upper(), assigned.group(1), None, module, root)
    return None


_NOT_APPS = {"tests", "test", "docs", "node_modules", "site-packages", "migrations", "build",
             "dist", "venv", "__pycache__"}  # fmt: skip
_DEEPEST = 5  # folders below the project
_MOST_FILES = 3000


def deeper_apps(project_dir: Path, *, most: int = 3) -> list[App]:
    """Apps below the usual places (Polylith's `bases/<namespace>/<name>/core.py`), for
    hints only: a module-level instance or a factory, at most `most`, in path order; the
    walk skips hidden folders, tests, docs and environments, and stops after 3,000 Python
    files read (30,000 files seen)."""
    apps: list[App] = []
    listed = read = 0
    for folder, dirs, files in os.walk(project_dir):
        listed += len(files)  # a folder of data counts too: the walk stays short
        if listed >= _MOST_FILES * 10:
            break
        depth = len(Path(folder).relative_to(project_dir).parts)
        dirs[:] = sorted(
            d for d in dirs if not d.startswith(".") and d not in _NOT_APPS and depth < _DEEPEST
        )
        for name in sorted(f for f in files if f.endswith(".py")):
            read += 1
            app = _app_in(project_dir, Path(folder) / name, entry_points=False)
            if app is not None and (app.attr or app.factory):
                apps.append(app)
            if len(apps) >= most or read >= _MOST_FILES:
                return apps
    return apps


def find_apps(project_dir: Path, package: str | None, members: Sequence[str] = ()) -> list[App]:
    """Every app in the candidate files, in their order; a `manage.py` that speaks of Django
    (the top, or one folder down, or in `src/`) is Django's."""
    apps: list[App] = []
    if _django(project_dir / "manage.py"):
        apps.append(App("manage.py", "Django", None))
    for path in candidate_files(project_dir, package, members):
        app = _app_in(project_dir, path)
        if app is not None:
            apps.append(app)
    managers = sorted(project_dir.glob("*/manage.py")) + sorted(project_dir.glob("src/*/manage.py"))
    for path in managers:
        if _django(path) and not path.parent.name.startswith("."):
            rel = path.relative_to(project_dir).as_posix()
            apps.append(App(rel, "Django", None))
    return apps


_PORT_OPTIONS = ("--port", "-p")
_BIND_OPTIONS = ("--bind", "-b")
_ADDRESS = re.compile(r"(?:.*:)?(\d{1,5})")  # `0.0.0.0:8000`, `[::]:8000`, `8000`


def named_port(command: Sequence[str]) -> int | None:
    """The port a command says its server listens on: `--port 5000` (`-p`, `--port=`) of
    uvicorn, flask, fastapi and most CLIs, gunicorn's `--bind host:5000` (`-b`), Django's
    `runserver 0.0.0.0:5000`; None when it names none."""
    words = list(command)
    found: str | None = None
    for i, word in enumerate(words):
        following = words[i + 1] if i + 1 < len(words) else ""
        option, equals, value = word.partition("=")
        if option in (*_PORT_OPTIONS, *_BIND_OPTIONS) and equals:
            found = value
        elif word in (*_PORT_OPTIONS, *_BIND_OPTIONS) or word == "runserver":
            found = following
        else:
            continue
        match = _ADDRESS.fullmatch(found)
        if match and 1 <= int(match.group(1)) <= 65535:
            return int(match.group(1))
    return None


def _listen(port: int) -> tuple[str, ...]:
    return ("--host", ANY, "--port", str(port))


Installed = str | frozenset[str] | None  # the packages uv installs, importable from anywhere


def _installed(installed: Installed) -> frozenset[str]:
    return frozenset([installed]) if isinstance(installed, str) else installed or frozenset()


def serve(app: App, deps: set[str], port: int, *, installed: Installed) -> tuple[str, ...] | None:
    """The command that serves `app` with what the project depends on; None when nothing
    does. `installed`: the project's own package (and its workspace members' packages),
    importable without `--app-dir`."""
    listen = _listen(port)
    if app.framework == "Django":
        return ("python", app.file, "runserver", f"{ANY}:{port}", "--noreload")
    target = f"{app.module}:{app.attr or app.factory}"
    in_root = app.root == "" or app.module.split(".")[0] in _installed(installed)
    app_dir = () if in_root else ("--app-dir", app.root)
    if app.framework == "Flask" or (app.framework == "WSGI" and "flask" in deps):
        where = app.module if in_root else app.file
        if app.attr not in (None, "app", "application"):
            where += f":{app.attr}"
        return ("flask", "--app", where, "run", *listen)
    if app.framework == "FastAPI" and "fastapi-cli" in deps and app.attr:
        path = app.file.removesuffix("/__init__.py")
        return ("fastapi", "run", path, *listen)
    if app.framework in ("FastAPI", "Litestar", "Starlette", "ASGI") and "uvicorn" in deps:
        if app.attr is None and app.factory is None:
            return None
        factory = ("--factory",) if app.attr is None else ()
        return ("uvicorn", *app_dir, *factory, target, *listen)
    if "gunicorn" in deps and (app.attr or app.factory):
        where = target if app.attr else f"{target}()"
        return ("gunicorn", *(("--chdir", app.root) if not in_root else ()), "--bind",
                f"{ANY}:{port}", where)  # fmt: skip
    return None


def _suggestion(app: App, port: int, *, installed: Installed) -> str:
    """The command to pass when nothing the project depends on serves `app`."""
    name = app.attr or (f"{app.factory}" if app.factory else "app")
    if app.framework in ("Flask", "WSGI"):
        server, command = "gunicorn", serve(app, {"gunicorn"}, port, installed=installed)
    else:
        server, command = "uvicorn", serve(app, {"uvicorn"}, port, installed=installed)
    if command is None:  # no module-level name to import: guess the usual one
        command = serve(
            App(app.file, app.framework, name, None, app.module, app.root),
            {"uvicorn", "gunicorn"},
            port,
            installed=installed,
        )
    assert command is not None
    return f"`uv add {server}`, then `devbox init --command {shlex.quote(shlex.join(command))}`"


def choose_app(
    project_dir: Path,
    deps: set[str],
    port: int,
    *,
    package: str | None,
    installed: Installed,
    members: Sequence[str] = (),
) -> Found | None:
    """The first app something serves, with hints naming the others (and apps nothing
    serves) as the exact `--command` to pass; a plain script at the top comes last.
    `members`: workspace member folders whose apps count too (after the project's own)."""
    chosen: Found | None = None
    hints: list[str] = []
    framework_itself = Path(package).name if package else None  # pallets/flask's own source
    for app in find_apps(project_dir, package, members):
        if app.framework.lower() == framework_itself:
            continue
        command = serve(app, deps, port, installed=installed)
        what = f"{app.file}: a Django project" if app.framework == "Django" else (
            f"{app.file} creates a {app.framework} app"
            if app.framework not in ("ASGI", "WSGI")
            else f"{app.file} is an {app.framework} entry point"
        )  # fmt: skip
        if command is None and app.framework in ("ASGI", "WSGI") and "django" in deps:
            continue  # Django's own entry points: manage.py serves in development
        if command is None:
            missing = (
                "not as a module-level name or a create_app() factory"
                if app.attr is None and app.factory is None
                else "nothing in the dependencies serves it"
            )
            hints.append(f"{what}, but {missing}: {_suggestion(app, port, installed=installed)}")
            continue
        if chosen is None:
            chosen = Found(command, what)
        elif len(hints) < 3 and command != chosen.command:
            hints.append(
                f"also found {what}; to run it instead: "
                f"`devbox init --command {shlex.quote(shlex.join(command))}`"
            )
    if chosen is None:
        for name in ROOT_SCRIPTS:
            if (project_dir / name).is_file():
                chosen = Found(("python", name), f"{name} is the project's script", served=False)
                break
    if chosen is None and not hints:  # nowhere usual: name what is further down
        for app in deeper_apps(project_dir):
            command = serve(app, deps, port, installed=installed)
            what = f"{app.file} creates a {app.framework} app"
            hints.append(
                f"found {what}; to serve it: "
                f"`devbox init --command {shlex.quote(shlex.join(command))}`"
                if command is not None
                else f"found {what}, but nothing in the dependencies serves it: "
                + _suggestion(app, port, installed=installed)
            )
    if chosen is None:
        return Found(None, "", tuple(hints), served=False) if hints else None
    return Found(chosen.command, chosen.why, tuple(hints), chosen.served)
