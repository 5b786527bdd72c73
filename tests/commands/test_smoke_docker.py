"""`devbox smoke` against a real engine: each verdict, its exit code and message, and that
nothing is left behind. Builds reuse BuildKit's cache, so each run takes about a second."""

import json
import os
import re
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from devbox.cli import app
from devbox.commands.init import init_project
from devbox.commands.smoke import smoke
from devbox.commands.smoke_report import SmokeOutcome as Outcome
from devbox.errors import ExitCode
from tests.support import docker_lines, start_devbox, wait_for

pytestmark = pytest.mark.docker

runner = CliRunner()
CRASH = """CMD ["python", "-c", "import sys; print('boom'); sys.exit(3)"]"""


@pytest.fixture
def project(sample_copy: Path) -> Path:
    """The sample after `devbox init`: a Dockerfile with a `prod` target."""
    init_project(project_dir=sample_copy)
    return sample_copy


class Echoes(list[str]):
    def __call__(self, message: str, *, error: bool = False) -> None:
        self.append(message)


def assert_nothing_left(container: str, image: str) -> None:
    assert docker_lines("ps", "-aq", "--filter", f"name=^{container}$") == []
    assert docker_lines("image", "ls", "-q", image) == []


def run_cli(project: Path, *args: str, junit: Path) -> tuple[Result, dict[str, object]]:
    """`devbox smoke --json --junit` through CliRunner: its result and JSON report."""
    result = runner.invoke(
        app, ["smoke", "-C", str(project), "--rm-image", "--json", "--junit", str(junit), *args]
    )
    report: dict[str, object] = json.loads(result.stdout)
    assert_nothing_left(str(report["container"]), str(report["image"]))
    return result, report


def junit_case(path: Path) -> ET.Element:
    root = ET.parse(path).getroot()  # noqa: S314 (our own output)
    [suite] = root.findall("testsuite")
    [case] = suite.findall("testcase")
    return case


def test_the_sample_passes(project: Path, tmp_path: Path) -> None:
    junit = tmp_path / "smoke.xml"
    result, report = run_cli(project, junit=junit)
    assert result.exit_code == 0, result.stderr
    assert report["outcome"] == "passed"
    assert report["exit_code"] == 0
    assert report["check"] == "GET /health"
    assert report["user"] == "app"
    assert report["runs_as_root"] is False
    assert isinstance(report["image_size"], int) and report["image_size"] > 10_000_000
    assert isinstance(report["build_seconds"], float)
    assert isinstance(report["healthy_seconds"], float) and report["healthy_seconds"] < 30
    for figure in ("build time: ", "image size: ", "start to healthy: ", "image user: app"):
        assert figure in result.stderr
    assert "runs as root" not in result.stderr
    case = junit_case(junit)
    assert case.get("name") == "smoke[sample-app]"
    assert case.find("failure") is None


def test_an_app_that_crashes_at_start(project: Path, tmp_path: Path) -> None:
    dockerfile = project / "Dockerfile"
    lines = dockerfile.read_text().splitlines()
    last_cmd = max(i for i, line in enumerate(lines) if line.startswith("CMD "))
    lines[last_cmd] = CRASH
    dockerfile.write_text("\n".join(lines) + "\n")
    junit = tmp_path / "smoke.xml"
    result, report = run_cli(project, junit=junit)
    assert result.exit_code == ExitCode.START
    assert report["outcome"] == "start"
    assert report["details"] == ["boom"]
    assert "the container exited with code 3; its last 1 log lines:\nboom" in result.stderr
    assert result.stderr.endswith(
        "devbox: the container exited with code 3 instead of starting (last log lines above); "
        "fix the app's start-up or [tool.devbox] command\n"
    )
    failure = junit_case(junit).find("failure")
    assert failure is not None
    assert failure.get("type") == "start"
    assert failure.text == "boom"


def test_an_app_that_never_becomes_healthy(project: Path) -> None:
    echoes = Echoes()
    report = smoke(project_dir=project, health_path="/nope", timeout=10, rm_image=True, echo=echoes)
    assert report.outcome is Outcome.HEALTH_TIMEOUT
    assert report.exit_code is ExitCode.HEALTH_TIMEOUT
    assert report.message == (
        "GET /nope never answered 2xx in time (last: HTTP 404); fix the route or "
        "[tool.devbox] health-path, or raise --timeout"
    )
    assert report.build_seconds is not None
    assert 10 <= report.total_seconds - report.build_seconds < 10 + 4
    assert report.healthy_seconds is None
    assert any("GET /nope" in line for line in report.details)  # the app's access log
    assert_nothing_left(report.container, report.image)


def test_smoke_commands(project: Path) -> None:
    passing = smoke(
        project_dir=project,
        command=["python", "-c", "import sample_app.app"],
        rm_image=True,
        echo=Echoes(),
    )
    assert passing.outcome is Outcome.PASSED, passing.message
    assert passing.check == "command `python -c 'import sample_app.app'`"
    assert passing.healthy_seconds is not None
    assert_nothing_left(passing.container, passing.image)

    failing = smoke(
        project_dir=project,
        command=["python", "-c", "print('checking'); raise SystemExit(4)"],
        rm_image=True,
        echo=Echoes(),
    )
    assert failing.exit_code is ExitCode.SMOKE_COMMAND
    assert failing.message == (
        "smoke command `python -c 'print('\"'\"'checking'\"'\"'); raise SystemExit(4)'` exited "
        "with code 4 (output above); fix the app or [tool.devbox] smoke"
    )
    assert failing.details == ("checking",)
    assert_nothing_left(failing.container, failing.image)


