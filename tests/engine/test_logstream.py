"""LogFollower against a fake engine API on a unix socket (the real engine: the compose
mode tests in tests/sync/test_composed_docker.py)."""

import socketserver
import struct
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from devbox.engine.logstream import LogFollower


def frame(stream: int, data: bytes) -> bytes:
    return struct.pack(">BxxxI", stream, len(data)) + data


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    body: bytes = b""
    paths: list[str]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def address_string(self) -> str:
        return "unix"

    def do_GET(self) -> None:
        self.server.paths.append(self.path)
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        body = self.server.body
        for i in range(0, len(body), 5):  # frames split across chunks
            chunk = body[i : i + 5]
            self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def api(tmp_path: Path) -> Iterator[_Server]:
    server = _Server(str(tmp_path / "engine.sock"), _Handler)
    server.paths = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def follow(
    api: _Server, *, tty: bool, since: float | None = None
) -> tuple[LogFollower, list[bytes]]:
    got: list[bytes] = []
    follower = LogFollower(
        socket_path=api.server_address,  # type: ignore[arg-type]
        argv=["unused"],
        container="shop-web-1",
        since=since,
        tty=tty,
        sink=got.append,
    )
    deadline = time.monotonic() + 5
    while follower.alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    return follower, got


def test_frames_of_stdout_and_stderr_are_unwrapped_and_the_end_is_seen(api: _Server) -> None:
    api.body = frame(1, b"listening\n") + frame(2, b"Traceback\n")
    follower, got = follow(api, tty=False, since=12.5)
    assert b"".join(got) == b"listening\nTraceback\n"
    assert not follower.alive()  # the container stopped: the stream ended
    assert api.paths == ["/containers/shop-web-1/logs?follow=1&stdout=1&stderr=1&since=12.500000"]


def test_a_tty_stream_is_raw(api: _Server) -> None:
    api.body = b"\x01\x00\x00\x00 raw bytes\n"
    _, got = follow(api, tty=True)
    assert b"".join(got) == b"\x01\x00\x00\x00 raw bytes\n"


def test_no_api_on_the_socket_hands_over_to_the_cli(tmp_path: Path) -> None:
    got: list[bytes] = []
    follower = LogFollower(
        socket_path=str(tmp_path / "none.sock"),
        argv=["echo", "from the cli"],
        container="c",
        since=None,
        tty=False,
        sink=got.append,
    )
    assert follower.child is not None
    follower.child.wait(timeout=5)
    deadline = time.monotonic() + 5
    while not got and time.monotonic() < deadline:
        time.sleep(0.01)
    assert got == [b"from the cli\n"]
    assert not follower.alive()
