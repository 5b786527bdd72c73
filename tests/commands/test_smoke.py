"""`devbox smoke` without an engine: the report, its verdict and forms, parsing, probes, settings."""

import http.server
import json
import socket
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from devbox.cli import app
from devbox.commands.smoke import probe_http, probe_tcp
from devbox.commands.smoke_report import (
    SmokeOutcome as Outcome,
)
from devbox.commands.smoke_report import (
    SmokeReport,
    build_error,
    expects_server,
    is_root_user,
    junit_xml,
    summary,
    to_json,
    warnings,
    write_junit,
)
from devbox.errors import DevboxError, ExitCode
from devbox.project.settings import read_settings
from tests.conftest import free_port

PASSED = SmokeReport(
    project="sample-app",
    image="devbox-smoke-sample-app:0123abcd",
    container="devbox-smoke-sample-app-0123abcd",
    check="GET /health",
    outcome=Outcome.PASSED,
    build_seconds=12.34,
    image_size=159_121_297,
    healthy_seconds=0.71,
    user="app",
    total_seconds=13.5,
)
FAILED = SmokeReport(
    project="sample-app",
    image="devbox-smoke-sample-app:0123abcd",
    container="devbox-smoke-sample-app-0123abcd",
    check="TCP port 8000",
    outcome=Outcome.START,
    message="the container exited with code 3 instead of starting; fix it",
    build_seconds=1.0,
    image_size=1000,
    user="",
    total_seconds=2.25,
    details=("boom", "\x1b[31mred\x1b[0m <&>"),
)


def only_testcase(xml: str) -> ET.Element:
    """The one testcase of the one testsuite."""
    root = ET.fromstring(xml)  # noqa: S314 (our own output)
    assert root.tag == "testsuites"
    [suite] = root.findall("testsuite")
    [case] = suite.findall("testcase")
    return case


def test_junit_of_a_pass_has_one_passing_testcase() -> None:
    case = only_testcase(junit_xml(PASSED))
    assert case.get("name") == "smoke[sample-app]"
    assert case.get("time") == "13.500"
    assert case.find("failure") is None
    assert "image size: 159.1 MB" in (case.findtext("system-out") or "")


def test_junit_of_a_failure_carries_message_type_and_details(tmp_path: Path) -> None:
    path = tmp_path / "reports" / "smoke.xml"
    write_junit(FAILED, path)
    text = path.read_text(encoding="utf-8")
    assert '<testsuite name="devbox smoke" tests="1" failures="1"' in text
    case = only_testcase(text)
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("type") == "start"
    assert failure.get("message") == FAILED.message
    assert failure.text == "boom\n\ufffd[31mred\ufffd[0m <&>"  # control characters replaced


@pytest.mark.parametrize(
    ("outcome", "code"),
    [
        (Outcome.PASSED, ExitCode.OK),
        (Outcome.BUILD, ExitCode.BUILD),
        (Outcome.START, ExitCode.START),
        (Outcome.HEALTH_TIMEOUT, ExitCode.HEALTH_TIMEOUT),
        (Outcome.SMOKE_COMMAND, ExitCode.SMOKE_COMMAND),
    ],
)
def test_each_outcome_has_its_exit_code(outcome: Outcome, code: ExitCode) -> None:
    report = SmokeReport(project="p", image="i", container="c", check="x", outcome=outcome)
    assert report.exit_code is code
    assert report.passed is (outcome is Outcome.PASSED)


@pytest.mark.parametrize(
    ("user", "root"),
    [("", True), ("root", True), ("0", True), ("0:0", True), ("root:app", True), (" ", True)],
)
def test_root_users(user: str, root: bool) -> None:
    assert is_root_user(user) is root


@pytest.mark.parametrize("user", ["app", "999", "999:999", "app:root", "rooty"])
def test_non_root_users(user: str) -> None:
    assert not is_root_user(user)


def test_warning_only_when_root_is_known() -> None:
    assert warnings(PASSED) == []
    assert warnings(FAILED)[0].startswith("warning: the production image runs as root;")
    unknown = SmokeReport(project="p", image="i", container="c", check="x", outcome=Outcome.BUILD)
    assert unknown.runs_as_root is None
    assert warnings(unknown) == []


def test_summary_lists_the_figures() -> None:
    assert summary(PASSED) == [
        "image devbox-smoke-sample-app:0123abcd, checked with GET /health",
        "build time: 12.3 s",
        "image size: 159.1 MB",
        "image user: app",
        "start to healthy: 0.7 s",
        "smoke test passed in 13.5 s",
    ]
    assert "image user: (none: root)" in summary(FAILED)


def test_json_has_figures_outcome_and_exit_code() -> None:
    data = json.loads(to_json(FAILED))
    assert data["outcome"] == "start"
    assert data["exit_code"] == 6
    assert data["runs_as_root"] is True
    assert data["image_size"] == 1000
    assert data["healthy_seconds"] is None
    assert data["details"] == list(FAILED.details)


