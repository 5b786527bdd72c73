"""`devbox init` file generation and merging, without an engine."""

import tomllib
from pathlib import Path

import pytest
import yaml

from devbox import __version__
from devbox.commands.init import init_project
from devbox.errors import DevboxError
from devbox.project.check import check_compose, check_dockerfile, dockerfile_targets
from devbox.project.compose import load_compose
from devbox.project.locate import locate
from devbox.project.scaffold import FileOutcome as Outcome
from devbox.project.scaffold import FileResult, apply, plan_file
from devbox.project.secrets import block_lines
from devbox.project.settings import read_settings
from devbox.project.templates import render, render_files, templates_dir
from tests.conftest import COMMENTED_COMPOSE, SAMPLE


def write_file(path: Path, content: str, *, force: bool) -> FileResult:
    """Plan one file and write it, as init does for each of its files."""
    result = plan_file(path, content, force=force)
    apply([result])
    return result


def names(report_files: list) -> list[tuple[str, Outcome]]:  # type: ignore[type-arg]
    return [(r.path.name, r.outcome) for r in report_files]


def test_render_replaces_placeholders() -> None:
    assert render("FROM {{image}} AS {{image}}x", {"image": "py"}) == "FROM py AS pyx"


def test_render_unknown_placeholder_is_a_bug() -> None:
    with pytest.raises(KeyError):
        render("{{nope}}", {})


SYNC_EXEC_RULES = [
    {
        "action": "sync+exec",
        "path": f"./{name}",
        "target": f"/app/{name}",
        "exec": {"command": ["uv", "sync", "--locked"], "user": "root"},
    }
    for name in ("pyproject.toml", "uv.lock")
]


def test_compose_before_sync_exec_keeps_rebuild_rules(sample_copy: Path) -> None:
    files = render_files(read_settings(sample_copy), sample_copy, sync_exec=False)
    compose = yaml.safe_load(files["compose.yaml"])
    assert compose["services"]["sample-app"]["develop"]["watch"][1:] == [
        {"action": "rebuild", "path": "./pyproject.toml"},
        {"action": "rebuild", "path": "./uv.lock"},
    ]
    assert "A dependency change rebuilds the image" in files["compose.yaml"]


def test_sample_files(sample_copy: Path, compose_2_40: str) -> None:
    report = init_project(project_dir=sample_copy)
    assert names(report.files) == [
        ("Dockerfile", Outcome.CREATED),
        (".dockerignore", Outcome.CREATED),
        ("compose.yaml", Outcome.CREATED),
        ("pyproject.toml", Outcome.UNCHANGED),  # the sample records devbox's choices already
        ("devcontainer.json", Outcome.CREATED),  # the editor's (tests/project/test_editor.py)
        ("compose.devcontainer.yaml", Outcome.CREATED),
        ("launch.json", Outcome.CREATED),
    ]
    dockerfile = (sample_copy / "Dockerfile").read_text()
    assert "{{" not in dockerfile and templates_dir().is_dir()
    assert "COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /uvx /bin/" in dockerfile
    assert "uv sync --locked --no-install-local\n" in dockerfile
    assert "--mount=type=cache,target=/root/.cache/uv" in dockerfile
    assert 'CMD ["sample-app", "--reload"]' in dockerfile
    assert dockerfile_targets(dockerfile) == ["dev", "builder", "prod"]
    assert check_dockerfile(dockerfile) == []
    assert ".venv" in (sample_copy / ".dockerignore").read_text().splitlines()
    compose = yaml.safe_load((sample_copy / "compose.yaml").read_text())
    assert compose["services"]["sample-app"]["develop"]["watch"] == [
        {"action": "sync", "path": ".", "target": "/app", "ignore": [".venv/"]},
        *SYNC_EXEC_RULES,
        {"action": "rebuild", "path": "./Dockerfile"},
        {"action": "rebuild", "path": "./.python-version"},
    ]
    recorded = tomllib.loads((sample_copy / "pyproject.toml").read_text())["tool"]["devbox"]
    assert recorded["python-image"] == "python:3.13-slim-trixie"
    assert recorded["dev-command"] == ["sample-app", "--reload"]  # the user's, kept


