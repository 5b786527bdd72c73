"""The app: asks the database once at start, serves what it learned and its settings."""

import json
import os
import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def ask_db() -> dict[str, object]:
    host, _, port = os.environ["DB_ADDR"].partition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=2) as conn:
            answer: dict[str, object] = json.loads(conn.makefile().readline())
            return answer
    except OSError as exc:
        return {"error": str(exc)}


DB_AT_START = ask_db()


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = {
            "message": (Path(__file__).parent / "message.txt").read_text().strip(),
            "db_at_start": DB_AT_START,
            "db_now": ask_db(),
            "env": {
                k: os.environ.get(k) for k in ("GREETING", "MODE", "FROM_OVERRIDE", "BUILT_WITH")
            },
        }
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(data)


ThreadingHTTPServer(("0.0.0.0", 8000), Handler).serve_forever()  # noqa: S104 (in a container)
