from pathlib import Path

import pytest

from devbox import defaults
from devbox.errors import DevboxError, ExitCode
from devbox.project.apps import ANY
from devbox.project.detect import DEFAULT_PYTHON
from devbox.project.settings import python_image_for, read_settings, service_name

MINIMAL = '[project]\nname = "My_App"\nversion = "0"\n[project.scripts]\nmy-app = "my_app:main"\n'


def project(tmp_path: Path, pyproject: str, python_version: str | None = None) -> Path:
    (tmp_path / "pyproject.toml").write_text(pyproject)
    if python_version is not None:
        (tmp_path / ".python-version").write_text(python_version)
    return tmp_path


def error(tmp_path: Path, pyproject: str) -> DevboxError:
    with pytest.raises(DevboxError) as caught:
        read_settings(project(tmp_path, pyproject))
    assert caught.value.code is ExitCode.CONFIG
    return caught.value


def test_defaults_from_project_table(tmp_path: Path) -> None:
    settings = read_settings(project(tmp_path, MINIMAL))
    assert settings.service == "my-app"
    assert settings.command == ("my-app",)
    assert settings.dev_command == ("my-app",)
    assert settings.port == defaults.DEFAULT_PORT
    assert settings.python_image == python_image_for(DEFAULT_PYTHON) == "python:3.13-slim-trixie"


def test_python_version_file_picks_the_image(tmp_path: Path) -> None:
    settings = read_settings(project(tmp_path, MINIMAL, "3.12.4\n"))
    assert settings.python_image == "python:3.12-slim-trixie"


def test_tool_devbox_overrides(tmp_path: Path) -> None:
    extra = '[tool.devbox]\ndev-command = "my-app --reload"\nport = 9000\nservice = "web"\n'
    settings = read_settings(project(tmp_path, MINIMAL + extra))
    assert settings.dev_command == ("my-app", "--reload")
    assert (settings.port, settings.service) == (9000, "web")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("[tool.devbox]\nport = 0\n", "tool.devbox.port: 0 is not a port; use 1-65535"),
        ("[tool.devbox]\nport = true\n", "tool.devbox.port: True is not a port; use 1-65535"),
        (
            "[tool.devbox]\ncommand = []\n",
            'tool.devbox.command: must be a non-empty string or list of strings; e.g. "app --reload"',
        ),
        (
            "[tool.devbox]\nhealth-path = 'health'\n",
            "tool.devbox.health-path: 'health' is not a path; e.g. \"/health\"",
        ),
        (
            "[tool.devbox]\nprot = 1\n",
            "tool.devbox.prot: unknown key; use one of app-port, command, dev-command, engine, "
            "health-path, package, port, prod-sources, python-image, service, smoke, uv-digest, uv-version, "
            "writes-back",
        ),
    ],
)
def test_invalid_tool_devbox(tmp_path: Path, extra: str, message: str) -> None:
    assert error(tmp_path, MINIMAL + extra).message == f"{tmp_path / 'pyproject.toml'}: {message}"


def test_no_script_and_no_command_is_a_dev_container(tmp_path: Path) -> None:
    (tmp_path / "src" / "x").mkdir(parents=True)
    (tmp_path / "src" / "x" / "__init__.py").write_text("")
    settings = read_settings(project(tmp_path, '[project]\nname = "x"\n'))
    assert settings.command == settings.dev_command == ("sleep", "infinity")
    assert settings.smoke == ("python", "-c", "import x")
    assert settings.prod_sources


def test_invalid_toml(tmp_path: Path) -> None:
    assert error(tmp_path, "[project\n").message.startswith(
        f"{tmp_path / 'pyproject.toml'}: invalid TOML: "
    )


def test_missing_pyproject(tmp_path: Path) -> None:
    with pytest.raises(DevboxError) as caught:
        read_settings(tmp_path)
    assert caught.value.message == (
        f"{tmp_path / 'pyproject.toml'}: not found, and no requirements.txt either; devbox works on uv "
        "projects (run `uv init` first)"
    )


