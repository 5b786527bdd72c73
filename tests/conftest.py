"""Shared fixtures: a real Docker engine (never a mock), Compose setups, project trees.

Docker tests carry the `docker` marker. They skip when no engine answers, unless
DEVBOX_REQUIRE_DOCKER=1 (CI), where a missing engine fails them instead.
"""

import os
import shutil
import signal
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import NOT_OF_SAMPLE

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "sample_project"
ENGINE_ENV = (
    Path(os.environ.get("DEVBOX_ENGINE_HOME", Path.home() / ".cache" / "devbox-engine"))
    / "engine.env"
)


COMMENTED_COMPOSE = """\
# Our stack. Do not reorder.
name: shop
services:
  web:  # the app
    build: .
    ports:
      - "8000:8000"   # host:container
    environment:
      GREETING: 'hi'  # quoted on purpose
  db:
    image: postgres:16
    volumes: [data:/var/lib/postgresql/data]
volumes:
  data: {}
"""


def _load_env_file(path: Path, *, unless: str) -> None:
    """Apply a provisioning script's env file when the caller did not source it."""
    if unless in os.environ or not path.is_file():
        return
    for line in path.read_text().splitlines():
        if line.startswith("export "):
            key, _, value = line.removeprefix("export ").partition("=")
            os.environ[key] = os.path.expandvars(value.strip('"'))


# A test run started as a background job inherits SIGINT ignored, and so would every devbox
# it starts: Ctrl-C tests need it as a terminal has it (exec resets a handler to default).
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# scripts/provision-engine's, then scripts/provision-extra's (the second engine, Podman)
_load_env_file(ENGINE_ENV, unless="DEVBOX_DOCKER_CONFIG_COMPOSE_2_40")
_load_env_file(ENGINE_ENV.with_name("extra.env"), unless="DEVBOX_REMOTE_DOCKER_HOST")


def _missing_test_bed(problem: str) -> None:
    message = f"{problem}; run scripts/provision-extra"
    if os.environ.get("DEVBOX_REQUIRE_DOCKER") == "1":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture
def remote_engine(monkeypatch: pytest.MonkeyPatch) -> str:
    """DOCKER_HOST of the second dockerd, which cannot see the project folders under /tmp."""
    host = os.environ.get("DEVBOX_REMOTE_DOCKER_HOST")
    if not host:
        _missing_test_bed("no second engine (DEVBOX_REMOTE_DOCKER_HOST unset)")
    assert host is not None
    probe = subprocess.run(
        ["docker", "info"],
        env={**os.environ, "DOCKER_HOST": host},
        capture_output=True,
        check=False,
    )
    if probe.returncode != 0:
        _missing_test_bed(f"the second engine at {host} does not answer")
    monkeypatch.setenv("DOCKER_HOST", host)
    return host


@pytest.fixture
def podman_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Podman as devbox's engine. DOCKER_CONFIG stays as users have it: a Compose folder
    without config.json, which Podman 4.3's `run` alone refuses (devbox handles it)."""
    if shutil.which("podman") is None or not os.environ.get("CONTAINERS_CONF"):
        _missing_test_bed("no Podman test bed (podman or CONTAINERS_CONF missing)")
    monkeypatch.setenv("DEVBOX_ENGINE", "podman")


def _engine_problem() -> str | None:
    if shutil.which("docker") is None:
        return "no docker client on PATH"
    try:
        result = subprocess.run(["docker", "info"], capture_output=True, timeout=20, check=False)
    except subprocess.TimeoutExpired:
        return "`docker info` timed out"
    if result.returncode != 0:
        return result.stderr.decode(errors="replace").strip().splitlines()[-1]
    return None


@pytest.fixture(scope="session")
def docker_engine() -> None:
    """A reachable engine, or a skip (a failure when DEVBOX_REQUIRE_DOCKER=1)."""
    problem = _engine_problem()
    if problem is None:
        return
    message = f"no Docker engine ({problem}); run scripts/provision-engine"
    if os.environ.get("DEVBOX_REQUIRE_DOCKER") == "1":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session", autouse=True)
