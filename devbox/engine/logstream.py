"""A container's output followed until it stops: compose mode's window on the app.

Over a local socket the engine's API streams it into a thread of devbox's own (a
`docker logs --follow` client would cost one more resident CLI process, ~40 MB, per
developed service); elsewhere (ssh://, tcp://), or when the API does not answer as
expected, `docker logs --follow` does it. Either
way the stream ends when the container stops, which is how compose mode learns of an
exit without polling the engine.
"""

import contextlib
import http.client
import logging
import socket
import struct
import subprocess
import threading
import urllib.parse
from collections.abc import Callable

from devbox.runtime import process

Sink = Callable[[bytes], None]
log = logging.getLogger(__name__)


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost")
        self.path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(self.path)
        self.sock = sock


class LogFollower:
    """One container's stdout and stderr, written to `sink` as they come."""

    def __init__(
        self,
        *,
        socket_path: str | None,
        argv: list[str],
        container: str,
        since: float | None,
        tty: bool,
        sink: Sink,
    ) -> None:
        self.sink, self.tty = sink, tty
        self.child: process.Child | None = None
        self._conn: _UnixConnection | None = None
        self._done = threading.Event()
        response = None if socket_path is None else self._request(socket_path, container, since)
        if response is None:  # no socket, or the API would not stream: the CLI does it
            self.child = process.start(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            threading.Thread(target=self._copy_child, daemon=True).start()
            return
        threading.Thread(target=self._copy_api, args=(response,), daemon=True).start()

    def _request(
        self, socket_path: str, container: str, since: float | None
    ) -> http.client.HTTPResponse | None:
        query = {"follow": "1", "stdout": "1", "stderr": "1"}
        if since is not None:
            query["since"] = f"{since:.6f}"
        path = f"/containers/{urllib.parse.quote(container)}/logs?{urllib.parse.urlencode(query)}"
        self._conn = _UnixConnection(socket_path)
        try:
            self._conn.request("GET", path)
            response = self._conn.getresponse()
        except (OSError, http.client.HTTPException):
            self._conn.close()
            return None
        if response.status != 200:
            self._conn.close()
            return None
        return response

    def alive(self) -> bool:
        """The stream is open: the container has not stopped (nor the engine gone)."""
        if self.child is not None:
            return self.child.poll() is None
        return not self._done.is_set()

    def stop(self) -> None:
        if self.child is not None:
            process.stop(self.child, grace=2)
        elif self._conn is not None and self._conn.sock is not None:
            # The reading thread sees the end and stops; closing the connection under it
            # would break http.client's own state mid-read.
            with contextlib.suppress(OSError):
                self._conn.sock.shutdown(socket.SHUT_RDWR)
        self._done.set()

    def _copy_child(self) -> None:
        assert self.child is not None and self.child.stdout is not None
        for line in self.child.stdout:
            self.sink(line)

    def _copy_api(self, response: http.client.HTTPResponse) -> None:
        """A TTY container's stream is raw; otherwise each frame is an 8-byte header
        (stream, 3 zero bytes, big-endian length) and its payload."""
        try:
            while True:
                if self.tty:
                    data = response.read1(65536)
                    if not data:
                        break
                    self.sink(data)
                    continue
                header = response.read(8)
                if len(header) < 8:
                    break
                (size,) = struct.unpack(">I", header[4:])
                self.sink(response.read(size))
        except Exception as exc:  # the stream's end, however it ends, prints no traceback
            log.debug("log stream ended: %r", exc)
        finally:
            self._done.set()
            if self._conn is not None:
                self._conn.close()
