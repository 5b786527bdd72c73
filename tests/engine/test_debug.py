"""`devbox up --debug`'s command line (pure), and its script run by a real `sh` against
stand-in programs: what it installs and what it runs."""

import socket
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

from devbox.engine.container import ContainerSpec, compose_override, run_args
from devbox.engine.debug import (
    ARGV0,
    DEBUG_PORT,
    DebugSpec,
    debugged_command,
    entrypoint,
    free_port,
)
from devbox.engine.resolve import ResolvedService
from devbox.project.compose import Service

DEBUG = DebugSpec(host_port=5679, default_command=("sample-app", "--reload"))


def test_the_command_is_the_services_else_the_images() -> None:
    assert debugged_command(None, None, ("app", "--reload")) == ["app", "--reload"]
    assert debugged_command(None, ("web",), ("app",)) == ["web"]
    assert debugged_command(("tini", "--"), ("web",), ("app",)) == ["tini", "--", "web"]
    # An entrypoint of the service's own drops the image's command, as Docker does.
    assert debugged_command(("web",), None, ("app",)) == ["web"]


def test_run_args_wrap_the_command_and_publish_on_loopback(tmp_path: Path) -> None:
    service = Service(name="web", context=tmp_path, ports=("127.0.0.1:8000:8000",))
    spec = ContainerSpec(
        name="n", image="img", project="p", service=service, bind=None, debug=DEBUG
    )
    args = run_args(spec)
    assert args[args.index("--publish", args.index("--publish") + 1) + 1] == (
        f"127.0.0.1:5679:{DEBUG_PORT}"
    )
    assert args[args.index("--entrypoint") + 1] == "sh"
    tail = args[args.index("img") + 1 :]
    assert tail == [*entrypoint()[1:], "sample-app", "--reload"]


def test_run_args_replace_a_resolved_entrypoint(tmp_path: Path) -> None:
    service = Service(name="web", context=tmp_path)
    resolved = ResolvedService(name="web", entrypoint=("tini", "--"), command=("web", "-v"))
    spec = ContainerSpec(
        name="n", image="img", project="p", service=service, bind=None, resolved=resolved,
        debug=DEBUG,
    )  # fmt: skip
    args = run_args(spec)
    assert args.count("--entrypoint") == 1
    assert args[args.index("--entrypoint") + 1] == "sh"
    assert args[-5:] == [ARGV0, "tini", "--", "web", "-v"]


def test_compose_override_runs_the_service_under_debugpy(tmp_path: Path) -> None:
    service = Service(name="web", context=tmp_path, command=("uvicorn", "app:app", "--reload"))
    spec = ContainerSpec(
        name="n", image="img", project="p", service=service, bind=None, debug=DEBUG
    )
    text = compose_override([spec])
    assert text is not None
    web = yaml.safe_load(text)["services"]["web"]
    assert web["ports"] == [f"127.0.0.1:5679:{DEBUG_PORT}"]
    assert web["command"] == ["uvicorn", "app:app", "--reload"]
    # Compose interpolates `$`: the script's are doubled, so the container gets them as written.
    assert web["entrypoint"][:2] == ["sh", "-c"]
    assert web["entrypoint"][2] == entrypoint()[2].replace("$", "$$")


def test_free_port_skips_a_taken_one() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert free_port(port) > port
    assert free_port(port) >= port


def _program(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


@pytest.fixture
def stand_ins(tmp_path: Path) -> Path:
    """A PATH of stand-ins: `uv` and `python3` log their arguments; `app` is a script."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "log"
    _program(bin_dir, "uv", f'#!/bin/sh\necho "uv $*" >> {log}\n')
    _program(bin_dir, "python3", f'#!/bin/sh\necho "python3 $* PYTHONPATH=$PYTHONPATH" >> {log}\n')
    _program(bin_dir, "app", "#!/bin/sh\n")
    return tmp_path


def _run_script(folder: Path, *command: str) -> tuple[int, list[str]]:
    env = {
        "PATH": f"{folder / 'bin'}:/usr/bin:/bin",
        "HOME": str(folder),
        "UV_CACHE_DIR": str(folder / "cache"),
    }
    done = subprocess.run(
        [*entrypoint(), *command], env=env, capture_output=True, text=True, check=False
    )
    log = folder / "log"
    return done.returncode, log.read_text().splitlines() if log.exists() else [done.stderr]


def test_the_script_installs_debugpy_aside_and_runs_a_console_script_as_a_file(
    stand_ins: Path,
) -> None:
    code, lines = _run_script(stand_ins, "app", "--reload")
    assert code == 0, lines
    python = stand_ins / "bin" / "python3"
    assert lines[0].startswith(
        f"uv pip install --quiet --target /tmp/devbox-debugpy --python {python}"
    )
    assert lines[1] == (
        f"python3 -Xfrozen_modules=off -m debugpy --listen 0.0.0.0:{DEBUG_PORT} "
        f"{stand_ins / 'bin' / 'app'} --reload PYTHONPATH=/tmp/devbox-debugpy"
    )


def test_the_script_keeps_a_python_commands_arguments(stand_ins: Path) -> None:
    code, lines = _run_script(stand_ins, "python3", "-m", "web", "--port", "8000")
    assert code == 0, lines
    assert lines[1].startswith(
        f"python3 -Xfrozen_modules=off -m debugpy --listen 0.0.0.0:{DEBUG_PORT} -m web --port 8000"
    )


def test_the_script_says_what_is_missing(stand_ins: Path) -> None:
    code, lines = _run_script(stand_ins, "nope")
    assert code == 127
    assert "nope: not found on PATH" in lines[0]
    (stand_ins / "bin" / "uv").unlink()
    code, lines = _run_script(stand_ins, "app")
    assert code == 127
    assert "no uv in the image" in lines[0]