def _state_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Detached sessions' logs (state.log_path) go to a folder of the test run's own."""
    before = os.environ.get("XDG_STATE_HOME")
    os.environ["XDG_STATE_HOME"] = str(tmp_path_factory.mktemp("state-home"))
    yield
    if before is None:
        del os.environ["XDG_STATE_HOME"]
    else:
        os.environ["XDG_STATE_HOME"] = before


@pytest.fixture(autouse=True)
def _engine_for_docker_tests(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("docker"):
        request.getfixturevalue("docker_engine")


def _use_docker_config(monkeypatch: pytest.MonkeyPatch, variable: str) -> str:
    """Point DOCKER_CONFIG at the provisioned folder in `variable` (one per Compose setup)."""
    path = os.environ.get(variable)
    if not path:
        pytest.fail(f"{variable} is not set; run scripts/provision-engine", pytrace=False)
    monkeypatch.setenv("DOCKER_CONFIG", path)
    return path


@pytest.fixture
def compose_2_40(monkeypatch: pytest.MonkeyPatch) -> str:
    """Compose 2.40.3 as the `docker compose` plugin."""
    return _use_docker_config(monkeypatch, "DEVBOX_DOCKER_CONFIG_COMPOSE_2_40")


@pytest.fixture
def compose_2_21(monkeypatch: pytest.MonkeyPatch) -> str:
    """Compose 2.21.0 (no `compose watch`) as the plugin."""
    return _use_docker_config(monkeypatch, "DEVBOX_DOCKER_CONFIG_COMPOSE_2_21")


@pytest.fixture
def no_compose_plugin(monkeypatch: pytest.MonkeyPatch) -> str:
    """No `docker compose` plugin at all (Compose v1 may still be on PATH)."""
    return _use_docker_config(monkeypatch, "DEVBOX_DOCKER_CONFIG_NO_COMPOSE")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def remove_project_volumes(project: str) -> None:
    """Remove the named volumes of a test's own Compose project (uv's cache volume, which
    `devbox down` keeps on purpose), on each engine a test may have used."""
    hosts = [None, os.environ.get("DEVBOX_REMOTE_DOCKER_HOST")]
    for host in hosts if shutil.which("docker") else []:
        env = {**os.environ, **({"DOCKER_HOST": host} if host else {})}
        label = f"label=com.docker.compose.project={project}"
        listed = subprocess.run(
            ["docker", "volume", "ls", "-q", "--filter", label],
            capture_output=True, text=True, env=env, check=False,
        )  # fmt: skip
        names = listed.stdout.split()
        if names:
            subprocess.run(
                ["docker", "volume", "rm", *names], capture_output=True, env=env, check=False
            )


@pytest.fixture
def sample_copy(tmp_path: Path) -> Iterator[Path]:
    """A fresh copy of sample_project under a unique name (so Compose projects never
    collide), without the files devbox writes there (the demo runs init in it); its named
    volumes are removed after the test."""
    target = tmp_path / f"sample-{uuid.uuid4().hex[:8]}"
    shutil.copytree(
        SAMPLE,
        target,
        ignore=NOT_OF_SAMPLE,
    )
    yield target
    remove_project_volumes(target.name)


@pytest.fixture
def initialized_sample(sample_copy: Path) -> Iterator[tuple[Path, int]]:
    """sample_copy after `devbox init`, published on a free host port; removes its containers after."""
    from devbox.commands.init import init_project

    init_project(project_dir=sample_copy)
    port = free_port()
    compose = sample_copy / "compose.yaml"
    compose.write_text(compose.read_text().replace("127.0.0.1:8000:8000", f"127.0.0.1:{port}:8000"))
    yield sample_copy, port
    label = f"label=com.docker.compose.project={sample_copy.name}"
    ids = subprocess.run(
        ["docker", "ps", "-aq", "--filter", label], capture_output=True, text=True, check=False
    ).stdout.split()
    if ids:
        subprocess.run(["docker", "rm", "-fv", *ids], capture_output=True, check=False)
    remove_project_volumes(sample_copy.name)
