"""A minimal Debug Adapter Protocol client for the debugger tests: `Content-Length`
framed JSON over a socket, as VS Code speaks it to debugpy. Written for these tests
only; it does what an editor does to stop on a breakpoint, and no more.

debugpy follows child processes (a reloader's): the adapter then sends a `debugpyAttach`
event whose body is the `attach` request for the child, on a new connection to the same
port; `DapSession.attach_child` does that, as VS Code does."""

import json
import socket
import time
from collections.abc import Callable
from typing import Any

Message = dict[str, Any]


class DapError(AssertionError):
    pass


class DapSession:
    def __init__(self, host: str, port: int, *, timeout: float = 60) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.settimeout(timeout)
        self.host, self.port = host, port
        self.buffer = b""
        self.seq = 0
        self.pending: list[Message] = []  # messages read while waiting for another
        self.log: list[Message] = []

    @classmethod
    def connect(cls, host: str, port: int, *, timeout: float = 120) -> "DapSession":
        """Connect once the adapter listens (the container may still be installing it)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                session = cls(host, port)
                session.request("initialize", _INITIALIZE, timeout=10)
                return session
            except (OSError, DapError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def close(self) -> None:
        self.sock.close()

    # --- framing ----------------------------------------------------------------
    def send(self, command: str, arguments: Message | None = None) -> int:
        self.seq += 1
        message: Message = {"seq": self.seq, "type": "request", "command": command}
        if arguments is not None:
            message["arguments"] = arguments
        body = json.dumps(message).encode()
        self.sock.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        return self.seq

    def _read(self, deadline: float) -> Message:
        while b"\r\n\r\n" not in self.buffer:
            self._fill(deadline)
        head, _, rest = self.buffer.partition(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        while len(rest) < length:
            self.buffer = head + b"\r\n\r\n" + rest
            self._fill(deadline)
            head, _, rest = self.buffer.partition(b"\r\n\r\n")
        self.buffer = rest[length:]
        message: Message = json.loads(rest[:length])
        self.log.append(message)
        return message

    def _fill(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise DapError(f"no answer in time; seen: {[_brief(m) for m in self.log[-10:]]}")
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(65536)
        except TimeoutError:
            raise DapError(
                f"no answer in time; seen: {[_brief(m) for m in self.log[-10:]]}"
            ) from None
        if not chunk:
            raise DapError("the adapter closed the connection")
        self.buffer += chunk

    def wait(self, match: Callable[[Message], bool], *, timeout: float = 60) -> Message:
        """The first message (already read or next) that `match`es."""
        for i, message in enumerate(self.pending):
            if match(message):
                return self.pending.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            message = self._read(deadline)
            if match(message):
                return message
            self.pending.append(message)

    def event(self, name: str, *, timeout: float = 60) -> Message:
        return self.wait(
            lambda m: m.get("type") == "event" and m.get("event") == name, timeout=timeout
        )

    def response(self, seq: int, *, timeout: float = 60) -> Message:
        message = self.wait(
            lambda m: m.get("type") == "response" and m.get("request_seq") == seq, timeout=timeout
        )
        if not message.get("success"):
            raise DapError(f"{message.get('command')}: {message.get('message')}")
        return message

    def request(self, command: str, arguments: Message | None = None, **kw: float) -> Message:
        return self.response(self.send(command, arguments), **kw).get("body") or {}

    # --- what an editor does --------------------------------------------------
    def attach(self, arguments: Message, breakpoints: dict[str, list[int]]) -> None:
        """attach, then (on `initialized`) the breakpoints and configurationDone."""
        attach = self.send("attach", arguments)
        self.event("initialized")
        for path, lines in breakpoints.items():
            body = self.request(
                "setBreakpoints",
                {"source": {"path": path}, "breakpoints": [{"line": n} for n in lines]},
            )
            assert len(body["breakpoints"]) == len(lines), body
        self.request("configurationDone")
        self.response(attach)

    def attach_child(self, event: Message, breakpoints: dict[str, list[int]]) -> "DapSession":
        """A `debugpyAttach` event: the child process's own session on the same adapter."""
        child = DapSession.connect(self.host, self.port)
        config = dict(event["body"])
        config.pop("connect", None)  # the container's address; ours is the published port
        child.attach(config, breakpoints)
        return child

    def variables(self, frame_id: int) -> dict[str, str]:
        """The frame's local variables, by name."""
        scopes = self.request("scopes", {"frameId": frame_id})["scopes"]
        local = next(s for s in scopes if s["name"].lower().startswith("local"))
        found = self.request("variables", {"variablesReference": local["variablesReference"]})
        return {v["name"]: v["value"] for v in found["variables"]}


_INITIALIZE = {
    "clientID": "devbox-tests",
    "adapterID": "debugpy",
    "pathFormat": "path",
    "linesStartAt1": True,
    "columnsStartAt1": True,
    "supportsRunInTerminalRequest": False,
}


def _brief(message: Message) -> str:
    return str(message.get("event") or message.get("command") or message.get("type"))
