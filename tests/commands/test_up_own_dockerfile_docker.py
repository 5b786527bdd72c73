"""A project's own Dockerfile without devbox's `dev`/`prod` stages, against a real engine:
init keeps it and compose.yaml builds it as it is, `up` develops it in both modes, smoke
checks its last stage; a compose file that asks for a missing stage, and a build that
fails, end `up` with exit 5 and the fix (issue #22)."""

from pathlib import Path

import pytest

from devbox.errors import ExitCode
from tests.conftest import free_port
from tests.support import http_json, run_devbox, wait_for

pytestmark = pytest.mark.docker

OWN_DOCKERFILE = """\
FROM python:3.13-slim-trixie
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /bin/
ENV UV_LINK_MODE=copy
WORKDIR /app
COPY . .
RUN uv sync --locked
ENV PATH=/app/.venv/bin:$PATH
CMD ["sample-app", "--reload"]
"""


devbox = run_devbox


@pytest.fixture(params=["compose", "watch", "fallback"])
def mode(request: pytest.FixtureRequest) -> list[str]:
    """compose: plain `up` under Compose 2.40; watch: `--mode watch`; fallback: plain `up`
    under Compose 2.21. The `up` options that choose it."""
    request.getfixturevalue("compose_2_21" if request.param == "fallback" else "compose_2_40")
    return ["--mode", "watch"] if request.param == "watch" else []


@pytest.fixture
def own(sample_copy: Path) -> tuple[Path, int]:
    """The sample with a Dockerfile of its own (one unnamed stage), after `devbox init`."""
    pyproject = sample_copy / "pyproject.toml"
    text = pyproject.read_text()
    pyproject.write_text(text[: text.index("[tool.devbox]")])
    (sample_copy / "Dockerfile").write_text(OWN_DOCKERFILE)
    init = devbox(sample_copy, "init")
    assert init.returncode == 1, init.stderr  # the Dockerfile is kept: it differs from devbox's
    assert "Dockerfile: no `dev` stage, so up develops it as it is" in init.stderr
    assert "`devbox init --force` replaces it" in init.stderr
    assert (sample_copy / "Dockerfile").read_text() == OWN_DOCKERFILE
    compose = sample_copy / "compose.yaml"
    assert "target: dev" not in compose.read_text()
    port = free_port()
    compose.write_text(compose.read_text().replace("127.0.0.1:8000:8000", f"127.0.0.1:{port}:8000"))
    return sample_copy, port


def test_a_dockerfile_without_a_dev_stage_is_developed_as_it_is(
    own: tuple[Path, int], mode: list[str]
) -> None:
    project, port = own
    started = devbox(project, "up", "--detach", *mode)
    try:
        assert started.returncode == 0, started.stderr
        wait_for(
            lambda: http_json(port, "/") == {"message": "hello from sample-app"},
            timeout=60,
            what="the app built from the project's own Dockerfile",
        )
        app_py = project / "src" / "sample_app" / "app.py"
        app_py.write_text(app_py.read_text().replace("hello from", "edited in"))
        wait_for(
            lambda: http_json(port, "/") == {"message": "edited in sample-app"},
            timeout=30,
            what="the edit to be served",
        )
    finally:
        assert devbox(project, "down").returncode == 0


def test_a_target_the_dockerfile_lacks_is_exit_5_with_the_fix(
    own: tuple[Path, int], mode: list[str]
) -> None:
    project, _ = own
    compose = project / "compose.yaml"
    compose.write_text(
        compose.read_text().replace("      context: .\n", "      context: .\n      target: dev\n")
    )
    result = devbox(project, "up", *mode)
    assert result.returncode == ExitCode.BUILD, result.stderr
    assert result.stderr == (
        f"devbox: compose.yaml: services.sample-app.build.target is 'dev', but "
        f"{project / 'Dockerfile'} has no such stage (it names no stage); remove `target: dev` "
        "from compose.yaml to develop the Dockerfile as it is, or add a stage `FROM ... AS dev`, "
        "or run `devbox init --force` to replace it with devbox's dev and prod stages (yours "
        "kept as Dockerfile.bak)\n"
    )


def test_a_failed_build_is_exit_5_in_every_mode(own: tuple[Path, int], mode: list[str]) -> None:
    project, _ = own
    dockerfile = project / "Dockerfile"
    dockerfile.write_text(OWN_DOCKERFILE.replace("RUN uv sync --locked", "RUN exit 3"))
    result = devbox(project, "up", *mode)
    assert result.returncode == ExitCode.BUILD, result.stdout + result.stderr
    last = result.stderr.splitlines()[-1]
    assert last.startswith("devbox: ") and "did not build" in last, result.stderr
    assert last.endswith(
        "fix the Dockerfile or the dependencies (build output above), then `devbox up` again"
    )


def test_smoke_checks_the_last_stage_of_a_dockerfile_without_prod(own: tuple[Path, int]) -> None:
    project, _ = own
    result = devbox(project, "smoke", "--rm-image")
    assert result.returncode == 0, result.stderr
    assert "(its last stage)" in result.stderr
    assert "smoke test passed" in result.stderr


def test_a_copy_of_env_is_named_at_init_and_the_build_stops_there(
    sample_copy: Path, compose_2_40: str
) -> None:
    """Saicasm/summarizer: `COPY .env .` in the project's Dockerfile. init keeps .env out
    of the build context (a secret), so it names the line and the fix; the real build
    indeed stops there: exit 5, .env not found; without the line, init says nothing."""
    pyproject = sample_copy / "pyproject.toml"
    text = pyproject.read_text()
    pyproject.write_text(text[: text.index("[tool.devbox]")])
    (sample_copy / ".env").write_text("SECRET_TOKEN=not-for-images\n")
    own = OWN_DOCKERFILE.replace("COPY . .\n", "COPY .env .\nCOPY . .\n")
    (sample_copy / "Dockerfile").write_text(own)
    init = devbox(sample_copy, "init")
    assert (
        "devbox: Dockerfile: line 5 copies .env, which .dockerignore keeps out of the build "
        "context (a secret: none enters an image), so the build stops there: remove the line; "
        "the container reads it through env_file at run time\n" in init.stderr
    ), init.stderr
    result = devbox(sample_copy, "up")
    assert result.returncode == ExitCode.BUILD, result.stdout + result.stderr
    assert ".env" in result.stdout + result.stderr and "not found" in result.stdout + result.stderr
    (sample_copy / "Dockerfile").write_text(own.replace("COPY .env .\n", ""))  # the fix
    assert "copies .env" not in devbox(sample_copy, "init").stderr
