"""A new dependency reaches the running dev container through `uv sync` in it, without a
rebuild, in both modes (real engine)."""

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import IO

import pytest

from devbox.sync.dependencies import REBUILD_FAILED
from tests.support import docker_lines, http_json, interrupt, start_devbox, wait_for

pytestmark = pytest.mark.docker

REBUILT = "devbox: sample-app: recreated from the new image"

UV = Path(sys.executable).parent / "uv"


def imports(container: str, module: str) -> bool:
    argv = ["docker", "exec", container, "python", "-c", f"import {module}"]
    return subprocess.run(argv, capture_output=True, check=False).returncode == 0


def image_and_id(container: str) -> list[str]:
    return docker_lines("inspect", "--format", "{{.Image}} {{.Id}}", container)


def uv_add(project: Path, *args: str) -> None:
    subprocess.run(
        [str(UV), "add", "--quiet", "--no-sync", "--python", sys.executable, *args],
        cwd=project,
        check=True,
    )


def c_extension(folder: Path) -> None:
    """A package whose wheel must be compiled (no C compiler in the dev image)."""
    (folder / "src").mkdir(parents=True)
    (folder / "pyproject.toml").write_text(
        '[project]\nname = "cext"\nversion = "0.1.0"\n\n[build-system]\n'
        'requires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n'
    )
    (folder / "setup.py").write_text(
        'from setuptools import Extension, setup\n\nsetup(ext_modules=[Extension("cext", ["src/cext.c"])])\n'
    )
    (folder / "src" / "cext.c").write_text(
        "#include <Python.h>\n"
        'static struct PyModuleDef m = {PyModuleDef_HEAD_INIT, "cext", NULL, -1, NULL};\n'
        "PyMODINIT_FUNC PyInit_cext(void) { return PyModule_Create(&m); }\n"
    )


def test_fallback_uv_add_is_installed_in_the_running_container(
    compose_2_21: str, initialized_sample: tuple[Path, int], tmp_path: Path
) -> None:
    """Compose 2.21 (init writes rebuild rules): the fallback runs `uv sync` instead."""
    project, port = initialized_sample
    assert "action: rebuild\n          path: ./uv.lock" in (project / "compose.yaml").read_text()
    name = f"devbox-{project.name}-sample-app"
    log_path = tmp_path / "up.log"
    with log_path.open("wb") as log:
        devbox = start_devbox(["up", "-C", str(project), "--sync", "copy"], log=log)
        try:
            wait_for(lambda: http_json(port, "/health"), timeout=180, what="the app")
            before = image_and_id(name)
            assert not imports(name, "six")
            uv_add(project, "six")
            wait_for(lambda: imports(name, "six"), timeout=60, what="six in the container")
            wait_for(
                lambda: log_path.read_text().count("; uv sync (") >= 2,
                timeout=60,
                what="the sync's report",
            )
            assert image_and_id(name) == before  # same image, same container: no rebuild
            # pyproject.toml came first: no rebuild for the lock it did not match yet
            assert "uv.lock does not match pyproject.toml yet" in log_path.read_text()
            wait_for(lambda: http_json(port, "/health"), timeout=30, what="the app")

            # a package that needs a C compiler the image lacks: uv sync fails and names
            # the compiler, the rebuild fails too, the old container serves
            c_extension(project / "cext")
            uv_add(project, "--no-workspace", "./cext")
            wait_for(lambda: REBUILD_FAILED in log_path.read_text(), timeout=180, what="failure")
            failed = [
                line
                for line in log_path.read_text().splitlines()
                if line.startswith(f"devbox: uv sync in {name} failed (")
            ]
            assert failed and "gcc" in failed[-1], failed
            assert failed[-1].endswith("); rebuilding the image instead")
            wait_for(lambda: http_json(port, "/health"), timeout=30, what="the old container")
            assert image_and_id(name) == before

            # a broken lock: uv sync fails, the rebuild fails too, the old container serves
            lock = project / "uv.lock"
            lock.write_text(lock.read_text().replace("[[package]]", "[[package", 1))
            wait_for(
                lambda: log_path.read_text().count(REBUILD_FAILED) == 2,
                timeout=120,
                what="failure",
            )
            assert (
                "failed (error: Failed to parse `uv.lock`: TOML parse error" in log_path.read_text()
            )
            wait_for(lambda: http_json(port, "/health"), timeout=30, what="the old container")
            assert image_and_id(name) == before
        finally:
            assert interrupt(devbox) == 130, log_path.read_text()