def test_uv_cache_volume_in_compose_and_dockerfile(sample_copy: Path) -> None:
    """uv projects: the compose file mounts a named cache volume where the dev stage points
    UV_CACHE_DIR (after its build steps, which keep their cache mounts), so a `uv sync` in
    the running container is warm; requirements projects rebuild, so they get none."""
    files = render_files(read_settings(sample_copy), sample_copy)
    compose = yaml.safe_load(files["compose.yaml"])
    assert compose["services"]["sample-app"]["volumes"] == ["uv-cache:/opt/uv-cache"]
    assert compose["volumes"] == {"uv-cache": {}}
    dev_stage = files["Dockerfile"].split("AS builder")[0]
    assert dev_stage.index("uv sync --locked\n") < dev_stage.index("ENV UV_CACHE_DIR=/opt/uv-cache")
    (sample_copy / "Dockerfile").write_text(files["Dockerfile"])
    (sample_copy / "compose.yaml").write_text(files["compose.yaml"])
    project = load_compose(locate(sample_copy))
    assert check_compose(project, service="sample-app", sync_exec=True) == []
    requirements = sample_copy / "req"
    requirements.mkdir()
    (requirements / "requirements.txt").write_text("bottle\n")
    settings = read_settings(requirements, overrides={"command": "python app.py"})
    plain = render_files(settings, requirements)
    assert "volumes" not in yaml.safe_load(plain["compose.yaml"])
    assert "UV_CACHE_DIR" not in plain["Dockerfile"]


@pytest.mark.parametrize(
    ("image", "user"),
    [
        ("python:3.13-slim-trixie", "useradd --system --gid 999 --uid 999 --create-home app"),
        # tpegl/fast_api_langgraph_template: FROM ghcr.io/astral-sh/uv:python3.13-alpine
        ("ghcr.io/astral-sh/uv:python3.13-alpine", "adduser -S -D -u 999 -G app -h /home/app app"),
    ],
)
def test_the_prod_user_is_made_with_the_images_own_tools(
    sample_copy: Path, image: str, user: str
) -> None:
    """An Alpine base (BusyBox) has no useradd: `init --force` over such a Dockerfile of
    yours must not write one that cannot build."""
    settings = read_settings(sample_copy, overrides={"python-image": image})
    prod = render_files(settings, sample_copy)["Dockerfile"].split("AS prod")[1]
    assert user in prod
    assert ("useradd" in prod) is ("alpine" not in image)


def test_init_twice_is_unchanged(sample_copy: Path) -> None:
    init_project(project_dir=sample_copy)
    assert {r.outcome for r in init_project(project_dir=sample_copy).files} == {Outcome.UNCHANGED}


def test_workspace_dependency_layer(sample_copy: Path) -> None:
    pyproject = sample_copy / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text() + '\n[tool.uv.workspace]\nmembers = ["packages/*"]\n'
    )
    dockerfile = render_files(read_settings(sample_copy), sample_copy)["Dockerfile"]
    assert "uv sync --frozen --no-install-local\n" in dockerfile
    assert "uv sync --frozen --no-install-local --no-editable\n" in dockerfile
    assert "uv sync --locked\n" in dockerfile


