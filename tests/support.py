"""Helpers for real-engine tests: polling, HTTP on loopback, the engine's view of a project."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import IO, TypeVar

T = TypeVar("T")

# What a copy of sample_project leaves out: what `./scripts/demo`'s init and up write there.
NOT_OF_SAMPLE = shutil.ignore_patterns(
    *(".venv", "__pycache__", ".devbox", "*.bak"),
    *("Dockerfile", ".dockerignore", "compose.yaml", ".devcontainer", ".vscode"),
)


def wait_for(
    check: Callable[[], T | None], *, timeout: float, what: str, interval: float = 0.1
) -> T:
    """Poll `check` until it returns something truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def http_json(port: int, path: str) -> object | None:
    """GET http://127.0.0.1:port/path as JSON, or None while the server does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as response:
            body: object = json.loads(response.read())
            return body
    except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
        return None


def docker_lines(*args: str) -> list[str]:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, check=True)
    return result.stdout.split()


def project_leftovers(project: str) -> dict[str, list[str]]:
    """Containers and networks the engine still holds for a Compose project label."""
    label = f"label=com.docker.compose.project={project}"
    return {
        "containers": docker_lines("ps", "-aq", "--filter", label),
        "networks": docker_lines("network", "ls", "-q", "--filter", label),
    }


def dangling_volumes() -> set[str]:
    """Anonymous volumes no container uses. Named ones are left out: tests running in
    parallel (a named volume kept by `down` on purpose) must not look like a leak."""
    names = docker_lines("volume", "ls", "-q", "--filter", "dangling=true")
    return {name for name in names if re.fullmatch(r"[0-9a-f]{64}", name)}


def run_devbox(
    project: Path, *args: str, stdin: str | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """`python -m devbox COMMAND --project-dir PROJECT ARGS...` run to its end, output
    captured (the command first: `--project-dir` is each command's option)."""
    return subprocess.run(
        [sys.executable, "-m", "devbox", *args[:1], "--project-dir", str(project), *args[1:]],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=timeout,
        check=False,
    )


def start_devbox(
    args: list[str], *, log: IO[bytes], cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    """`python -m devbox ARGS` as a user runs it, output to `log`."""
    return subprocess.Popen(
        [sys.executable, "-m", "devbox", *args], stdout=log, stderr=subprocess.STDOUT, cwd=cwd
    )


def interrupt(child: subprocess.Popen[bytes], *, timeout: float = 60) -> int:
    """Ctrl-C a devbox process as a terminal would, and its exit code (killed if it hangs)."""
    child.send_signal(signal.SIGINT)
    try:
        return child.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        child.kill()
        raise


def start_devbox_group(args: list[str], *, log: IO[bytes]) -> subprocess.Popen[bytes]:
    """`python -m devbox ARGS` in a process group of its own with SIGINT at its default, as
    a terminal's foreground job (a background job inherits SIGINT ignored)."""

    def default_sigint() -> None:
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    return subprocess.Popen(
        [sys.executable, "-m", "devbox", *args],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=default_sigint,
    )


def signal_group(child: subprocess.Popen[bytes], sig: int, *, timeout: float = 60) -> int:
    """Send `sig` to the child's process group, as a terminal does; its exit code."""
    os.killpg(child.pid, sig)
    try:
        return child.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        raise


def processes_naming(text: str) -> list[str]:
    """Command lines of live processes that mention `text` (a project's unique name)."""
    import psutil

    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if text in cmdline and proc.pid != os.getpid():
            found.append(cmdline)
    return found


def container_volumes(name: str) -> list[str]:
    """Names of the volumes mounted in a container (none when it does not exist)."""
    result = subprocess.run(
        ["docker", "inspect", "--format", "{{json .Mounts}}", name],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        return []
    return [m["Name"] for m in json.loads(result.stdout) if m.get("Type") == "volume"]


def volume_exists(name: str) -> bool:
    result = subprocess.run(["docker", "volume", "inspect", name], capture_output=True, check=False)
    return result.returncode == 0


def tree_digest(folder: Path) -> dict[str, str]:
    """Every entry under `folder` (links not followed): its content's hash or link target."""
    import hashlib

    found = {}
    for path in sorted(folder.rglob("*")):
        rel = str(path.relative_to(folder))
        if path.is_symlink():
            found[rel] = f"-> {path.readlink()}"
        elif path.is_file():
            found[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            found[rel] = "dir"
    return found


def devbox_traceback(output: str) -> bool:
    """A traceback through devbox's own code in `output`; the app may print one of its own
    (stopped while it starts, a client that hung up), whose frames are the app's."""
    return re.search(r'File "[^"]*/devbox/', output) is not None
