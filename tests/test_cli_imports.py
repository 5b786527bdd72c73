"""Start-up: a command imports only what it uses. Asserted on the modules a fresh
interpreter holds after the command, never on time (timing lives in bench/)."""

import os
import subprocess
import sys
from pathlib import Path

from devbox.commands.shell_direct import shell_facts
from devbox.project.compose import load_compose
from devbox.project.locate import locate
from devbox.runtime import state
from tests.fakes import session_record

# Third-party packages that cost start-up time and that no --help or exec needs.
HEAVY = {"yaml", "ruamel", "python_on_whales", "psutil", "watchdog", "tomlkit", "filelock"}
HEAVY |= {"pydantic", "rich", "logging", "tomllib", "json", "tarfile"}
# What `devbox --help` may import of devbox: the CLI and the enums its options offer.
HELP_MODULES = {
    "devbox",
    "devbox.__main__",
    "devbox.launch",
    "devbox.cli",
    "devbox.errors",
    "devbox.engine",
    "devbox.engine.modes",
    "devbox.engine.versions",
    "devbox.sync",
    "devbox.sync.bind_or_copy",
}
RUN = """\
import runpy, sys
sys.argv = ["devbox", *sys.argv[1:]]
try:
    runpy.run_module("devbox", run_name="__main__")
except SystemExit as exc:
    code = exc.code
print("\\n".join(sorted(sys.modules)), file=open(MODULES, "w"))
raise SystemExit(code)
"""


def run_devbox(
    *args: str, cwd: Path, out: Path, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """`python -m devbox ARGS` in a fresh interpreter; its result and the modules it held."""
    modules = out / "modules.txt"
    result = subprocess.run(
        [sys.executable, "-c", RUN.replace("MODULES", repr(str(modules))), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return result, set(modules.read_text().split())


def top_level(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def test_help_imports_only_the_cli(tmp_path: Path) -> None:
    for args in (["--help"], ["shell", "--help"], ["up", "--help"], ["--version"]):
        result, modules = run_devbox(*args, cwd=tmp_path, out=tmp_path)
        assert result.returncode == 0, result.stderr
        # A command's own --help runs the global options first: -v sets up logging.
        allowed = {"logging"} if args[0] != "--help" and args[0] != "--version" else set()
        assert top_level(modules) & HEAVY <= allowed, args
        assert {m for m in modules if m.startswith("devbox")} <= HELP_MODULES, args


def test_shell_on_a_live_session_execs_the_recorded_container_directly(tmp_path: Path) -> None:
    """A stand-in `docker` on PATH records its arguments and exits 7: the exec is one child
    on the same stdin, its exit code devbox's, and nothing reads the compose files."""
    project = tmp_path / "proj"
    project.mkdir()
    (project / "compose.yaml").write_text("services:\n  app:\n    build: .\n")
    compose = load_compose(locate(project))
    facts = shell_facts(compose, compose.services["app"], "docker")
    state.save(project, session_record(os.getpid(), container="proj-app-1", shell=facts))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "docker"
    fake.write_text(
        f'#!/bin/sh\nprintf "%s\\n" "$@" > {tmp_path}/argv\ncat > {tmp_path}/stdin\nexit 7\n'
    )
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    env.pop("DEVBOX_ENGINE", None)
    env.pop("COMPOSE_FILE", None)
    modules_dir = tmp_path / "out"
    modules_dir.mkdir()

    result, modules = run_devbox(
        "shell", "--", "python", "-V", cwd=project, out=modules_dir, env=env
    )
    assert result.returncode == 7, result.stderr
    assert (tmp_path / "argv").read_text().split("\n")[:-1] == [
        "exec", "--interactive", "--workdir", "/app", "proj-app-1", "python", "-V",
    ]  # fmt: skip
    heavy = top_level(modules) & (HEAVY - {"logging", "json"})  # -v, the record
    assert heavy == set()
    assert top_level(modules) & {"typer", "click"} == set()  # served before the CLI loads
    assert {
        "devbox.project.compose",
        "devbox.engine.client",
        "devbox.commands.shell",
    } & modules == set()
