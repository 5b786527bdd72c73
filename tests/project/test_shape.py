"""init's reading of a project's shape: command, reloader, prod sources, local packages."""

# ruff: noqa: S104

from pathlib import Path

import pytest

from devbox.errors import ConfigError
from devbox.project.settings import read_settings
from devbox.project.shape import IDLE, reloading

BUILD = '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (root / "uv.lock").write_text("version = 1\n")
    return root


def project(name: str = "shop", deps: str = "[]", extra: str = "") -> str:
    return f'[project]\nname = "{name}"\nversion = "0"\ndependencies = {deps}\n{extra}'


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (("fastapi", "run", "src/shop", "--host", "0.0.0.0"),
         ("fastapi", "dev", "src/shop", "--host", "0.0.0.0")),
        (("fastapi", "run", "main.py"), ("fastapi", "dev", "main.py", "--host", "0.0.0.0")),
        (("uvicorn", "shop.main:app", "--host", "0.0.0.0"),
         ("uvicorn", "shop.main:app", "--host", "0.0.0.0", "--reload")),
        (("python", "-m", "uvicorn", "m:app"), ("python", "-m", "uvicorn", "m:app", "--reload")),
        (("gunicorn", "m:app"), ("gunicorn", "m:app", "--reload")),
        (("flask", "--app", "app", "run"), ("flask", "--app", "app", "run", "--debug")),
        (("python", "manage.py", "runserver", "0.0.0.0:8000", "--noreload"),
         ("python", "manage.py", "runserver", "0.0.0.0:8000")),
        (("shop",), ("shop",)),
    ],
)  # fmt: skip
def test_dev_command_turns_the_reloader_on(
    command: tuple[str, ...], expected: tuple[str, ...]
) -> None:
    assert reloading(command)[0] == expected


def test_console_script_app_keeps_the_venv_only(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {"pyproject.toml": project(extra='[project.scripts]\nshop = "shop:main"\n' + BUILD)},
    )
    settings = read_settings(root)
    assert (settings.command, settings.prod_sources) == (("shop",), False)
    assert (
        "prod image: the virtual environment only (shop is an installed console script)"
        in settings.notes
    )


def test_command_naming_a_source_path_keeps_the_sources(tmp_path: Path) -> None:
    extra = BUILD + '[tool.devbox]\ncommand = "fastapi run src/shop --host 0.0.0.0"\n'
    root = write(tmp_path, {"pyproject.toml": project(extra=extra), "src/shop/__init__.py": ""})
    settings = read_settings(root)
    assert settings.prod_sources
    assert settings.dev_command == ("fastapi", "dev", "src/shop", "--host", "0.0.0.0")
    assert (
        "prod image: virtual environment and sources, because the command names project files (src/shop)"
        in settings.notes
    )


def test_console_script_naming_a_project_file_keeps_the_sources(tmp_path: Path) -> None:
    extra = (
        '[project.scripts]\nshop = "shop:main"\n'
        + BUILD
        + '[tool.devbox]\ncommand = "shop --config shop.toml"\n'
    )
    root = write(tmp_path, {"pyproject.toml": project(extra=extra), "shop.toml": ""})
    assert read_settings(root).prod_sources


@pytest.mark.parametrize(
    ("files", "command", "dev"),
    [
        ({"main.py": "print(1)\n"}, ("python", "main.py"), ("python", "main.py")),
        ({"main.py": "app = FastAPI()\n"}, ("uvicorn", "main:app", "--host", "0.0.0.0", "--port", "8000"),
         ("uvicorn", "main:app", "--host", "0.0.0.0", "--port", "8000", "--reload")),
        ({"app.py": "app = Flask(__name__)\n"}, ("flask", "--app", "app", "run", "--host", "0.0.0.0", "--port", "8000"),
         ("flask", "--app", "app", "run", "--host", "0.0.0.0", "--port", "8000", "--debug")),
        ({"manage.py": "import django\n"}, ("python", "manage.py", "runserver", "0.0.0.0:8000", "--noreload"),
         ("python", "manage.py", "runserver", "0.0.0.0:8000")),
    ],
)  # fmt: skip
def test_non_packaged_apps(
    tmp_path: Path, files: dict[str, str], command: tuple[str, ...], dev: tuple[str, ...]
) -> None:
    root = write(tmp_path, {"pyproject.toml": project(deps='["uvicorn", "fastapi"]'), **files})
    settings = read_settings(root)
    assert (settings.command, settings.dev_command, settings.prod_sources) == (command, dev, True)


def test_fastapi_cli_when_installed(tmp_path: Path) -> None:
    pyproject = project(deps='["fastapi[standard]"]')
    root = write(tmp_path, {"pyproject.toml": pyproject, "main.py": "app = FastAPI()\n"})
    settings = read_settings(root)
    assert settings.command[:3] == ("fastapi", "run", "main.py")
    assert settings.dev_command[:3] == ("fastapi", "dev", "main.py")