def rebuilt_from(container: str, before: list[str]) -> bool:
    try:
        return image_and_id(container) not in ([], before)
    except subprocess.CalledProcessError:  # being recreated
        return False


@pytest.mark.parametrize(
    "args", [[], ["--sync", "copy"], ["--mode", "watch"]], ids=["compose", "compose-copy", "watch"]
)
def test_uv_add_and_devbox_add_without_uv_on_compose_2_40(
    compose_2_40: str, initialized_sample: tuple[Path, int], tmp_path: Path, args: list[str]
) -> None:
    """Compose mode (bind and copy) and Compose watch (init writes sync+exec rules): a
    package added on the host is importable in the same container, no new image; then
    `devbox add` from a machine without uv runs uv in the container and brings the lock
    back to the host."""
    project, port = initialized_sample
    assert "action: sync+exec" in (project / "compose.yaml").read_text()
    log_path = tmp_path / "up.log"
    with log_path.open("wb") as log:
        devbox = start_devbox(["up", "-C", str(project), *args], log=log)
        try:
            wait_for(lambda: http_json(port, "/health"), timeout=180, what="the app")
            name = wait_for(
                lambda: docker_lines(
                    "ps", "-q", "--filter", f"label=com.docker.compose.project={project.name}"
                ),
                timeout=30,
                what="the container",
            )[0]
            before = image_and_id(name)
            assert not imports(name, "six")
            uv_add(project, "six")
            wait_for(lambda: imports(name, "six"), timeout=60, what="six installed")
            assert image_and_id(name) == before
            wait_for(lambda: http_json(port, "/health"), timeout=30, what="the app")

            # no uv on PATH: uv runs in the container, the lock comes back to the host
            bin_dir = tmp_path / "no-uv"
            bin_dir.mkdir()
            docker = shutil.which("docker")
            assert docker is not None
            (bin_dir / "docker").symlink_to(os.path.realpath(docker))
            env = {**os.environ, "PATH": str(bin_dir)}
            added = subprocess.run(
                [sys.executable, "-m", "devbox", "add", "toml", "-C", str(project)],
                capture_output=True,
                text=True,
                env=env,
                check=False,
            )
            assert added.returncode == 0, added.stderr
            assert "devbox: uv ran in " in added.stderr
            assert "pyproject.toml, uv.lock" in added.stderr
            assert 'name = "toml"' in (project / "uv.lock").read_text()
            assert '"toml>=' in (project / "pyproject.toml").read_text()
            wait_for(lambda: imports(name, "toml"), timeout=60, what="toml installed")
            assert image_and_id(name) == before

            # uv sync cannot run in the container (uv gone from it): Compose only logs the
            # failed exec; devbox says why and rebuilds, and the new container has the package
            container = f"{project.name}-sample-app-1"
            docker_lines("exec", container, "rm", "/bin/uv")
            uv_add(project, "iniconfig")
            wait_for(lambda: rebuilt_from(container, before), timeout=120, what="the rebuild")
            output = log_path.read_text()
            assert f"uv sync in {container} failed (" in output, output
            if args == ["--mode", "watch"]:  # said once Compose recreated it
                wait_for(lambda: f"{REBUILT}\n" in log_path.read_text(), timeout=30, what="it")
            wait_for(lambda: imports(container, "iniconfig"), timeout=30, what="iniconfig")
            rebuilt = image_and_id(container)

            # a broken lock: uv sync fails, the rebuild fails too, the old container serves
            lock = project / "uv.lock"
            lock.write_text(lock.read_text().replace("[[package]]", "[[package", 1))
            wait_for(lambda: REBUILD_FAILED in log_path.read_text(), timeout=120, what="failure")
            assert log_path.read_text().count("; rebuilding the image instead") == 2
            wait_for(lambda: http_json(port, "/health"), timeout=30, what="the app")
            assert image_and_id(container) == rebuilt
        finally:
            assert interrupt(devbox) == 130, log_path.read_text()


def without_uv(tmp_path: Path) -> dict[str, str]:
    """The environment of a machine with the docker CLI but no uv."""
    bin_dir = tmp_path / "no-uv"
    bin_dir.mkdir(exist_ok=True)
    docker = shutil.which("docker")
    assert docker is not None
    if not (bin_dir / "docker").exists():
        (bin_dir / "docker").symlink_to(os.path.realpath(docker))
    return {**os.environ, "PATH": str(bin_dir)}


