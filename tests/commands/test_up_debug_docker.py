"""`devbox up --debug` against a real engine and a real debug adapter: a Debug Adapter
Protocol session (tests/dap.py, framed JSON over the published socket) attaches to
debugpy in the container, stops on a line of a route when the route is requested, reads
a local variable there, continues, and the request completes. In compose mode and the
fallback, bind and copy sync, as root and as a non-root service user."""

import re
import shutil
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import free_port, remove_project_volumes
from tests.dap import DapError, DapSession
from tests.support import http_json, interrupt, project_leftovers, start_devbox, wait_for

pytestmark = pytest.mark.docker

ROUTE_LINE = 'return {"message": message}'  # in sample_app/app.py's index route


def debug_port(log: Path, child_done: bool) -> int | None:
    found = re.search(r"debugpy: \S+ waits for a debugger on 127\.0\.0\.1:(\d+)", log.read_text())
    if found is None and child_done:
        raise AssertionError(f"devbox up ended:\n{log.read_text()}")
    return int(found.group(1)) if found else None


def _children(parent: DapSession, breakpoints: dict[str, list[int]]) -> list[DapSession]:
    """A session on each child process the adapter announces (`debugpyAttach`), as VS Code
    opens them: a reloader's children (uvicorn's spawned worker also brings
    multiprocessing's resource tracker, in either order)."""
    children: list[DapSession] = []
    wait = 20.0  # the first child; the next come right after it
    while True:
        try:
            event = parent.event("debugpyAttach", timeout=wait)
        except DapError:
            return children
        children.append(parent.attach_child(event, breakpoints))
        wait = 3.0


def _stopped(sessions: list[DapSession], *, timeout: float) -> tuple[DapSession, dict[str, Any]]:
    """The first `stopped` event of any session, and its session."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for session in sessions:
            try:
                return session, session.event("stopped", timeout=0.3)["body"]
            except DapError:
                continue
    raise AssertionError(f"no session stopped in {timeout} s")


def stop_on_route(
    project: Path,
    app_port: int,
    dap_port: int,
    *,
    app_py: Path | None = None,
    route: tuple[str, str] = ("/", ROUTE_LINE),
    local: tuple[str, str] | None = ("message", "'hello from sample-app'"),
    answer_body: bytes = b'{"message": "hello from sample-app"}',
) -> None:
    """What an editor does: attach with the host folder mapped to /app, a breakpoint on the
    route's line; the route requested stops there, the local reads, continue completes."""
    app_py = app_py or project / "src" / "sample_app" / "app.py"
    path, code = route
    line = next(n for n, text in enumerate(app_py.read_text().splitlines(), 1) if code in text)
    breakpoints = {str(app_py): [line]}
    attach = {
        "justMyCode": True,
        "subProcess": True,
        "pathMappings": [{"localRoot": str(project), "remoteRoot": "/app"}],
    }
    parent = DapSession.connect("127.0.0.1", dap_port)
    sessions = [parent]
    try:
        parent.attach(attach, breakpoints)
        # The sample serves from a reloader's child process: debugpy asks for its session.
        sessions += _children(parent, breakpoints)
        answer: dict[str, object] = {}

        def request() -> None:
            url = f"http://127.0.0.1:{app_port}{path}"
            with urllib.request.urlopen(url, timeout=120) as response:
                answer["body"] = response.read()

        thread = threading.Thread(target=request, daemon=True)
        thread.start()
        child, stopped = _stopped(sessions, timeout=60)
        assert stopped["reason"] == "breakpoint", stopped
        frames = child.request("stackTrace", {"threadId": stopped["threadId"]})["stackFrames"]
        assert frames[0]["source"]["path"] == str(app_py)  # mapped back to the host
        assert frames[0]["line"] == line
        if local is not None:
            name, value = local
            assert child.variables(frames[0]["id"])[name] == value
        assert "body" not in answer  # held at the breakpoint
        child.request("continue", {"threadId": stopped["threadId"]})
        thread.join(timeout=60)
        assert answer.get("body") == answer_body
    finally:
        for session in sessions:
            session.close()


@pytest.mark.parametrize(
    ("mode", "sync", "user"),
    [
        ("compose", "bind", None),
        ("compose", "bind", "1000:1000"),
        ("compose", "copy", None),
        ("fallback", "bind", "1000:1000"),
        ("fallback", "copy", None),
    ],
)  # copy sync with a non-root service user cannot write the image's root-owned sources
def test_a_breakpoint_in_a_route_stops_the_request(
    initialized_sample: tuple[Path, int],
    request: pytest.FixtureRequest,
    tmp_path: Path,
    mode: str,
    sync: str,
    user: str | None,
) -> None:
    project, app_port = initialized_sample
    request.getfixturevalue("compose_2_21" if mode == "fallback" else "compose_2_40")
    if user is not None:  # the service's own non-root user
        compose = project / "compose.yaml"
        text = compose.read_text()
        compose.write_text(text.replace("    build:\n", f'    user: "{user}"\n    build:\n', 1))
    log = tmp_path / "up.log"
    args = ["up", "--project-dir", str(project), "--sync", sync, "--debug"]
    args += ["--debug-port", str(free_port())]
    with log.open("wb") as out:
        child = start_devbox(args, log=out)
        try:
            port = wait_for(
                lambda: debug_port(log, child.poll() is not None), timeout=60, what="the port"
            )
            wait_for(lambda: http_json(app_port, "/health"), timeout=300, what="the app")
            stop_on_route(project, app_port, port)
            # The app's reloader still works under the debugger.
            app_py = project / "src" / "sample_app" / "app.py"
            app_py.write_text(app_py.read_text().replace("hello from", "reloaded from"))
            wait_for(
                lambda: http_json(app_port, "/") == {"message": "reloaded from sample-app"},
                timeout=60,
                what=f"the reload; devbox up said:\n{log.read_text()}",
            )
        finally:
            code = interrupt(child, timeout=120)
    text = log.read_text()
    assert code == 130, text
    assert f"{mode} mode" in text, text
    time.sleep(0.5)
    assert project_leftovers(project.name)["containers"] == [], text


def test_uvicorns_reloader_child_stops_too(tmp_path: Path, compose_2_40: str) -> None:
    """uvicorn --reload serves from a spawned child (multiprocessing): debugpy follows it."""
    from devbox.commands.init import init_project

    project = tmp_path / f"fa-{uuid.uuid4().hex[:8]}"
    shutil.copytree(Path(__file__).parents[1] / "corpus" / "fastapi", project)
    init_project(project_dir=project)
    app_port = free_port()
    compose = project / "compose.yaml"
    compose.write_text(compose.read_text().replace(":8000:8000", f":{app_port}:8000"))
    log = tmp_path / "up.log"
    args = ["up", "--project-dir", str(project), "--debug", "--debug-port", str(free_port())]
    try:
        with log.open("wb") as out:
            child = start_devbox(args, log=out)
            try:
                port = wait_for(
                    lambda: debug_port(log, child.poll() is not None), timeout=60, what="the port"
                )
                wait_for(lambda: http_json(app_port, "/health"), timeout=300, what="the app")
                stop_on_route(
                    project,
                    app_port,
                    port,
                    app_py=project / "main.py",
                    route=("/health", 'return {"status": "ok"}'),
                    local=None,
                    answer_body=b'{"status":"ok"}',
                )
            finally:
                code = interrupt(child, timeout=120)
        assert code == 130, log.read_text()
        assert project_leftovers(project.name)["containers"] == []
    finally:
        remove_project_volumes(project.name)
