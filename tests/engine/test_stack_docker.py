"""The Compose around the fallback reads what the project's files include: Compose 2.21
rejects `develop` in an included file and Compose v1 has no `include:` at all, so the
files devbox hands them have both resolved, each path from its own file's folder."""

import shutil
from pathlib import Path

import pytest

from devbox.engine.client import Engine
from devbox.engine.stack import Stack
from devbox.errors import ConfigError
from devbox.project.compose import load_compose
from devbox.project.locate import locate

pytestmark = pytest.mark.docker

INCLUDED = """\
services:
  app:
    build: .
    env_file: ./app.env
    volumes:
      - ./data:/data
    develop:
      watch:
        - {action: sync, path: ./src, target: /app/src}
"""


def project(tmp_path: Path) -> Engine:
    (tmp_path / "compose.yaml").write_text("name: stackinc\ninclude:\n  - sub/compose.yaml\n")
    sub = tmp_path / "sub"
    (sub / "src").mkdir(parents=True)
    (sub / "compose.yaml").write_text(INCLUDED)
    (sub / "Dockerfile").write_text("FROM python:3.13-slim-trixie\n")
    (sub / "app.env").write_text("GREETING=from the included folder\n")
    return Engine.for_project(load_compose(locate(tmp_path)))


def check(resolved_app: object, tmp_path: Path) -> None:
    env = dict(resolved_app.environment)  # type: ignore[attr-defined]
    assert env.get("GREETING") == "from the included folder"
    volumes = resolved_app.volumes  # type: ignore[attr-defined]
    assert f"{(tmp_path / 'sub' / 'data').resolve()}:/data" in [
        v.split(":", 2)[0] + ":" + v.split(":", 2)[1] for v in volumes
    ], volumes


def test_compose_2_21_resolves_an_included_file_with_develop(
    tmp_path: Path, compose_2_21: str
) -> None:
    resolved = Stack(project(tmp_path), v1=False).resolve()
    check(resolved.services["app"], tmp_path)


def test_compose_v1_resolves_an_included_file(tmp_path: Path, no_compose_plugin: str) -> None:
    assert shutil.which("docker-compose"), "Compose v1 is provisioned by scripts/provision-engine"
    resolved = Stack(project(tmp_path), v1=True).resolve()
    check(resolved.services["app"], tmp_path)


def test_a_missing_required_env_file_is_a_config_error_with_its_fix(
    tmp_path: Path, compose_2_40: str
) -> None:
    """ClimenteA/django-starter's compose file requires webapp/.env, which a clone lacks."""
    (tmp_path / "compose.yaml").write_text(
        "services:\n  app:\n    image: python:3.13-slim-trixie\n    env_file: [./webapp/.env]\n"
    )
    engine = Engine.for_project(load_compose(locate(tmp_path)))
    with pytest.raises(ConfigError) as caught:
        Stack(engine, v1=False).resolve()
    assert "or give that `env_file` entry `required: false`" in caught.value.message
