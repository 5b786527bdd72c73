"""`devbox init --port N` against a real engine (issue #23 item 11): N is the host port,
published to the port the app listens on in the container, so the app answers on N."""

from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.support import http_json, run_devbox, wait_for

pytestmark = pytest.mark.docker


devbox = run_devbox


def test_the_app_answers_on_the_host_port_init_was_given(
    sample_copy: Path, compose_2_40: str
) -> None:
    port = free_port()
    init = devbox(sample_copy, "init", "--port", str(port))
    assert init.returncode == 0, init.stderr
    assert f'"127.0.0.1:{port}:8000"' in (sample_copy / "compose.yaml").read_text()
    started = devbox(sample_copy, "up", "--detach")
    try:
        assert started.returncode == 0, started.stderr
        wait_for(
            lambda: http_json(port, "/") == {"message": "hello from sample-app"},
            timeout=180,
            what=f"the app on host port {port}",
        )
    finally:
        assert devbox(sample_copy, "down").returncode == 0