def test_names() -> None:
    assert service_name("Sample_App.Core") == "sample-app-core"
    assert python_image_for("3.11") == "python:3.11-slim-trixie"


def test_cli_overrides_win_and_are_validated(tmp_path: Path) -> None:
    project(tmp_path, MINIMAL + "[tool.devbox]\nport = 9000\n")
    assert read_settings(tmp_path, overrides={"port": 7000}).port == 7000
    with pytest.raises(DevboxError) as caught:
        read_settings(tmp_path, overrides={"uv-digest": "sha256:nope"})
    assert caught.value.message == (
        f"{tmp_path / 'pyproject.toml'}: tool.devbox.uv-digest: 'sha256:nope' is not a digest; "
        "use sha256:<64 hex>"
    )


def test_uv_digest_pins_the_image(tmp_path: Path) -> None:
    digest = "sha256:" + "a" * 64
    settings = read_settings(project(tmp_path, MINIMAL), overrides={"uv-digest": digest})
    assert settings.uv_image == f"ghcr.io/astral-sh/uv:{defaults.UV_VERSION}@{digest}"


def test_requirements_project_needs_a_command(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("bottle\n")
    with pytest.raises(DevboxError) as caught:
        read_settings(tmp_path)
    assert caught.value.message == (
        f"{tmp_path}: a requirements.txt project has no console script; "
        'pass --command "python app.py" (or set [tool.devbox] command)'
    )
    settings = read_settings(tmp_path, overrides={"command": "python app.py"})
    assert (settings.name, settings.command) == (tmp_path.name, ("python", "app.py"))


def test_a_requirements_projects_advice_names_its_own_script(tmp_path: Path) -> None:
    """Cloud-Native-Projekt/microservices-app: hello-world.py, no app.py."""
    (tmp_path / "requirements.txt").write_text("flask\n")
    (tmp_path / "hello-world.py").write_text("print('hi')\n")
    (tmp_path / "setup.py").write_text("")
    with pytest.raises(DevboxError) as caught:
        read_settings(tmp_path)
    assert 'pass --command "python hello-world.py" (or' in caught.value.message


DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    "image",
    [
        "python:3.13-slim-trixie",
        "python",
        "library/python:3.13",
        "ghcr.io/astral-sh/uv:0.13.9",
        "localhost:5000/team/py_base__x:v1.2",
        f"python:3.13@{DIGEST}",
        f"registry.example.com/py@{DIGEST}",
    ],
)
def test_image_references_docker_accepts(tmp_path: Path, image: str) -> None:
    settings = read_settings(project(tmp_path, MINIMAL), overrides={"python-image": image})
    assert settings.python_image == image


@pytest.mark.parametrize(
    "image",
    ["", "Python:3.13", "python:3.13 AS x", "python:\n", "a//b", "-x", "x:" + "t" * 129, "x@md5:1"],
)
def test_image_references_docker_refuses(tmp_path: Path, image: str) -> None:
    with pytest.raises(DevboxError, match=r"tool.devbox.python-image: .* is not an image ref"):
        read_settings(project(tmp_path, MINIMAL), overrides={"python-image": image})


@pytest.mark.parametrize("service", ["app", "my.app_2-x", "9"])
def test_service_names_compose_accepts(tmp_path: Path, service: str) -> None:
    assert read_settings(project(tmp_path, MINIMAL), overrides={"service": service}).service == (
        service
    )


@pytest.mark.parametrize("service", ["", "-app", "_a", "App", "a b", "a\n", "é"])
def test_service_names_compose_refuses(tmp_path: Path, service: str) -> None:
    with pytest.raises(DevboxError, match=r"tool.devbox.service: .* is not a Compose service"):
        read_settings(project(tmp_path, MINIMAL), overrides={"service": service})