def test_devbox_add_without_uv_and_with_nothing_running(
    compose_2_40: str, initialized_sample: tuple[Path, int], tmp_path: Path
) -> None:
    """No uv on the host and no dev container (the app may crash for want of the very
    package): uv runs in a one-off container from the dev image, the lock comes back."""
    project, _ = initialized_sample
    env = without_uv(tmp_path)

    def devbox(*args: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "devbox", *args, "-C", str(project)]
        return subprocess.run(argv, capture_output=True, text=True, env=env, check=False)

    no_image = devbox("add", "toml")  # nothing built yet: the one step that helps
    assert no_image.returncode == 9
    assert no_image.stderr == (
        "devbox: uv is not on PATH, no dev container of sample-app is running and it has no "
        "dev image to run uv in yet; install uv, or run `devbox up` once to build the image\n"
    )
    built = subprocess.run(
        ["docker", "compose", "build", "--quiet"], cwd=project, capture_output=True, check=False
    )
    assert built.returncode == 0, built.stderr
    image = f"{project.name}-sample-app"
    try:
        added = devbox("add", "toml")
        assert added.returncode == 0, added.stderr
        assert (
            f"devbox: uv ran in a one-off container from {image}: pyproject.toml, uv.lock; "
            "the next `devbox up` installs it in the container\n"
        ) in added.stderr
        assert 'name = "toml"' in (project / "uv.lock").read_text()
        assert '"toml>=' in (project / "pyproject.toml").read_text()
        removed = devbox("remove", "toml")
        assert removed.returncode == 0, removed.stderr
        assert 'name = "toml"' not in (project / "uv.lock").read_text()
        label = f"label=dev.devbox.project={project.name}"
        assert docker_lines("ps", "-aq", "--filter", label) == []  # the one-off is gone
    finally:
        docker_lines("image", "rm", "-f", image)


# A package index of one wheel, `slowpkg`, that answers each request after DELAY seconds:
# `python -c SLOW_WHEEL PORT DELAY` in the dev container, so uv there resolves slowly.
SLOW_WHEEL = """
import http.server, io, sys, time, zipfile
port, delay = int(sys.argv[1]), float(sys.argv[2])
files = {
    "slowpkg/__init__.py": "",
    "slowpkg-1.0.dist-info/METADATA": "Metadata-Version: 2.1\\nName: slowpkg\\nVersion: 1.0\\n",
    "slowpkg-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\\nGenerator: t\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
    "slowpkg-1.0.dist-info/RECORD": "",
}
buffer = io.BytesIO()
with zipfile.ZipFile(buffer, "w") as wheel:
    for name, text in files.items():
        wheel.writestr(name, text)
DATA = buffer.getvalue()

class Slow(http.server.BaseHTTPRequestHandler):
    def do_HEAD(self):
        time.sleep(delay)
        self.send_response(200)
        self.send_header("Content-Length", str(len(DATA)))
        self.end_headers()

    def do_GET(self):
        self.do_HEAD()
        self.wfile.write(DATA)

http.server.ThreadingHTTPServer(("127.0.0.1", port), Slow).serve_forever()
"""


def slow_wheel(container: str, delay: float) -> str:
    """Serve `slowpkg` in the container; the requirement that makes uv fetch it."""
    port = 19000 + os.getpid() % 1000
    docker_lines("exec", "-d", container, "python", "-c", SLOW_WHEEL, str(port), str(delay))
    probe = f"import socket; socket.create_connection(('127.0.0.1', {port}), 1)"
    wait_for(
        lambda: (
            subprocess.run(
                ["docker", "exec", container, "python", "-c", probe], capture_output=True
            ).returncode
            == 0
        ),
        timeout=30,
        what="the slow index",
    )
    return f"slowpkg @ http://127.0.0.1:{port}/slowpkg-1.0-py3-none-any.whl"


def uv_processes(container: str) -> list[str]:
    """The container's processes that are uv (`docker top`'s command lines)."""
    lines = subprocess.run(
        ["docker", "top", container], capture_output=True, text=True, check=True
    ).stdout.splitlines()[1:]
    return [line for line in lines if " uv add " in f" {line} " or line.endswith(" uv")]


def in_container(container: str, path: str) -> bytes:
    return subprocess.run(
        ["docker", "exec", container, "cat", path], capture_output=True, check=True
    ).stdout


def scratch_left(container: str) -> list[str]:
    argv = ["docker", "exec", container, "sh", "-c", "ls -d /tmp/devbox-uv-* 2>/dev/null"]
    return subprocess.run(argv, capture_output=True, text=True, check=False).stdout.split()