@pytest.mark.parametrize(
    ("deps", "file", "command"),
    [
        ('["fastapi[standard]"]', "src/shop/main.py", ("fastapi", "run", "src/shop/main.py")),
        ('["fastapi[standard]"]', "src/shop/__init__.py", ("fastapi", "run", "src/shop")),
        ('["fastapi", "uvicorn"]', "src/shop/main.py", ("uvicorn", "shop.main:app")),
        ('["fastapi", "uvicorn"]', "shop/__init__.py", ("uvicorn", "shop:app")),
    ],
)
def test_fastapi_app_in_the_package(
    tmp_path: Path, deps: str, file: str, command: tuple[str, ...]
) -> None:
    package = file.rsplit("/", 1)[0]
    root = write(
        tmp_path,
        {
            "pyproject.toml": project("shop", deps=deps, extra=BUILD),
            f"{package}/__init__.py": "",
            file: "from fastapi import FastAPI\n\napp = FastAPI()\n",
        },
    )
    settings = read_settings(root)
    assert settings.command == (*command, "--host", "0.0.0.0", "--port", "8000")
    assert settings.prod_sources  # the command names the package's folder or is not a script


def test_library_is_a_dev_container_whose_smoke_imports_it(tmp_path: Path) -> None:
    root = write(
        tmp_path, {"pyproject.toml": project("my-lib", extra=BUILD), "my_lib/__init__.py": ""}
    )
    settings = read_settings(root)
    assert settings.command == IDLE
    assert settings.smoke == ("python", "-c", "import my_lib")


def test_path_dependency_is_left_out_of_the_lock_layer(tmp_path: Path) -> None:
    extra = '[tool.uv.sources]\nlib = { path = "packages/lib", editable = true }\n'
    root = write(
        tmp_path,
        {
            "pyproject.toml": project(deps='["lib"]', extra=extra),
            "packages/lib/pyproject.toml": project("lib"),
        },
    )
    assert read_settings(root).local_deps


def test_virtual_workspace_root_picks_the_member_with_a_script(tmp_path: Path) -> None:
    member = project("api", extra='[project.scripts]\napi = "api:main"\n' + BUILD)
    root = write(tmp_path, {
        "pyproject.toml": '[tool.uv.workspace]\nmembers = ["packages/*"]\n',
        "packages/api/pyproject.toml": member,
        "packages/core/pyproject.toml": project("core", extra=BUILD),
    })  # fmt: skip
    settings = read_settings(root)
    assert (settings.command, settings.package, settings.prod_sources) == (("api",), "api", False)
    assert settings.name == tmp_path.name and settings.local_deps


def test_virtual_workspace_root_without_an_app_syncs_all_packages(tmp_path: Path) -> None:
    root = write(tmp_path, {
        "pyproject.toml": '[tool.uv.workspace]\nmembers = ["packages/*"]\n',
        "packages/core/pyproject.toml": project("core", extra=BUILD),
    })  # fmt: skip
    settings = read_settings(root)
    assert settings.all_packages and settings.command == IDLE
    assert settings.smoke == ("python", "-c", "import core")


FASTAPI = "from fastapi import FastAPI\n\napp = FastAPI()\n"


@pytest.mark.parametrize(
    ("deps", "packaged", "command"),
    [
        # uv installs the member's package `app`: imported as it is from the project folder
        ('["fastapi", "uvicorn"]', True, ("uvicorn", "app.main:app")),
        ('["fastapi[standard]"]', True, ("fastapi", "run", "backend/app/main.py")),
        # a member uv does not build: its folder is where `app` imports from
        ('["fastapi", "uvicorn"]', False, ("uvicorn", "--app-dir", "backend", "app.main:app")),
    ],
)
def test_virtual_workspace_root_serves_the_app_of_a_member(
    tmp_path: Path, deps: str, packaged: bool, command: tuple[str, ...]
) -> None:
    """fastapi/full-stack-fastapi-template: the root holds only the workspace, the member
    backend/ holds the app as a flat package `app` (no console script)."""
    root = write(tmp_path, {
        "pyproject.toml": '[tool.uv.workspace]\nmembers = ["backend"]\n',
        "backend/pyproject.toml": project("app", deps, extra=BUILD if packaged else ""),
        "backend/app/__init__.py": "",
        "backend/app/main.py": FASTAPI,
        "backend/tests/__init__.py": "",
    })  # fmt: skip
    settings = read_settings(root)
    assert settings.command == (*command, "--host", "0.0.0.0", "--port", "8000")
    assert settings.all_packages and settings.prod_sources