@pytest.mark.parametrize("version", ["0.13", "v0.13.9", "0.13.9\n", "\u0660.1.2", 13])
def test_uv_version_must_be_exact(tmp_path: Path, version: object) -> None:
    with pytest.raises(DevboxError, match=r"tool.devbox.uv-version: .* is not a uv version"):
        read_settings(project(tmp_path, MINIMAL), overrides={"uv-version": version})


def test_a_bom_is_accepted_as_uv_accepts_it(tmp_path: Path) -> None:
    from devbox.project.settings import load_pyproject

    (tmp_path / "pyproject.toml").write_bytes(b'\xef\xbb\xbf[project]\nname = "shop"\n')
    assert load_pyproject(tmp_path) == {"project": {"name": "shop"}}


def test_port_is_the_host_port_and_the_app_keeps_its_own(tmp_path: Path) -> None:
    """`init --port 8101` on a console script: published on 8101, mapped to the port the
    app listens on (8000), not told to a script devbox cannot tell it to (issue #23)."""
    settings = read_settings(project(tmp_path, MINIMAL), overrides={"port": 8101})
    assert (settings.port, settings.app_port) == (8101, 8000)


def test_the_app_port_is_the_one_your_command_names(tmp_path: Path) -> None:
    extra = '[tool.devbox]\ncommand = "my-app serve --port 5000"\nport = 5000\n'
    settings = read_settings(project(tmp_path, MINIMAL + extra))
    assert (settings.port, settings.app_port) == (5000, 5000)
    extra = '[tool.devbox]\ncommand = "my-app serve --port 5000"\napp-port = 5001\n'
    assert read_settings(project(tmp_path, MINIMAL + extra)).app_port == 5001


def test_the_commands_init_writes_listen_on_the_app_port(tmp_path: Path) -> None:
    pyproject = '[project]\nname = "shop"\nversion = "0"\ndependencies = ["fastapi", "uvicorn"]\n'
    project(tmp_path, pyproject)
    (tmp_path / "main.py").write_text("from fastapi import FastAPI\n\napp = FastAPI()\n")
    (tmp_path / "uv.lock").write_text("version = 1\n")
    settings = read_settings(tmp_path, overrides={"port": 8101})
    assert settings.command[-2:] == ("--port", "8000")
    assert (settings.port, settings.app_port) == (8101, 8000)
    settings = read_settings(tmp_path, overrides={"app-port": 9000})
    assert settings.command[-2:] == ("--port", "9000")
    assert (settings.port, settings.app_port) == (8000, 9000)


def test_a_bad_app_port_is_one_line(tmp_path: Path) -> None:
    assert error(tmp_path, MINIMAL + "[tool.devbox]\napp-port = 0\n").message == (
        f"{tmp_path / 'pyproject.toml'}: tool.devbox.app-port: 0 is not a port; use 1-65535"
    )


def test_a_requirements_project_s_app_is_found_as_a_uv_project_s(tmp_path: Path) -> None:
    """avahak/tba: requirements.txt, a Flask factory in app/__init__.py, and run.py and
    config.py at the top: Flask serves the package (it finds create_app itself)."""
    (tmp_path / "requirements.txt").write_text("Flask==3.0\ngunicorn\n")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text(
        "from flask import Flask\n\ndef create_app():\n    return Flask(__name__)\n"
    )
    (tmp_path / "run.py").write_text("from app import create_app\n\napp = create_app()\n")
    (tmp_path / "config.py").write_text("DEBUG = True\n")
    settings = read_settings(tmp_path)
    listen = ("--host", ANY, "--port", "8000")
    assert settings.command == ("flask", "--app", "app", "run", *listen)
    assert settings.dev_command == (*settings.command, "--debug")
    assert (
        settings.notes[0]
        == f"command: {' '.join(settings.command)} (app/__init__.py creates a Flask app)"
    )
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "requirements.txt").write_text("requests\n")
    (plain / "main.py").write_text("print('hi')\n")
    assert read_settings(plain).command == ("python", "main.py")
