"""`.env` out of the image, still seen by the app: which projects read it (settings), the
env_file the compose template and the merge write, (the short form for old Compose: tests/engine/test_resolve.py)."""

from pathlib import Path

import pytest
import yaml

from devbox.project.merge import add_watch
from devbox.project.settings import read_settings, reads_dotenv
from devbox.project.templates import ENV_FILE, render_files

WATCH = [{"action": "sync", "path": ".", "target": "/app"}]


def project(root: Path, deps: str) -> Path:
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "shop"\nversion = "0"\ndependencies = {deps}\n'
    )
    (root / "uv.lock").write_text("version = 1\n")
    (root / "main.py").write_text("print(1)\n")
    return root


@pytest.mark.parametrize(
    ("deps", "why"),
    [
        ('["pydantic-settings>=2"]', "pydantic-settings in the dependencies"),
        ('["python_dotenv"]', "python-dotenv in the dependencies"),
        ('["environs"]', "environs in the dependencies"),
        ('["django-environ", "django"]', "django-environ in the dependencies"),
        ('["flask"]', None),
    ],
)
def test_which_projects_read_dotenv(tmp_path: Path, deps: str, why: str | None) -> None:
    assert read_settings(project(tmp_path, deps)).dotenv == why


def test_a_dotenv_file_is_read_too(tmp_path: Path) -> None:
    project(tmp_path, "[]")
    (tmp_path / ".env").write_text("A=1\n")
    assert reads_dotenv(tmp_path, {}, {}) == ".env is there"


def test_a_requirements_project_reads_its_requirements(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("flask\npython-dotenv==1.0 ; python_version > '3'\n")
    assert reads_dotenv(tmp_path, {}, {}) == "python-dotenv in the dependencies"


def test_the_compose_template_gives_the_dev_service_an_optional_env_file(tmp_path: Path) -> None:
    settings = read_settings(project(tmp_path, '["pydantic-settings"]'))
    compose = yaml.safe_load(render_files(settings, tmp_path, env_file=True)["compose.yaml"])
    assert compose["services"]["shop"]["env_file"] == [{"path": ".env", "required": False}]
    plain = yaml.safe_load(render_files(settings, tmp_path)["compose.yaml"])
    assert "env_file" not in plain["services"]["shop"]


def test_the_merge_adds_env_file_to_a_service_without_one() -> None:
    text = "services:\n  app:\n    build: .  # the app\n"
    merged = add_watch(text, file="compose.yaml", service="app", watch=WATCH, env_file=ENV_FILE)
    assert merged is not None and merged.added_env_file
    assert "# the app" in merged.text
    service = yaml.safe_load(merged.text)["services"]["app"]
    assert list(service) == ["build", "env_file", "develop"]
    assert service["env_file"] == [{"path": ".env", "required": False}]
    own = "services:\n  app:\n    build: .\n    env_file: app.env\n"
    kept = add_watch(own, file="compose.yaml", service="app", watch=WATCH, env_file=ENV_FILE)
    assert kept is not None and not kept.added_env_file
    assert yaml.safe_load(kept.text)["services"]["app"]["env_file"] == "app.env"
