"""`devbox init --check`: the developed service must build the Dockerfile's dev stage."""

from pathlib import Path

import pytest

from devbox.commands.init import init_project
from devbox.project.check import (
    check_build_target,
    check_compose,
    ignored_copies,
    last_stage_name,
    missing_stage,
)
from devbox.project.compose import load_compose
from devbox.project.dockerignore import PatternMatcher, parse_ignore_text
from devbox.project.locate import locate
from devbox.project.secrets import block_lines

DEV_PROD = "FROM python:3.13 AS dev\nFROM python:3.13 AS builder\nFROM python:3.13 AS prod\n"
WATCH = "    develop:\n      watch:\n        - {action: rebuild, path: ./uv.lock}\n"


def findings(folder: Path, build: str, dockerfile: str | None = DEV_PROD) -> list[str]:
    if dockerfile is not None:
        (folder / "Dockerfile").write_text(dockerfile)
    (folder / "compose.yaml").write_text(f"services:\n  web:\n    {build}\n{WATCH}")
    project = load_compose(locate(folder))
    return [str(f) for f in check_build_target(project, service="web")]


def test_last_stage_name() -> None:
    assert last_stage_name(DEV_PROD) == "prod"
    assert last_stage_name("FROM a AS dev\nFROM b\n") is None
    assert last_stage_name("") is None


def test_no_target_builds_the_last_stage(tmp_path: Path) -> None:
    assert findings(tmp_path, "build: .") == [
        "compose.yaml: services.web has no build target, so Compose builds the Dockerfile's "
        "last stage (`prod`), not `dev`: edits never reach the running code; "
        "run `devbox init --fix` to set `target: dev` under services.web.build"
    ]


def test_target_prod(tmp_path: Path) -> None:
    assert findings(tmp_path, "build: {context: ., target: prod}") == [
        "compose.yaml: services.web builds the `prod` stage, so edits never reach the running "
        "code; run `devbox init --fix` to set `target: dev` under services.web.build"
    ]


def test_target_prod_without_a_dev_stage_says_to_get_one_first(tmp_path: Path) -> None:
    assert findings(tmp_path, "build: {context: ., target: prod}", dockerfile=None) == [
        "compose.yaml: services.web builds the `prod` stage, so edits never reach the running "
        "code; add a `dev` stage to Dockerfile (`devbox init --force` writes devbox's, yours "
        "kept as Dockerfile.bak), then set `target: dev` under services.web.build"
    ]


def test_the_file_that_sets_the_target_is_named(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(DEV_PROD)
    (tmp_path / "compose.yaml").write_text(
        f"services:\n  web:\n    build: {{context: ., target: prod}}\n{WATCH}"
    )
    (tmp_path / "compose.override.yaml").write_text("services:\n  web:\n    build: .\n")
    project = load_compose(locate(tmp_path))
    assert check_build_target(project, service="web")[0].file == "compose.yaml"
    (tmp_path / "compose.override.yaml").write_text(
        "services:\n  web:\n    build: {target: prod}\n"
    )
    project = load_compose(locate(tmp_path))
    assert check_build_target(project, service="web")[0].file == "compose.override.yaml"


@pytest.mark.parametrize(
    ("build", "dockerfile"),
    [
        ("build: {context: ., target: dev}", DEV_PROD),
        ("build: .", "FROM python:3.13 AS prod\nFROM python:3.13 AS dev\n"),  # dev is last
        ("build: .", "FROM python:3.13\n"),  # no dev stage: the Dockerfile check says so
        ("build: .", None),  # no Dockerfile yet
        ("build: {context: ., target: test}", "FROM python:3.13 AS test\n"),
        ("image: shop", DEV_PROD),  # nothing built
    ],
)
def test_builds_what_it_should(tmp_path: Path, build: str, dockerfile: str | None) -> None:
    assert findings(tmp_path, build, dockerfile) == []


def test_other_dockerfile_is_read(tmp_path: Path) -> None:
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "Dev.Dockerfile").write_text(DEV_PROD)
    build = "build: {context: ./docker, dockerfile: Dev.Dockerfile}"
    assert len(findings(tmp_path, build, dockerfile=None)) == 1


def test_check_compose_includes_it(tmp_path: Path) -> None:
    findings(tmp_path, "build: .")
    problems = [f.problem for f in check_compose(load_compose(locate(tmp_path)), service="web")]
    assert problems[-1].startswith("services.web has no build target")


