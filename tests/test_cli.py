"""The CLI: exit codes and exact messages, through typer's CliRunner."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from devbox.cli import app
from devbox.errors import ExitCode

runner = CliRunner()


def test_help_lists_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "init" in result.stdout
    assert "up" in result.stdout


def test_init_reports_each_file(sample_copy: Path) -> None:
    result = runner.invoke(app, ["init", "--project-dir", str(sample_copy)])
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "Dockerfile: created\n.dockerignore: created\ncompose.yaml: created\n"
        "pyproject.toml: unchanged\n.devcontainer/devcontainer.json: created\n"
        ".devcontainer/compose.devcontainer.yaml: created\n.vscode/launch.json: created\n"
    )


def test_init_devcontainer_writes_only_the_editors_files(sample_copy: Path) -> None:
    assert runner.invoke(app, ["init", "--project-dir", str(sample_copy)]).exit_code == 0
    for name in (".devcontainer", ".vscode"):
        for file in (sample_copy / name).iterdir():
            file.unlink()
    (sample_copy / ".vscode" / "launch.json").write_text('{"configurations": []}\n')
    dockerfile = (sample_copy / "Dockerfile").read_text()
    result = runner.invoke(app, ["init", "--devcontainer", "--project-dir", str(sample_copy)])
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        ".devcontainer/devcontainer.json: created\n"
        ".devcontainer/compose.devcontainer.yaml: created\n"
        '.vscode/launch.json: updated: added "devbox: attach to sample-app"\n'
    )
    assert (sample_copy / "Dockerfile").read_text() == dockerfile
    again = runner.invoke(app, ["init", "--devcontainer", "--project-dir", str(sample_copy)])
    assert again.exit_code == 0, again.output
    assert ".devcontainer/devcontainer.json: unchanged" in again.stdout
    assert ".vscode/launch.json: kept: it has devbox's attach" in again.stdout


def test_init_devcontainer_needs_compose_files(sample_copy: Path) -> None:
    result = runner.invoke(app, ["init", "--devcontainer", "--project-dir", str(sample_copy)])
    assert result.exit_code == ExitCode.CONFIG, result.output
    assert "run `devbox init`" in result.output


def test_init_keeps_a_differing_file_and_fails(sample_copy: Path) -> None:
    (sample_copy / "Dockerfile").write_text("FROM mine\n")
    result = runner.invoke(app, ["init", "--project-dir", str(sample_copy)])
    assert result.exit_code == ExitCode.FAILURE
    assert (
        "Dockerfile: differs (kept yours; --diff shows how, --force replaces it and keeps a .bak)\n"
        in result.stdout
    )
    assert (sample_copy / "Dockerfile").read_text() == "FROM mine\n"


def test_init_outside_a_project(tmp_path: Path) -> None:
    result = runner.invoke(app, ["init", "--project-dir", str(tmp_path)])
    assert result.exit_code == ExitCode.CONFIG
    assert result.stderr == (
        f"devbox: {tmp_path / 'pyproject.toml'}: not found, and no requirements.txt either; devbox works "
        "on uv projects (run `uv init` first)\n"
    )


def test_up_without_compose_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["up", "--project-dir", str(tmp_path)])
    assert result.exit_code == ExitCode.CONFIG
    assert result.stderr == (
        f"devbox: {tmp_path}: no compose.yaml here or in a parent folder; run `devbox init` first\n"
    )


def test_up_with_broken_yaml(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  app: [\n")
    result = runner.invoke(app, ["up", "--project-dir", str(tmp_path)])
    assert result.exit_code == ExitCode.CONFIG
    assert result.stderr.startswith(f"devbox: {tmp_path / 'compose.yaml'}:3:1: ")
    assert result.stderr.endswith("; fix the YAML syntax\n")


def test_init_diff_shows_the_difference(sample_copy: Path) -> None:
    (sample_copy / "Dockerfile").write_text("FROM mine\n")
    result = runner.invoke(app, ["init", "--diff", "--project-dir", str(sample_copy)])
    assert "--- Dockerfile (yours)\n+++ Dockerfile (devbox)\n" in result.stdout
    assert "-FROM mine\n" in result.stdout


def test_init_check_reports_drift_and_writes_nothing(sample_copy: Path) -> None:
    (sample_copy / "Dockerfile").write_text(
        "FROM python:3.13-slim\nCOPY --from=ghcr.io/astral-sh/uv:latest /uv /bin/\nRUN uv sync\n"
    )
    result = runner.invoke(app, ["init", "--check", "--project-dir", str(sample_copy)])
    assert result.exit_code == ExitCode.FAILURE
    lines = result.stdout.splitlines()
    assert (
        "Dockerfile: uv is not pinned to an exact version; use ghcr.io/astral-sh/uv:<x.y.z>"
        in lines
    )
    assert (
        "Dockerfile: uv sync runs without a cache mount; RUN --mount=type=cache,target=/root/.cache/uv ..."
        in lines
    )
    assert ".dockerignore: missing: .venv and secrets reach the build context; devbox init" in lines
    assert "compose.yaml: missing; run devbox init" in lines
    assert not (sample_copy / ".dockerignore").exists()


def test_init_check_after_init_is_clean(sample_copy: Path) -> None:
    runner.invoke(app, ["init", "--project-dir", str(sample_copy)])
    result = runner.invoke(app, ["init", "--check", "--project-dir", str(sample_copy)])
    assert (result.exit_code, result.stdout) == (0, "no drift from best practice\n")


def test_init_bad_option_value(sample_copy: Path) -> None:
    result = runner.invoke(app, ["init", "--uv-digest", "abc", "--project-dir", str(sample_copy)])
    assert result.exit_code == ExitCode.CONFIG
    assert result.stderr == (
        f"devbox: {sample_copy / 'pyproject.toml'}: tool.devbox.uv-digest: 'abc' is not a digest; "
        "use sha256:<64 hex>\n"
    )


def test_status_needs_a_service_name_when_several_are_watched(tmp_path: Path) -> None:
    rule = "    build: .\n    develop:\n      watch:\n        - {action: rebuild, path: ./x}\n"
    (tmp_path / "compose.yaml").write_text(f"services:\n  a:\n{rule}  b:\n{rule}")
    result = runner.invoke(app, ["status", "--project-dir", str(tmp_path)])
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr == (
        f"devbox: {tmp_path / 'compose.yaml'}: several services have watch rules (a, b); name one as the SERVICE argument\n"
    )


PYPROJECT = '[project]\nname = "x"\nversion = "0"\n[project.scripts]\nx = "x:main"\n'


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("compose.yaml", "- a\n- b\n", "(top level): must be a mapping; start it with `services:`"),
        ("compose.yaml", "services: [\n", None),  # YAML syntax: line and column
        (
            "compose.yaml",
            "services:\n  x:\n    build: .\n    develop: [1]\n",
            "services.x.develop: must be a mapping, got [1]; "
            "indent a `watch:` list under `develop:`",
        ),
        (
            "docker-compose.yml",
            "services:\n  x:\n    build: .\n    ports: 8000\n",
            'services.x.ports: must be a list, got 8000; e.g. `ports: ["8000:8000"]`',
        ),
        (
            "compose.yml",
            "services:\n  x:\n    command: 5\n",
            "services.x.command: must be a string or a list, got 5; "
            'e.g. `command: ["app", "--reload"]`',
        ),
    ],
)
def test_init_check_reads_any_compose_file_without_a_traceback(
    tmp_path: Path, name: str, text: str, message: str | None
) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    (tmp_path / "uv.lock").write_text("")
    (tmp_path / name).write_text(text)
    result = runner.invoke(app, ["init", "--check", "--project-dir", str(tmp_path)])
    assert result.exit_code == ExitCode.CONFIG, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    if message is None:
        assert result.stderr.startswith(f"devbox: {tmp_path / name}:2:1: ")
        assert result.stderr.endswith("; fix the YAML syntax\n")
    else:
        assert result.stderr == f"devbox: {tmp_path / name}: {message}\n"


def test_version_and_short_help() -> None:
    from devbox import __version__

    assert runner.invoke(app, ["--version"]).stdout == f"devbox {__version__}\n"
    assert "Usage" in runner.invoke(app, ["-h"]).stdout


def test_quiet_keeps_errors_only(sample_copy: Path) -> None:
    result = runner.invoke(app, ["-q", "init", "--project-dir", str(sample_copy)])
    assert result.exit_code == 0
    assert result.stderr == ""  # the "valid for Compose" note is not printed


def test_init_picks_the_service_that_builds_the_project(sample_copy: Path) -> None:
    (sample_copy / "worker").mkdir()
    (sample_copy / "compose.yaml").write_text(
        "name: shop\nservices:\n  web:\n    build: .\n  worker:\n    build: ./worker\n"
    )
    result = runner.invoke(app, ["init", "--project-dir", str(sample_copy)])
    assert result.exit_code == 0, result.output
    assert (
        "compose.yaml: updated: added develop.watch and build target dev to services.web\n"
        in result.stdout
    )


def test_init_python_mismatch_is_one_line(sample_copy: Path) -> None:
    (sample_copy / ".python-version").write_text("3.10\n")
    result = runner.invoke(
        app,
        ["init", "--python-image", "python:3.13-slim-trixie", "--project-dir", str(sample_copy)],
    )
    assert result.exit_code == 3  # ExitCode.CONFIG
    assert result.stderr == (
        f"devbox: {sample_copy / '.python-version'}: asks for Python 3.10, but "
        "python:3.13-slim-trixie has Python 3.13; change .python-version to 3.13, or pass a "
        "matching --python-image (e.g. python:3.10-slim-trixie)\n"
    )
    assert not (sample_copy / "Dockerfile").exists()


def test_init_check_reports_a_service_building_prod(sample_copy: Path) -> None:
    runner.invoke(app, ["init", "--project-dir", str(sample_copy)])
    compose = sample_copy / "compose.yaml"
    compose.write_text(compose.read_text().replace("target: dev", "target: prod"))
    result = runner.invoke(app, ["init", "--check", "--project-dir", str(sample_copy)])
    assert result.exit_code == ExitCode.FAILURE
    assert result.stdout == (
        "compose.yaml: services.sample-app builds the `prod` stage, so edits never reach the "
        "running code; run `devbox init --fix` to set `target: dev` under services.sample-app.build\n"
    )


def test_init_check_judges_the_dockerignore_as_a_build_reads_it(sample_copy: Path) -> None:
    runner.invoke(app, ["init", "--project-dir", str(sample_copy)])
    (sample_copy / ".dockerignore").write_text(".\n")  # Compose watch: all; a build: nothing
    (sample_copy / "config").mkdir()
    (sample_copy / "config" / ".env").write_text("TOKEN=x\n")
    result = runner.invoke(app, ["init", "--check", "--project-dir", str(sample_copy)])
    assert result.exit_code == ExitCode.FAILURE
    lines = result.stdout.splitlines()
    assert ".dockerignore: .venv is not ignored; add a line `.venv`" in lines
    assert (
        ".dockerignore: a build copies these secrets into the image: config/.env; run devbox "
        "init to add its secrets block (ship one on purpose with a `!path` line below the block)"
    ) in lines
    # init appends what is missing, and the check is clean again
    result = runner.invoke(app, ["init", "--project-dir", str(sample_copy)])
    assert ".dockerignore: updated: added .venv, .devbox, the secrets block (" in result.stdout
    result = runner.invoke(app, ["init", "--check", "--project-dir", str(sample_copy)])
    assert (result.exit_code, result.stdout) == (0, "no drift from best practice\n")


def test_init_fix_makes_the_service_build_dev_in_place(sample_copy: Path) -> None:
    runner.invoke(app, ["init", "--project-dir", str(sample_copy)])
    compose = sample_copy / "compose.yaml"
    kept = compose.read_text().replace("target: dev", "target: prod  # ours").replace("\n", "\r\n")
    compose.write_bytes(kept.encode())
    check = runner.invoke(app, ["init", "--check", "--project-dir", str(sample_copy)])
    assert "run `devbox init --fix` to set `target: dev`" in check.stdout
    result = runner.invoke(app, ["init", "--fix", "--project-dir", str(sample_copy)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "compose.yaml: services.sample-app.build.target is now `dev` (was `prod`); the rest of "
        "compose.yaml is as it was: `devbox up` runs your edits\n"
    )
    assert compose.read_bytes() == kept.replace("target: prod  #", "target: dev  #").encode()
    again = runner.invoke(app, ["init", "--fix", "--project-dir", str(sample_copy)])
    assert again.exit_code == 0
    assert (
        again.stdout
        == "nothing to fix: the developed service does not build `prod` in place of `dev`\n"
    )
    assert runner.invoke(app, ["init", "--check", "--project-dir", str(sample_copy)]).exit_code == 0


def test_init_fix_edits_the_override_that_sets_the_target(sample_copy: Path) -> None:
    runner.invoke(app, ["init", "--project-dir", str(sample_copy)])
    main = (sample_copy / "compose.yaml").read_bytes()
    override = sample_copy / "compose.override.yaml"
    override.write_text("services:\n  sample-app:\n    build:\n      target: prod\n")
    result = runner.invoke(app, ["init", "--fix", "--project-dir", str(sample_copy)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("compose.override.yaml: services.sample-app.build.target ")
    assert override.read_text() == "services:\n  sample-app:\n    build:\n      target: dev\n"
    assert (sample_copy / "compose.yaml").read_bytes() == main


def test_init_fix_without_a_dev_stage_says_how_to_get_one(sample_copy: Path) -> None:
    runner.invoke(app, ["init", "--project-dir", str(sample_copy)])
    compose = sample_copy / "compose.yaml"
    compose.write_text(compose.read_text().replace("target: dev", "target: prod"))
    dockerfile = sample_copy / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text().replace(" AS dev", " AS develop"))
    before = compose.read_text()
    result = runner.invoke(app, ["init", "--fix", "--project-dir", str(sample_copy)])
    assert result.exit_code == ExitCode.CONFIG
    assert "add a `dev` stage to Dockerfile (`devbox init --force` writes devbox's" in result.stderr
    assert compose.read_text() == before


def test_init_fix_goes_alone(sample_copy: Path) -> None:
    result = runner.invoke(app, ["init", "--fix", "--check", "--project-dir", str(sample_copy)])
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr == "devbox: --fix and --check do not go together; run them one at a time\n"


def test_init_port_publishes_the_host_port_to_the_apps_own(sample_copy: Path) -> None:
    result = runner.invoke(app, ["init", "--port", "8101", "--project-dir", str(sample_copy)])
    assert result.exit_code == 0, result.stderr
    assert '- "127.0.0.1:8101:8000"' in (sample_copy / "compose.yaml").read_text()
    result = runner.invoke(
        app, ["init", "--force", "--app-port", "9000", "--project-dir", str(sample_copy)]
    )
    assert result.exit_code == 0, result.stderr
    assert '- "127.0.0.1:8101:9000"' in (sample_copy / "compose.yaml").read_text()
    assert "app-port = 9000\n" in (sample_copy / "pyproject.toml").read_text()