@pytest.mark.parametrize("root_extra", ["[tool.uv]\npackage = false\n", ""])
def test_a_root_with_nothing_of_its_own_is_virtual(tmp_path: Path, root_extra: str) -> None:
    """leehuwuj/python-uv-monorepo-template: the root has a [project] with no dependencies
    that uv never builds (`package = false`, or no build system), the app is in member
    src/api: as a virtual root, every member is synced and the member's app served."""
    root = write(tmp_path, {
        "pyproject.toml": project(extra=root_extra + '[tool.uv.workspace]\nmembers = ["src/*"]\n'),
        "src/api/pyproject.toml": project("api", '["fastapi", "uvicorn"]', extra="[tool.uv]\npackage = false\n"),
        "src/api/app/__init__.py": "",
        "src/api/app/main.py": FASTAPI,
        "src/core/pyproject.toml": project("core", extra=BUILD),
        "src/core/core/__init__.py": "",
    })  # fmt: skip
    settings = read_settings(root)
    assert settings.all_packages
    assert settings.command[:4] == ("uvicorn", "--app-dir", "src/api", "app.main:app")


def test_a_root_with_dependencies_of_its_own_is_not_virtual(tmp_path: Path) -> None:
    root = write(tmp_path, {
        "pyproject.toml": project(deps='["six"]', extra='[tool.uv.workspace]\nmembers = ["api"]\n'),
        "api/pyproject.toml": project("api", '["fastapi", "uvicorn"]'),
        "api/app/__init__.py": "",
        "api/app/main.py": FASTAPI,
    })  # fmt: skip
    assert not read_settings(root).all_packages


def test_a_members_app_counts_only_when_uv_installs_the_member(tmp_path: Path) -> None:
    """A root with its own [project] installs the members it depends on, not the others."""
    files = {
        "pyproject.toml": project(extra='[tool.uv.workspace]\nmembers = ["api"]\n' + BUILD),
        "shop/__init__.py": "",
        "api/pyproject.toml": project("api", '["fastapi", "uvicorn"]', extra=BUILD),
        "api/api/__init__.py": FASTAPI,
    }
    assert read_settings(write(tmp_path / "a", files)).command == IDLE
    files["pyproject.toml"] = project(
        deps='["api"]', extra='[tool.uv.workspace]\nmembers = ["api"]\n' + BUILD
    )
    command = read_settings(write(tmp_path / "b", files)).command
    assert command[:2] == ("uvicorn", "api:app")


def test_missing_member_is_one_line(tmp_path: Path) -> None:
    root = write(
        tmp_path, {"pyproject.toml": project(extra='[tool.uv.workspace]\nmembers = ["a"]\n')}
    )
    with pytest.raises(ConfigError, match=r"tool\.uv\.workspace\.members: a does not exist"):
        read_settings(root)


def test_your_dockerfiles_cmd_is_the_command_not_a_script_beside_it(tmp_path: Path) -> None:
    """astral-sh/uv-docker-example: a console script `hello`, and a Dockerfile whose CMD
    serves the app; the CMD is what the project runs, so smoke tests it; `uv run fastapi
    dev` already reloads. Both values are the user's word (unmarked when recorded)."""
    root = write(tmp_path, {
        "pyproject.toml": project(deps='["fastapi[standard]"]', extra=BUILD + '[project.scripts]\nhello = "shop:hello"\n'),
        "src/shop/__init__.py": "def hello() -> None: ...\n",
        "Dockerfile": 'FROM python:3.12-slim\nCMD ["uv", "run", "fastapi", "dev", "--host", "0.0.0.0", "src/shop"]\n',
    })  # fmt: skip
    settings = read_settings(root)
    assert settings.command == ("uv", "run", "fastapi", "dev", "--host", "0.0.0.0", "src/shop")
    assert settings.dev_command == settings.command
    assert settings.from_your_dockerfile == ("command", "python-image")
    assert settings.notes[0] == f"command: {' '.join(settings.command)}, your Dockerfile's CMD"


def test_a_web_app_beats_a_console_script_beside_it(tmp_path: Path) -> None:
    """astral-sh/uv-docker-example without its Dockerfile: a FastAPI app and a `hello`
    script that prints and exits; the app is what the dev loop serves (with its reloader),
    the script one flag away. A plain `main.py` at the top does not beat a script."""
    root = write(tmp_path, {
        "pyproject.toml": project(deps='["fastapi[standard]"]', extra=BUILD + '[project.scripts]\nhello = "shop:hello"\n'),
        "src/shop/__init__.py": "from fastapi import FastAPI\n\napp = FastAPI()\n\ndef hello() -> None: ...\n",
    })  # fmt: skip
    settings = read_settings(root)
    assert settings.command == ("fastapi", "run", "src/shop", "--host", "0.0.0.0", "--port", "8000")
    assert settings.dev_command[:2] == ("fastapi", "dev")
    assert (
        "command: also found console script hello; to run it instead: `devbox init --command hello`"
        in settings.notes
    )
    (root / "src/shop/__init__.py").write_text("def hello() -> None: ...\n")
    (root / "main.py").write_text("print('hi')\n")
    assert read_settings(root).command == ("hello",)