def test_requirements_project(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("bottle\n")
    (tmp_path / "requirements-dev.txt").write_text("pytest\n")
    (tmp_path / ".python-version").write_text("3.12\n")
    settings = read_settings(tmp_path, overrides={"command": "python app.py"})
    files = render_files(settings, tmp_path)
    assert files["Dockerfile"].startswith("# Generated by devbox")
    assert "FROM python:3.12-slim-trixie AS dev" in files["Dockerfile"]
    assert "uv venv /app/.venv && uv pip install -r requirements.txt" in files["Dockerfile"]
    assert "uv pip install -r requirements-dev.txt" in files["Dockerfile"]
    assert 'CMD ["python", "app.py"]' in files["Dockerfile"]
    watch = yaml.safe_load(files["compose.yaml"])["services"][
        tmp_path.name.lower().replace("_", "-")
    ]
    assert [r["path"] for r in watch["develop"]["watch"]][1:] == [
        "./requirements-dev.txt",
        "./requirements.txt",
    ]
    (tmp_path / "compose.yaml").write_text(files["compose.yaml"])
    assert check_compose(load_compose(locate(tmp_path)), service=settings.service) == []


def test_unlocked_project(sample_copy: Path) -> None:
    (sample_copy / "uv.lock").unlink()
    with pytest.raises(DevboxError) as caught:
        init_project(project_dir=sample_copy)
    assert caught.value.message == (
        f"{sample_copy / 'uv.lock'}: not found; run `uv lock` (or `devbox init --lock`): "
        "the Dockerfile installs exactly what the lock says"
    )
    assert not (sample_copy / "Dockerfile").exists()


def test_commented_compose_gets_watch_and_keeps_everything(sample_copy: Path) -> None:
    (sample_copy / "compose.yaml").write_text(COMMENTED_COMPOSE)
    report = init_project(project_dir=sample_copy)
    compose = next(r for r in report.files if r.path.name == "compose.yaml")
    assert compose.message == "updated: added develop.watch and build target dev to services.web"
    text = (sample_copy / "compose.yaml").read_text()
    added_at = text.index("    develop:\n")
    # the only other change: `build: .` builds the dev stage
    user_part = COMMENTED_COMPOSE[: COMMENTED_COMPOSE.index("  db:\n")]
    assert text[:added_at] == user_part.replace(
        "    build: .\n", "    build:\n      context: .\n      target: dev\n"
    )
    assert text.endswith(COMMENTED_COMPOSE[COMMENTED_COMPOSE.index("  db:\n") :])
    assert yaml.safe_load(text)["services"]["web"]["develop"]["watch"][0]["target"] == "/app"
    # a second init keeps the now-watched file as it is
    again = init_project(project_dir=sample_copy).files
    assert ("compose.yaml", Outcome.KEPT) in names(again)


def test_existing_dockerignore_only_gets_what_it_lacks(sample_copy: Path) -> None:
    (sample_copy / ".dockerignore").write_text("# mine\nnode_modules")
    report = init_project(project_dir=sample_copy)
    text = (sample_copy / ".dockerignore").read_text()
    assert text == "# mine\nnode_modules\n.venv\n.devbox\n" + "\n".join(block_lines()) + "\n"
    [result] = [f for f in report.files if f.path.name == ".dockerignore"]
    assert "added .venv, .devbox, the secrets block (" in result.message
    # a second init finds nothing missing
    init_project(project_dir=sample_copy)
    assert (sample_copy / ".dockerignore").read_text() == text


def test_existing_tool_devbox_keys_are_kept(sample_copy: Path) -> None:
    pyproject = sample_copy / "pyproject.toml"
    before = pyproject.read_text()
    init_project(project_dir=sample_copy)
    after = pyproject.read_text()
    assert after.startswith(before[: before.index("[tool.devbox]")])
    assert 'port = 8000\nhealth-path = "/health"\n' in after  # the user's lines, untouched


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


def test_sample_project_is_untouched() -> None:
    assert (
        not (SAMPLE / "Dockerfile").exists()
        or "Generated by devbox" in (SAMPLE / "Dockerfile").read_text()
    )


def test_existing_docker_compose_yml_is_merged_not_shadowed(sample_copy: Path) -> None:
    (sample_copy / "docker-compose.yml").write_text("services:\n  web:\n    build: .\n")
    report = init_project(project_dir=sample_copy)
    assert ("docker-compose.yml", Outcome.UPDATED) in names(report.files)
    assert not (sample_copy / "compose.yaml").exists()


def test_check_reads_platform_stages_and_root_groups() -> None:
    text = (
        "FROM --platform=$BUILDPLATFORM python:3.13 AS dev\nCOPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /bin/\n"
        "ENV UV_COMPILE_BYTECODE=1\nFROM python:3.13 AS prod\nUSER root:root\n"
    )
    problems = [f.problem for f in check_dockerfile(text)]
    assert problems == ["the final stage runs as root"]


def test_choices_are_recorded_in_tool_devbox(sample_copy: Path) -> None:
    pyproject = sample_copy / "pyproject.toml"
    text = pyproject.read_text()
    pyproject.write_text(text[: text.index("[tool.devbox]")])
    report = init_project(project_dir=sample_copy, overrides={"port": 9000})
    message = next(r.message for r in report.files if r.path.name == "pyproject.toml")
    assert (
        message
        == "updated: recorded service, port, command, python-image, uv-version, prod-sources "
        "in [tool.devbox]"
    )
    recorded = tomllib.loads(pyproject.read_text())["tool"]["devbox"]
    assert recorded == {
        "service": "sample-app",
        "port": 9000,
        "command": ["sample-app"],
        "python-image": "python:3.13-slim-trixie",
        "uv-version": "0.13.9",
        "prod-sources": False,  # a console script: the venv is enough
    }


def test_kept_compose_that_builds_prod_is_a_problem(sample_copy: Path) -> None:
    text = (
        "services:\n  web:\n    build: .  # prod, by mistake\n    develop:\n      watch:\n"
        "        - {action: sync, path: ., target: /app}\n"
    )
    (sample_copy / "compose.yaml").write_text(text)
    report = init_project(project_dir=sample_copy)
    assert ("compose.yaml", Outcome.KEPT) in names(report.files)
    assert (sample_copy / "compose.yaml").read_text() == text
    assert report.problems[-1] == (
        "compose.yaml: services.web has no build target, so Compose builds the Dockerfile's "
        "last stage (`prod`), not `dev`: edits never reach the running code; "
        "run `devbox init --fix` to set `target: dev` under services.web.build"
    )


def test_init_develops_the_service_that_builds_the_project(sample_copy: Path) -> None:
    pyproject = sample_copy / "pyproject.toml"
    text = pyproject.read_text()
    pyproject.write_text(text[: text.index("[tool.devbox]")])  # no service recorded yet
    (sample_copy / "worker").mkdir()
    (sample_copy / "compose.yaml").write_text(
        "services:\n  worker:\n    build: ./worker\n  web:\n    build: .\n"
    )
    report = init_project(project_dir=sample_copy)
    compose = next(r for r in report.files if r.path.name == "compose.yaml")
    assert compose.message == "updated: added develop.watch and build target dev to services.web"
    assert report.problems == []
    assert tomllib.loads(pyproject.read_text())["tool"]["devbox"]["service"] == "web"
    assert yaml.safe_load((sample_copy / "compose.yaml").read_text())["services"]["worker"] == {
        "build": "./worker"
    }


def test_python_mismatch_is_caught_before_writing(sample_copy: Path) -> None:
    (sample_copy / ".python-version").write_text("3.10\n")
    (sample_copy / "uv.lock").unlink()  # not even `uv lock` runs
    with pytest.raises(DevboxError) as caught:
        init_project(
            project_dir=sample_copy,
            lock_missing=True,
            overrides={"python-image": "python:3.13-slim-trixie"},
        )
    assert caught.value.message.startswith(f"{sample_copy / '.python-version'}: asks for")
    assert sorted(p.name for p in sample_copy.iterdir()) == [
        ".python-version",
        "README.md",
        "pyproject.toml",
        "src",
        "tests",
    ]


def test_image_tag_without_a_version_is_not_guessed(sample_copy: Path) -> None:
    (sample_copy / ".python-version").write_text("3.10\n")
    init_project(project_dir=sample_copy, overrides={"python-image": "python:slim"})
    assert "FROM python:slim AS dev" in (sample_copy / "Dockerfile").read_text()


def test_options_passed_to_init_win_and_are_recorded(sample_copy: Path) -> None:
    """init --force with options rewrites what it recorded from them, and the next init,
    without options, keeps them (it used to keep the old values: issue #22)."""
    pyproject = sample_copy / "pyproject.toml"
    text = pyproject.read_text()
    pyproject.write_text(text[: text.index("[tool.devbox]")])
    init_project(project_dir=sample_copy)
    assert tomllib.loads(pyproject.read_text())["tool"]["devbox"]["prod-sources"] is False

    options = {"command": "python -m sample_app.server", "python-image": "python:3.13-slim"}
    report = init_project(project_dir=sample_copy, force=True, overrides=options)
    recorded = tomllib.loads(pyproject.read_text())["tool"]["devbox"]
    assert recorded["command"] == ["python", "-m", "sample_app.server"]
    assert recorded["python-image"] == "python:3.13-slim"
    assert recorded["prod-sources"] is True  # init's own choice, made again for the new command
    message = next(r.message for r in report.files if r.path.name == "pyproject.toml")
    assert message == "updated: recorded command, python-image, prod-sources in [tool.devbox]"
    assert "FROM python:3.13-slim AS" in (sample_copy / "Dockerfile").read_text()

    again = init_project(project_dir=sample_copy)  # no options: what they set stays
    assert {(r.path.name, r.outcome) for r in again.files} <= {
        (name, Outcome.UNCHANGED)
        for name in (
            *("Dockerfile", ".dockerignore", "compose.yaml", "pyproject.toml"),
            *("devcontainer.json", "compose.devcontainer.yaml", "launch.json"),  # the editor's
        )
    }


def test_init_s_own_unedited_files_follow_the_options_without_force(sample_copy: Path) -> None:
    """The notes' advice, `devbox init --command ...` (no --force), must take effect: a
    Dockerfile and compose.yaml still as init wrote them are init's to write again, with
    no backup; one the user edited is kept, and says how to replace it."""
    pyproject = sample_copy / "pyproject.toml"
    text = pyproject.read_text()
    pyproject.write_text(text[: text.index("[tool.devbox]")])
    init_project(project_dir=sample_copy)
    dockerfile, compose = sample_copy / "Dockerfile", sample_copy / "compose.yaml"
    report = init_project(
        project_dir=sample_copy, overrides={"command": "python -m sample_app.server", "port": 9000}
    )
    outcomes = {r.path.name: (r.outcome, r.message) for r in report.files}
    updated = (Outcome.UPDATED, "updated: init's own and unedited, written again")
    assert outcomes["Dockerfile"] == outcomes["compose.yaml"] == updated
    assert 'CMD ["python", "-m", "sample_app.server"]' in dockerfile.read_text()
    assert "9000:" in compose.read_text()
    assert not list(sample_copy.glob("*.bak"))
    # one an older devbox wrote is init's own too: its header names another version
    older = dockerfile.read_text().replace(f"devbox {__version__} ", "devbox 0.1.9 ", 1)
    assert older != dockerfile.read_text()
    dockerfile.write_text(older)
    again = init_project(project_dir=sample_copy)
    assert {r.path.name: r.outcome for r in again.files}["Dockerfile"] is Outcome.UPDATED
    assert f"devbox {__version__} " in dockerfile.read_text()
    dockerfile.write_text(dockerfile.read_text() + "# mine\n")
    kept = init_project(project_dir=sample_copy, overrides={"command": "sample-app"})
    assert {r.path.name: r.outcome for r in kept.files}["Dockerfile"] is Outcome.DIFFERS
    assert dockerfile.read_text().endswith("# mine\n")


def test_a_value_init_chose_and_the_user_edited_is_theirs(sample_copy: Path) -> None:
    pyproject = sample_copy / "pyproject.toml"
    text = pyproject.read_text()
    pyproject.write_text(text[: text.index("[tool.devbox]")])
    init_project(project_dir=sample_copy)
    pyproject.write_text(pyproject.read_text().replace("port = 8000", "port = 8123"))
    init_project(project_dir=sample_copy, force=True)
    assert tomllib.loads(pyproject.read_text())["tool"]["devbox"]["port"] == 8123
    assert read_settings(sample_copy).port == 8123


def test_compose_builds_a_dockerfile_without_a_dev_stage_as_it_is(sample_copy: Path) -> None:
    (sample_copy / "Dockerfile").write_text('FROM python:3.13-slim-trixie\nCMD ["x"]\n')
    report = init_project(project_dir=sample_copy)
    build = yaml.safe_load((sample_copy / "compose.yaml").read_text())["services"]["sample-app"]
    assert build["build"] == {"context": "."}
    assert any(
        n.startswith("Dockerfile: no `dev` stage, so up develops it as it is") for n in report.notes
    )
    assert any(
        n.startswith("Dockerfile: no `prod` stage, so smoke checks its last stage")
        for n in report.notes
    )


def test_keys_of_the_user_that_an_option_makes_stale_are_named(sample_copy: Path) -> None:
    """The sample's own [tool.devbox] (written by hand, or by an init before the marks):
    a new --command keeps its prod-sources and dev-command, and says init would differ."""
    report = init_project(
        project_dir=sample_copy, force=True, overrides={"command": "python -m sample_app.server"}
    )
    path = sample_copy / "pyproject.toml"
    assert (
        f"{path}: [tool.devbox] prod-sources = false is yours, kept; init itself would choose "
        "true now: delete the line to let it"
    ) in report.notes
    assert (
        f'{path}: [tool.devbox] dev-command = ["sample-app", "--reload"] is yours, kept; init '
        "itself would not set it now: delete the line to let it"
    ) in report.notes
    assert not any("port" in note or "python-image" in note for note in report.notes)
    assert not any("is yours, kept" in note for note in init_project(project_dir=sample_copy).notes)


def test_crlf_files_keep_their_line_endings(sample_copy: Path) -> None:
    """init read CRLF files with universal newlines and wrote every line back as LF."""
    crlf = {
        "pyproject.toml": (sample_copy / "pyproject.toml")
        .read_text()
        .partition("[tool.devbox]")[0]
        .replace("\n", "\r\n"),
        "compose.yaml": COMMENTED_COMPOSE.replace("\n", "\r\n"),
        ".dockerignore": "# mine\r\nnode_modules\r\n",
    }
    for name, text in crlf.items():
        (sample_copy / name).write_bytes(text.encode())
    report = init_project(project_dir=sample_copy)
    updated = {r.path.name for r in report.files if r.outcome is Outcome.UPDATED}
    assert updated == set(crlf)
    for name, before in crlf.items():
        after = (sample_copy / name).read_bytes().decode()
        assert "\n" not in after.replace("\r\n", ""), name  # no LF-only line, old or new
        kept = [line for line in before.split("\r\n") if line and "build: ." not in line]
        assert all(line in after.split("\r\n") for line in kept), name
    assert ("compose.yaml", Outcome.KEPT) in names(init_project(project_dir=sample_copy).files)
