"""Which engine devbox talks to: the choice, the kind, local image names (no engine)."""

from pathlib import Path

import pytest

from devbox.engine import kind
from devbox.engine.kind import EngineInfo, EngineKind
from devbox.errors import ConfigError


def _project(tmp_path: Path, tool: str = "") -> Path:
    (tmp_path / "pyproject.toml").write_text(f'[project]\nname = "x"\n{tool}')
    return tmp_path


def _executable(path: Path) -> None:
    path.parent.mkdir(exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o700)


def test_the_engine_option_wins_then_the_variable_then_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _project(tmp_path, '[tool.devbox]\nengine = "podman"\n')
    monkeypatch.delenv(kind.ENGINE_ENV, raising=False)
    assert kind.choose_client(project) == ("podman", "chosen by [tool.devbox] engine")
    monkeypatch.setenv(kind.ENGINE_ENV, "docker")
    assert kind.choose_client(project) == ("docker", "chosen by --engine or DEVBOX_ENGINE")
    assert kind.choose_client(project, "podman") == ("podman", "chosen by --engine")


def test_podman_is_chosen_when_it_is_the_only_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(kind.ENGINE_ENV, raising=False)
    project = _project(tmp_path)
    _executable(tmp_path / "bin" / "podman")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert kind.choose_client(project) == ("podman", "Podman is the only engine installed")
    _executable(tmp_path / "bin" / "docker")
    assert kind.choose_client(project) == ("docker", "the default engine")


def test_an_unknown_engine_setting_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(kind.ENGINE_ENV, raising=False)
    project = _project(tmp_path, '[tool.devbox]\nengine = "lxc"\n')
    with pytest.raises(ConfigError) as caught:
        kind.choose_client(project)
    assert caught.value.message == (
        f"{project / 'pyproject.toml'}: tool.devbox.engine: 'lxc' is unknown; "
        'use "docker" or "podman"'
    )


@pytest.mark.parametrize(
    ("client", "location", "expected"),
    [
        ("docker", "unix:///var/run/docker.sock", EngineKind.DOCKER),
        ("docker", "tcp://build-box:2376", EngineKind.REMOTE),
        ("docker", "ssh://me@build-box", EngineKind.REMOTE),
        ("podman", "local", EngineKind.PODMAN),
    ],
)
def test_kind_of(client: str, location: str, expected: EngineKind) -> None:
    assert kind.kind_of(client, location) is expected


def test_docker_host_is_the_location(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "ssh://me@build-box")
    assert kind.location_of("docker") == "ssh://me@build-box"


def test_podman_images_get_a_registry_part() -> None:
    assert kind.local_image(("podman",), "devbox-a-b:dev") == "localhost/devbox-a-b:dev"
    assert kind.local_image(("podman",), "localhost/x:1") == "localhost/x:1"
    assert kind.local_image(("docker",), "devbox-a-b:dev") == "devbox-a-b:dev"


def test_the_answer_is_cached_per_engine_address(tmp_path: Path) -> None:
    kind._remember(tmp_path, "unix:///a.sock", "docker", False)
    assert kind.cached_answer(tmp_path, "unix:///a.sock", "docker") is False
    assert kind.cached_answer(tmp_path, "unix:///b.sock", "docker") is None


def test_describe_says_whether_the_engine_sees_the_project() -> None:
    info = EngineInfo(
        kind=EngineKind.REMOTE,
        client="docker",
        location="ssh://me@box",
        why="the default engine",
        sees_project=False,
    )
    assert info.describe(Path("/p")) == (
        "engine: Docker at ssh://me@box (remote), the default engine; "
        "it cannot see /p: sources are copied in"
    )


def test_podman_run_ignores_a_docker_config_folder_without_logins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    assert kind.podman_run_options(("podman",)) == ["--authfile", ""]
    assert kind.podman_run_options(("docker",)) == []
    (tmp_path / "config.json").write_text("{}")
    assert kind.podman_run_options(("podman",)) == []  # its logins are the user's to use
    monkeypatch.delenv("DOCKER_CONFIG")
    assert kind.podman_run_options(("podman",)) == []