def test_lock_rebuild_reported_where_sync_exec_exists(tmp_path: Path) -> None:
    findings(tmp_path, "build: {context: ., target: dev}")
    project = load_compose(locate(tmp_path))
    assert [str(f) for f in check_compose(project, service="web", sync_exec=True)] == [
        "compose.yaml: ./uv.lock rebuilds the image on every lock change; with Compose >= 2.32 "
        "use a sync+exec rule running `uv sync --locked` (devbox init --force writes one; back "
        "up your edits first)"
    ]
    assert check_compose(project, service="web", sync_exec=False) == []


SYNC_EXEC_COMPOSE = (
    "services:\n  web:\n    build: {context: ., target: dev}\n{volumes}    develop:\n"
    "      watch:\n"
    "        - {action: sync, path: ., target: /app, ignore: [.venv/]}\n"
    "        - {action: sync+exec, path: ./uv.lock, target: /app/uv.lock,"
    " exec: {command: [uv, sync, --locked], user: root}}\n"
)


@pytest.mark.parametrize(
    "volumes",
    [
        "    volumes: [uv-cache:/opt/uv-cache]\n",
        "    volumes: [{type: volume, source: c, target: /root/.cache/uv/}]\n",
        "    environment: {UV_CACHE_DIR: /cache}\n    volumes: [c:/cache:rw]\n",
    ],
)
def test_sync_exec_on_the_lock_is_no_drift(tmp_path: Path, volumes: str) -> None:
    (tmp_path / "Dockerfile").write_text(DEV_PROD)
    (tmp_path / "compose.yaml").write_text(SYNC_EXEC_COMPOSE.replace("{volumes}", volumes))
    project = load_compose(locate(tmp_path))
    assert check_compose(project, service="web", sync_exec=True) == []