GREET_LOCK = """\
version = 1
revision = 5
requires-python = ">=3.11"

[[package]]
name = "greet"
version = "0.1.0"
source = { editable = "." }
"""


@pytest.fixture
def cli_app(tmp_path: Path) -> Path:
    """A command-line app: its console script prints a line and exits 0."""
    root = tmp_path / "greet"
    (root / "src" / "greet").mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "greet"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
        'dependencies = []\n\n[project.scripts]\ngreet = "greet:main"\n\n'
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
    )
    (root / "src" / "greet" / "__init__.py").write_text(
        'def main() -> None:\n    print("hello from greet")\n'
    )
    (root / "uv.lock").write_text(GREET_LOCK)
    init_project(project_dir=root)
    return root


def test_a_command_line_app_passes_by_running_to_completion(cli_app: Path, tmp_path: Path) -> None:
    result, report = run_cli(cli_app, junit=tmp_path / "smoke.xml")
    assert result.exit_code == 0, result.stderr
    assert (report["outcome"], report["completed"]) == ("passed", True)
    assert report["check"] == "ran to completion (exit 0)"
    assert "ran to completion (exit 0) in " in result.stderr
    assert "instead of starting" not in result.stderr

    # The same app failing is still a failure, with its output
    init = cli_app / "src" / "greet" / "__init__.py"
    init.write_text('def main() -> None:\n    raise SystemExit("no such file: x")\n')
    result, report = run_cli(cli_app, junit=tmp_path / "smoke.xml")
    assert result.exit_code == ExitCode.START
    assert report["details"] == ["no such file: x"]


def test_a_server_that_exits_0_fails(project: Path, tmp_path: Path) -> None:
    """The sample has a health path: it must keep serving, so exit 0 is no pass."""
    dockerfile = project / "Dockerfile"
    lines = dockerfile.read_text().splitlines()
    last_cmd = max(i for i, line in enumerate(lines) if line.startswith("CMD "))
    lines[last_cmd] = 'CMD ["python", "-c", "print(\'bye\')"]'
    dockerfile.write_text("\n".join(lines) + "\n")
    result, _ = run_cli(project, junit=tmp_path / "smoke.xml")
    assert result.exit_code == ExitCode.START
    assert result.stderr.endswith(
        "devbox: the container exited with code 0 before it answered on /health (last log lines "
        "above); a server must keep running: fix the app's start-up or [tool.devbox] command\n"
    )


def test_a_broken_lock_fails_the_build(project: Path, tmp_path: Path) -> None:
    with (project / "uv.lock").open("a") as lock:
        lock.write("garbage = [\n")
    junit = tmp_path / "smoke.xml"
    result, report = run_cli(project, junit=junit)
    assert result.exit_code == ExitCode.BUILD
    assert report["outcome"] == "build"
    assert result.stderr.endswith(
        "devbox: the prod image did not build: error: Failed to parse `uv.lock`; fix the "
        "Dockerfile or the dependencies (build output above)\n"
    )
    assert "unclosed array" in result.stderr  # the build's own output, shown on failure
    failure = junit_case(junit).find("failure")
    assert failure is not None
    assert failure.get("type") == "build"
    assert "Failed to parse `uv.lock`" in (failure.text or "")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_removes_the_container(
    project: Path, tmp_path: Path, signum: signal.Signals
) -> None:
    log_path = tmp_path / "devbox.log"
    with log_path.open("wb") as log:
        child = start_devbox(
            [
                "smoke",
                "-C",
                str(project),
                "--health-path",
                "/nope",
                "--timeout",
                "60",
                "--rm-image",
            ],
            log=log,
        )
        try:
            image = wait_for(
                lambda: re.search(
                    r"building (devbox-smoke-sample-app-\w+:\w+)", log_path.read_text()
                ),
                timeout=30,
                what="the build to start",
            ).group(1)
            mine = (
                f"name=^{image.removesuffix(':latest')}-"  # this project's, not a parallel test's
            )
            container = wait_for(
                lambda: docker_lines(
                    "ps",
                    "--filter",
                    "label=dev.devbox.smoke",
                    "--filter",
                    mine,
                    "--format",
                    "{{.Names}}",
                ),
                timeout=60,
                what="the smoke container to run",
            )[0]
            child.send_signal(signum)
            assert child.wait(timeout=20) == ExitCode.INTERRUPTED
        finally:
            if child.poll() is None:
                child.kill()
    assert "stopping: removing " + container in log_path.read_text()
    assert_nothing_left(container, image)


def test_a_client_that_needs_buildx_is_named_not_the_dockerfile(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Docker client >= 23 without the buildx plugin (this machine's /usr/local/bin/docker,
    ../shared/ENGINE.md) cannot build with BuildKit: the error names the client and the
    fix, not "fix the Dockerfile", with exit 5."""
    client = Path("/usr/local/bin/docker")
    assert client.is_file(), "the test bed's second Docker client (28.x, no buildx) is missing"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker").symlink_to(client)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    probe = subprocess.run(["docker", "buildx", "version"], capture_output=True, check=False)
    assert probe.returncode != 0, "this client has buildx: the test needs one without"
    result = subprocess.run(
        [sys.executable, "-m", "devbox", "smoke", "-C", str(project), "--rm-image"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == ExitCode.BUILD, result.stderr
    assert result.stderr.splitlines()[-1] == (
        "devbox: docker build: this Docker client builds with BuildKit only through the buildx "
        "plugin, which is missing; install the docker-buildx plugin (or put a Docker client < 23 "
        "first on PATH)"
    )