BUILD_OUTPUT = [
    "#10 [builder 4/6] RUN uv sync --locked --no-install-project --no-editable",
    "#10 0.172 Creating virtual environment at: .venv",
    "#10 0.174 error: Failed to parse `uv.lock`",
    "#10 0.174   cause: TOML parse error at line 93, column 12",
    "#10 ERROR: executor failed running [/bin/sh -c uv sync --locked]: exit code: 2",
    "executor failed running [/bin/sh -c uv sync --locked]: exit code: 2",
]


def test_build_error_is_the_first_error_line() -> None:
    assert build_error(BUILD_OUTPUT) == "error: Failed to parse `uv.lock`"
    assert build_error(["#1 step", "something broke", ""]) == "something broke"
    assert build_error([]) == "no output"


# --- probes against local sockets (no engine) ---------------------------------------

LOCAL = "127.0.0.1"


@pytest.fixture
def http_port() -> Iterator[int]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/health" else 404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_probes_of_a_listening_server(http_port: int) -> None:
    assert probe_tcp(LOCAL, http_port) is None
    assert probe_http(LOCAL, http_port, "/health", timeout=2) is None
    assert probe_http(LOCAL, http_port, "/nope", timeout=2) == "HTTP 404"


def test_probes_of_a_closed_port() -> None:
    port = free_port()
    assert probe_tcp(LOCAL, port) is not None
    assert (probe_http(LOCAL, port, "/", timeout=1) or "").startswith("no answer")


def test_tcp_probe_sees_through_a_proxy_that_closes_at_once() -> None:
    """What Docker's userland proxy does when nothing listens in the container."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()

        def accept_and_close() -> None:
            connection, _ = server.accept()
            connection.close()

        thread = threading.Thread(target=accept_and_close, daemon=True)
        thread.start()
        assert probe_tcp(LOCAL, server.getsockname()[1]) == (
            "closed at once: nothing listens in the container"
        )
        thread.join(timeout=5)


# --- settings and CLI -------------------------------------------------------------------

MINIMAL = '[project]\nname = "app"\nversion = "0"\n[project.scripts]\napp = "app:main"\n'


def settings_with(tmp_path: Path, extra: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(MINIMAL + extra)
    return tmp_path


@pytest.mark.parametrize(
    ("value", "expected"),
    [('"app --check"', ("app", "--check")), ('["python", "-c", "1"]', ("python", "-c", "1"))],
)
def test_smoke_setting(tmp_path: Path, value: str, expected: tuple[str, ...]) -> None:
    project = settings_with(tmp_path, f"[tool.devbox]\nsmoke = {value}\n")
    assert read_settings(project).smoke == expected


def test_smoke_setting_defaults_to_none(tmp_path: Path) -> None:
    assert read_settings(settings_with(tmp_path, "")).smoke is None


@pytest.mark.parametrize("value", ['""', "[]", "3", "[1]"])
def test_invalid_smoke_setting(tmp_path: Path, value: str) -> None:
    project = settings_with(tmp_path, f"[tool.devbox]\nsmoke = {value}\n")
    with pytest.raises(DevboxError) as caught:
        read_settings(project)
    assert caught.value.code is ExitCode.CONFIG
    assert caught.value.message == (
        f"{project / 'pyproject.toml'}: tool.devbox.smoke: must be a non-empty string or list "
        'of strings; e.g. "app --reload"'
    )


def test_cli_smoke_without_a_dockerfile(tmp_path: Path) -> None:
    project = settings_with(tmp_path, "")
    result = CliRunner().invoke(app, ["smoke", "--project-dir", str(project)])
    assert result.exit_code == ExitCode.CONFIG
    assert result.stderr == (
        f"devbox: {project / 'Dockerfile'}: not found; run `devbox init` to write one with a "
        "`prod` target\n"
    )


def test_cli_smoke_help_lists_its_options() -> None:
    result = CliRunner().invoke(app, ["smoke", "--help"])
    assert result.exit_code == 0
    for option in ("--health-path", "--command", "--timeout", "--rm-image", "--junit", "--json"):
        assert option in result.stdout


@pytest.mark.parametrize(
    ("command", "health_path", "server"),
    [
        (["uvicorn", "app:app", "--reload"], None, True),
        (["fastapi", "run", "src/app"], None, True),
        (["python", "manage.py", "runserver", "0.0.0.0:8000"], None, True),
        (["sample-app"], "/health", True),  # a health path to ask: a server
        (["greet"], None, False),  # a console script nothing more is known of
        (["python", "main.py"], None, False),
    ],
)
def test_which_apps_must_keep_serving(
    command: list[str], health_path: str | None, server: bool
) -> None:
    assert expects_server(command, health_path) is server


def test_summary_of_an_app_that_ran_to_completion() -> None:
    report = SmokeReport(
        project="greet",
        image="i",
        container="c",
        check="ran to completion (exit 0)",
        outcome=Outcome.PASSED,
        healthy_seconds=0.4,
        completed=True,
        total_seconds=2.0,
    )
    assert summary(report) == [
        "image i, checked with ran to completion (exit 0)",
        "ran to completion (exit 0) in 0.4 s",
        "smoke test passed in 2.0 s",
    ]
