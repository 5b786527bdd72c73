"""The engine client against the real engine and each provisioned Compose."""

from pathlib import Path

import pytest

from devbox.engine import client as engine
from devbox.engine.versions import Version
from devbox.errors import DevboxError, ExitCode

pytestmark = pytest.mark.docker


def make_engine(tmp_path: Path) -> engine.Engine:
    (tmp_path / "compose.yaml").write_text("services: {}\n")
    return engine.Engine(
        project_dir=tmp_path, compose_files=[tmp_path / "compose.yaml"], project_name="t"
    )


def test_server_version(tmp_path: Path) -> None:
    assert make_engine(tmp_path).server_version().startswith(("2", "1"))


def test_compose_2_40(tmp_path: Path, compose_2_40: str) -> None:
    assert make_engine(tmp_path).compose_version() == Version(2, 40, 3)


def test_compose_2_21(tmp_path: Path, compose_2_21: str) -> None:
    assert make_engine(tmp_path).compose_version() == Version(2, 21, 0)


def test_no_compose_plugin(tmp_path: Path, no_compose_plugin: str) -> None:
    assert make_engine(tmp_path).compose_version() is None


def test_compose_v1() -> None:
    assert engine.compose_v1_version() == Version(1, 29, 2)


def test_unreachable_engine_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    with pytest.raises(DevboxError) as caught:
        make_engine(tmp_path).server_version()
    assert caught.value.code is ExitCode.ENGINE
    assert caught.value.message.startswith("cannot reach the Docker engine: ")
    assert caught.value.message.endswith("start Docker (or set DOCKER_HOST / DOCKER_CONTEXT)")
