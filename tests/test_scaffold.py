from pathlib import Path

import pytest
import yaml

from devbox.errors import DevboxError
from devbox.scaffold import Outcome, init_project, render, templates_dir, write_file
from tests.conftest import SAMPLE


def test_render_replaces_placeholders() -> None:
    assert render("FROM {{image}} AS {{image}}x", {"image": "py"}) == "FROM py AS pyx"


def test_render_unknown_placeholder_is_a_bug() -> None:
    with pytest.raises(KeyError):
        render("{{nope}}", {})


def test_templates_have_no_leftover_placeholders(sample_copy: Path) -> None:
    init_project(project_dir=sample_copy)
    for name in ("Dockerfile", ".dockerignore", "compose.yaml"):
        assert "{{" not in (sample_copy / name).read_text()
    assert templates_dir().is_dir()


def test_sample_files(sample_copy: Path) -> None:
    results = init_project(project_dir=sample_copy)
    assert [(r.path.name, r.outcome) for r in results] == [
        ("Dockerfile", Outcome.CREATED),
        (".dockerignore", Outcome.CREATED),
        ("compose.yaml", Outcome.CREATED),
    ]
    dockerfile = (sample_copy / "Dockerfile").read_text()
    assert "COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /uvx /bin/" in dockerfile
    assert "uv sync --locked --no-install-project" in dockerfile
    assert "--mount=type=cache,target=/root/.cache/uv" in dockerfile
    assert "UV_COMPILE_BYTECODE=1" in dockerfile
    assert 'CMD ["sample-app", "--reload"]' in dockerfile
    assert "# syntax=" not in dockerfile
    assert ".venv" in (sample_copy / ".dockerignore").read_text().splitlines()
    compose = yaml.safe_load((sample_copy / "compose.yaml").read_text())
    assert compose["services"]["sample-app"]["develop"]["watch"] == [
        {"action": "sync", "path": ".", "target": "/app", "ignore": [".venv/"]},
        {"action": "rebuild", "path": "./pyproject.toml"},
        {"action": "rebuild", "path": "./uv.lock"},
    ]


def test_init_twice_is_unchanged(sample_copy: Path) -> None:
    init_project(project_dir=sample_copy)
    assert {r.outcome for r in init_project(project_dir=sample_copy)} == {Outcome.UNCHANGED}


def test_existing_file_is_kept_without_force(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("mine\n")
    assert write_file(path, "new\n", force=False).outcome is Outcome.DIFFERS
    assert path.read_text() == "mine\n"


def test_force_keeps_a_backup(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("mine\n")
    result = write_file(path, "new\n", force=True)
    assert result.message == "replaced (old file kept as Dockerfile.bak)"
    assert (path.read_text(), (tmp_path / "Dockerfile.bak").read_text()) == ("new\n", "mine\n")


def test_force_never_overwrites_a_backup(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("mine\n")
    (tmp_path / "Dockerfile.bak").write_text("older\n")
    with pytest.raises(DevboxError):
        write_file(path, "new\n", force=True)
    assert (path.read_text(), (tmp_path / "Dockerfile.bak").read_text()) == ("mine\n", "older\n")


def test_no_lock_file(sample_copy: Path) -> None:
    (sample_copy / "uv.lock").unlink()
    with pytest.raises(DevboxError) as caught:
        init_project(project_dir=sample_copy)
    assert caught.value.message.endswith(
        "uv.lock: not found; run `uv lock` first (the Dockerfile installs exactly what the lock says)"
    )


def test_sample_project_is_untouched() -> None:
    assert not (SAMPLE / "Dockerfile").exists()