def test_sync_exec_without_a_cache_volume_is_reported(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(DEV_PROD)
    (tmp_path / "compose.yaml").write_text(SYNC_EXEC_COMPOSE.replace("{volumes}", ""))
    project = load_compose(locate(tmp_path))
    assert [str(f) for f in check_compose(project, service="web", sync_exec=True)] == [
        "compose.yaml: services.web: `uv sync` in the container starts from an empty cache "
        "every time (no volume at /opt/uv-cache); add `- uv-cache:/opt/uv-cache` under "
        "services.web.volumes, a top-level `volumes: {uv-cache: {}}`, and "
        "`ENV UV_CACHE_DIR=/opt/uv-cache` at the end of the Dockerfile's dev stage "
        "(devbox init writes them)"
    ]


@pytest.mark.parametrize(
    ("target", "dockerfile", "problem"),
    [
        (None, "FROM python:3.13\n", None),  # no target: Compose builds it as it is
        ("dev", "FROM python:3.13 AS dev\nFROM python:3.13 AS prod\n", None),
        ("DEV", "FROM python:3.13 as dev\n", None),  # stage names ignore case
        ("dev", "FROM python:3.13\n", "it names no stage"),
        ("test", "FROM python:3.13 AS base\n", "its stages: base"),
    ],
)
def test_a_target_the_dockerfile_lacks(
    tmp_path: Path, target: str | None, dockerfile: str, problem: str | None
) -> None:
    build = f"{{context: ., target: {target}}}" if target else "."
    (tmp_path / "compose.yaml").write_text(f"services:\n  app:\n    build: {build}\n")
    (tmp_path / "Dockerfile").write_text(dockerfile)
    project = load_compose(locate(tmp_path))
    found = missing_stage(project, project.services["app"])
    if problem is None:
        assert found is None
    else:
        assert found is not None and f"has no such stage ({problem}); " in found
        assert found.startswith(f"compose.yaml: services.app.build.target is {target!r}, but ")
        fix = "remove `target: dev`" if target == "dev" else f"add `FROM ... AS {target}`"
        assert fix in found


GOOD_IGNORE = "\n".join([".venv", ".env", *block_lines()]) + "\n"


def check_all(folder: Path) -> list[str]:
    from devbox.project.check import check_files

    return [str(f) for f in check_files(locate(folder), service="web")]


def test_check_reads_the_dockerfile_and_context_compose_builds(tmp_path: Path) -> None:
    (tmp_path / "ctx" / "docker").mkdir(parents=True)
    (tmp_path / "ctx" / "docker" / "Dockerfile.dev").write_text(DEV_PROD)
    (tmp_path / "ctx" / ".dockerignore").write_text(".env\n")
    build = "build: {context: ./ctx, dockerfile: docker/Dockerfile.dev, target: dev}"
    (tmp_path / "compose.yaml").write_text(f"services:\n  web:\n    {build}\n{WATCH}")
    found = check_all(tmp_path)
    # no ./Dockerfile and no ./.dockerignore: those are not what Compose builds from
    assert not any(f.startswith(("Dockerfile:", ".dockerignore:")) for f in found), found
    assert "ctx/docker/Dockerfile.dev: uv is not copied from ghcr.io/astral-sh/uv; " in "\n".join(
        f[: f.index(";") + 2] for f in found
    )
    assert "ctx/.dockerignore: .venv is not ignored; add a line `.venv`" in found
    # BuildKit's own rule: <Dockerfile>.dockerignore beside the Dockerfile wins
    (tmp_path / "ctx" / "docker" / "Dockerfile.dev.dockerignore").write_text(GOOD_IGNORE)
    assert not any("dockerignore" in f for f in check_all(tmp_path))


def test_findings_name_the_override_file_that_holds_the_rule(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(DEV_PROD)
    (tmp_path / ".dockerignore").write_text(GOOD_IGNORE)
    (tmp_path / "compose.yaml").write_text("services:\n  web:\n    build: .\n")
    (tmp_path / "compose.override.yaml").write_text(
        "services:\n  web:\n    build: {target: prod}\n    develop:\n      watch:\n"
        "        - {action: sync, path: ., target: /app}\n"
    )
    found = check_all(tmp_path)
    assert (
        "compose.override.yaml: a sync rule does not ignore .venv/; add `ignore: [.venv/]`" in found
    )
    assert any(
        f.startswith("compose.override.yaml: services.web builds the `prod` stage") for f in found
    ), found


def test_an_app_reading_dotenv_needs_env_file(tmp_path: Path) -> None:
    from devbox.project.check import check_files

    (tmp_path / "Dockerfile").write_text(DEV_PROD)
    (tmp_path / ".dockerignore").write_text(GOOD_IGNORE)
    (tmp_path / "compose.yaml").write_text(f"services:\n  web:\n    build: .\n{WATCH}")
    paths = locate(tmp_path)
    why = "pydantic-settings in the dependencies"
    found = [str(f) for f in check_files(paths, service="web", dotenv=why)]
    assert found[-1] == (
        "compose.yaml: services.web: the app reads .env (pydantic-settings in the dependencies), "
        "but the image leaves it out and no env_file passes it; add `env_file: [{path: .env, "
        "required: false}]` under services.web (Compose >= 2.24)"
    )
    (tmp_path / "compose.override.yaml").write_text("services:\n  web:\n    env_file: [.env]\n")
    assert not any(
        "env_file" in str(f) for f in check_files(locate(tmp_path), service="web", dotenv=why)
    )
    assert not any("env_file" in str(f) for f in check_files(paths, service="web", dotenv=None))


def test_a_copy_of_what_the_context_leaves_out_is_named_with_its_line() -> None:
    """Saicasm/summarizer: `COPY .env .` in a Dockerfile whose context leaves .env out;
    continuation lines, the exec form and options are read; other stages, globs and
    variables are not judged."""
    ignore = PatternMatcher(parse_ignore_text(".env\n*.pem\n.git\n", path=Path(".dockerignore")))
    dockerfile = (
        "FROM python:3.13-slim\n"
        "COPY pyproject.toml .\n"
        "# COPY .env . (a comment)\n"
        "COPY .env .\n"
        "COPY --chown=app:app \\\n    ./.env /app/\n"
        'COPY ["key.pem", "/run/key.pem"]\n'
        "COPY --from=builder /app/.env /x\n"
        "ADD *.pem $HOME/ /\n"
        "COPY . .\n"
    )
    assert ignored_copies(dockerfile, ignore) == [(4, ".env"), (5, "./.env"), (7, "key.pem")]


def test_check_and_init_name_a_copy_the_build_cannot_make(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "site"\nversion = "0"\ndependencies = ["python-dotenv"]\n'
    )
    (tmp_path / "uv.lock").write_text("version = 1\n")
    (tmp_path / "Dockerfile").write_text("FROM python:3.11-slim\nCOPY .env .\nCOPY . .\n")
    (tmp_path / ".env").write_text("KEY=1\n")
    report = init_project(project_dir=tmp_path)
    assert (
        "Dockerfile: line 2 copies .env, which .dockerignore keeps out of the build context "
        "(a secret: none enters an image), so the build stops there: remove the line; the "
        "container reads it through env_file at run time" in report.notes
    )
    assert (
        "Dockerfile: line 2 copies .env, which .dockerignore keeps out of the build context, so "
        "the build stops there; remove the line (pass the file at run time: env_file, a secret "
        "or a volume)" in check_all(tmp_path)
    )
