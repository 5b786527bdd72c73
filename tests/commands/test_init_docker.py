"""Files written by `devbox init` build with BuildKit, for each project shape, and run."""

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from devbox.commands.init import init_project
from tests.conftest import COMMENTED_COMPOSE, free_port
from tests.projects import requirements_project, workspace_project
from tests.support import http_json, wait_for

pytestmark = pytest.mark.docker


def docker(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, check=False)
    if check:
        assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.fixture
def tags() -> Iterator[list[str]]:
    made: list[str] = []
    yield made
    if made:
        docker("rmi", "--force", *made, check=False)


def build(project: Path, target: str, tags: list[str]) -> str:
    tag = f"devbox-test/{project.name.lower()}:{target}"
    result = subprocess.run(
        ["docker", "build", "--target", target, "--tag", tag, str(project)],
        capture_output=True,
        text=True,
        env={**os.environ, "DOCKER_BUILDKIT": "1"},
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    tags.append(tag)
    return tag


def assert_lean_prod(tag: str, *, sources_expected: bool = False) -> None:
    """Non-root, no uv binary, and (for packaged projects) no source tree."""
    script = "id -u; command -v uv || echo no-uv; test -d /app/src && echo src || echo no-src"
    out = docker("run", "--rm", tag, "sh", "-c", script).stdout.split()
    assert out[0] != "0"
    assert out[1] == "no-uv"
    assert out[2] == ("src" if sources_expected else "no-src")


def assert_serves_health(tag: str) -> None:
    port, name = free_port(), f"devbox-test-{os.getpid()}-{free_port()}"
    docker("run", "-d", "--rm", "--name", name, "-p", f"127.0.0.1:{port}:8000", tag)
    try:
        answer = wait_for(lambda: http_json(port, "/health"), timeout=30, what="/health")
        assert answer == {"status": "ok"}
    finally:
        docker("rm", "-f", name, check=False)


def test_uv_project(
    initialized_sample: tuple[Path, int], tags: list[str], compose_2_40: str
) -> None:
    project, _ = initialized_sample
    build(project, "dev", tags)
    prod = build(project, "prod", tags)
    assert_lean_prod(prod)
    assert_serves_health(prod)


def test_generated_compose_is_valid_for_compose_2_40(sample_copy: Path, compose_2_40: str) -> None:
    report = init_project(project_dir=sample_copy)
    assert "compose.yaml: valid for Compose 2.40.3" in report.notes
    assert (
        docker("compose", "--project-directory", str(sample_copy), "config", "--quiet").returncode
        == 0
    )


def test_workspace(tmp_path: Path, tags: list[str]) -> None:
    project = workspace_project(tmp_path / "ws")
    init_project(project_dir=project)
    dev = build(project, "dev", tags)
    prod = build(project, "prod", tags)
    assert docker("run", "--rm", dev, "ws-app").stdout == "hi from greeter\n"
    assert docker("run", "--rm", prod, "ws-app").stdout == "hi from greeter\n"
    assert_lean_prod(prod)


def test_requirements_project(tmp_path: Path, tags: list[str]) -> None:
    project = requirements_project(tmp_path / "reqs")
    init_project(project_dir=project, overrides={"command": "python app.py"})
    build(project, "dev", tags)
    prod = build(project, "prod", tags)
    assert_lean_prod(prod, sources_expected=False)
    assert docker("run", "--rm", prod, "test", "-f", "/app/app.py").returncode == 0
    assert_serves_health(prod)


def test_commented_compose_project(sample_copy: Path, tags: list[str], compose_2_40: str) -> None:
    (sample_copy / "compose.yaml").write_text(COMMENTED_COMPOSE)
    report = init_project(project_dir=sample_copy)
    assert "compose.yaml: valid for Compose 2.40.3" in report.notes
    assert "# the app" in (sample_copy / "compose.yaml").read_text()
    result = docker("compose", "--project-directory", str(sample_copy), "build", "web")
    assert result.returncode == 0
    tags.append(f"{sample_copy.name}-web")
    assert_lean_prod(build(sample_copy, "prod", tags))


def test_check_reads_what_compose_builds(tmp_path: Path, compose_2_40: str) -> None:
    """`init --check` on a project whose service builds ctx/docker/Dockerfile.dev, with an
    override that holds the watch rules: the files it reads are the ones Compose's own
    resolved model names, and each finding names the file that holds its rule."""
    import json

    from devbox.commands.init import check_project
    from devbox.project.check import build_files
    from devbox.project.compose import load_compose
    from devbox.project.locate import locate

    (tmp_path / "pyproject.toml").write_text('[project]\nname = "web"\nversion = "0"\n')
    (tmp_path / "ctx" / "docker").mkdir(parents=True)
    (tmp_path / "ctx" / "docker" / "Dockerfile.dev").write_text("FROM python:3.13-slim-trixie\n")
    (tmp_path / "compose.yaml").write_text(
        "services:\n  web:\n    build: {context: ./ctx, dockerfile: docker/Dockerfile.dev}\n"
    )
    (tmp_path / "compose.override.yaml").write_text(
        "services:\n  web:\n    develop:\n      watch:\n"
        "        - {action: sync, path: ., target: /app}\n"
    )
    resolved = json.loads(
        docker("compose", "--project-directory", str(tmp_path), "config", "--format", "json").stdout
    )["services"]["web"]["build"]
    dockerfile, _ = build_files(load_compose(locate(tmp_path)), "web", tmp_path)
    assert dockerfile == Path(resolved["context"]) / resolved["dockerfile"]

    found = [str(f) for f in check_project(project_dir=tmp_path)]
    assert any(f.startswith("ctx/docker/Dockerfile.dev: no `dev` target") for f in found), found
    assert (
        "ctx/.dockerignore: missing: .venv and secrets reach the build context; devbox init"
        in found
    )
    assert any(f.startswith("compose.override.yaml: a sync rule does not ignore") for f in found)
    assert not any(f.startswith(("Dockerfile:", ".dockerignore:")) for f in found), found