def dev_container(project: Path) -> str:
    return wait_for(
        lambda: docker_lines(
            "ps",
            "--format",
            "{{.Names}}",
            "--filter",
            f"label=com.docker.compose.project={project.name}",
        ),
        timeout=30,
        what="the container",
    )[0]


def start_add(
    project: Path, requirement: str, env: dict[str, str], log: IO[bytes]
) -> subprocess.Popen[bytes]:
    """`devbox add REQUIREMENT` as a terminal's foreground job (SIGINT at its default)."""

    def default_sigint() -> None:
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    return subprocess.Popen(
        [sys.executable, "-m", "devbox", "add", requirement, "-C", str(project)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
        preexec_fn=default_sigint,
    )


@pytest.mark.parametrize("args", [[], ["--sync", "copy"]], ids=["bind", "copy"])
def test_an_edit_saved_while_uv_runs_in_the_container_is_kept(
    compose_2_40: str, initialized_sample: tuple[Path, int], tmp_path: Path, args: list[str]
) -> None:
    """uv in the container runs on a scratch copy: a pyproject.toml saved on the host
    while it resolves keeps the user's edit (uv wrote the host's file through the bind
    mount before, and the check compared it with itself), devbox says to run add again,
    neither file is brought back, and the container keeps the host's files (issue #23)."""
    project, port = initialized_sample
    env = without_uv(tmp_path)
    pyproject, lock = project / "pyproject.toml", project / "uv.lock"
    log_path = tmp_path / "up.log"
    with log_path.open("wb") as log:
        devbox = start_devbox(["up", "-C", str(project), *args], log=log)
        try:
            wait_for(lambda: http_json(port, "/health"), timeout=180, what="the app")
            name = dev_container(project)
            requirement = slow_wheel(name, delay=4)
            lock_before = lock.read_bytes()
            with (tmp_path / "add.log").open("wb") as add_log:
                add = start_add(project, requirement, env, add_log)
                wait_for(lambda: uv_processes(name), timeout=60, what="uv in the container")
                edited = pyproject.read_text() + "\n# saved while uv resolved\n"
                pyproject.write_text(edited)
                assert add.wait(timeout=120) == 3, (tmp_path / "add.log").read_text()
            said = (tmp_path / "add.log").read_text()
            assert said.count("\n") == 1, said
            assert said.startswith(f"devbox: {pyproject}: changed on the host while uv ran in ")
            assert "your edit is kept and uv's change is not applied: run `devbox add " in said
            assert pyproject.read_text() == edited  # the edit is kept
            assert "slowpkg" not in pyproject.read_text()
            assert lock.read_bytes() == lock_before  # the lock stays in step with it
            # the container has the host's files, not uv's
            assert in_container(name, "/app/uv.lock") == lock_before
            wait_for(
                lambda: in_container(name, "/app/pyproject.toml") == edited.encode(),
                timeout=30,
                what="the host's pyproject.toml in the container",
            )
            assert scratch_left(name) == []
            assert uv_processes(name) == []
        finally:
            assert interrupt(devbox) == 130, log_path.read_text()


def test_ctrl_c_during_add_in_the_container_stops_uv_there(
    compose_2_40: str, initialized_sample: tuple[Path, int], tmp_path: Path
) -> None:
    """Ctrl-C while uv resolves in the dev container: no uv is left running there (the
    docker CLI's exec does not pass the signal on), no scratch folder stays, the host's
    files are as they were."""
    project, port = initialized_sample
    env = without_uv(tmp_path)
    log_path = tmp_path / "up.log"
    with log_path.open("wb") as log:
        devbox = start_devbox(["up", "-C", str(project)], log=log)
        try:
            wait_for(lambda: http_json(port, "/health"), timeout=180, what="the app")
            name = dev_container(project)
            requirement = slow_wheel(name, delay=600)
            before = {p: (project / p).read_bytes() for p in ("pyproject.toml", "uv.lock")}
            with (tmp_path / "add.log").open("wb") as add_log:
                add = start_add(project, requirement, env, add_log)
                wait_for(lambda: uv_processes(name), timeout=60, what="uv in the container")
                os.killpg(add.pid, signal.SIGINT)
                assert add.wait(timeout=60) == 130, (tmp_path / "add.log").read_text()
            assert uv_processes(name) == []
            assert scratch_left(name) == []
            assert {p: (project / p).read_bytes() for p in before} == before
        finally:
            assert interrupt(devbox) == 130, log_path.read_text()
