"""An engine that accepts connections and never answers: `status`, `shell`, `logs` and
`down` end with a one-line error after a time-out, where they used to hang forever."""

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from devbox.cli import app
from devbox.engine import client
from tests.bad_inputs import WATCHED, compose

runner = CliRunner()


@pytest.fixture
def silent_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    path = tmp_path / "engine.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])  # and never a byte back
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    monkeypatch.setenv("DOCKER_HOST", f"unix://{path}")
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    monkeypatch.setattr(client, "ENGINE_TIMEOUT", 1.0)
    yield f"unix://{path}"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


@pytest.mark.skipif(shutil.which("docker") is None, reason="needs the docker CLI")
@pytest.mark.parametrize("command", ["status", "down", "logs", "shell"])
def test_an_engine_that_never_answers_is_a_one_line_error(
    silent_engine: str, tmp_path: Path, command: str
) -> None:
    project = tmp_path / "shop"
    project.mkdir()
    for name, text in compose(WATCHED).items():
        (project / name).write_text(str(text))
    started = time.monotonic()
    result = runner.invoke(app, [command, "-C", str(project)])
    assert time.monotonic() - started < 20
    assert result.exit_code == 4, result.output
    assert result.stderr.splitlines() == [
        "devbox: the engine (the default engine) did not answer within 1 s; check that it "
        "runs (`docker info`), or DOCKER_HOST and the Docker context"
    ]
