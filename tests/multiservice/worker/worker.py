"""The second developed service: serves its message file, and whether the migrations
(a one-shot service it waits for) had run when it started."""

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

MIGRATED_AT_START = Path("/data/migrated").exists()


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        message = (Path(__file__).parent / "message.txt").read_text().strip()
        data = json.dumps({"message": message, "migrated": MIGRATED_AT_START}).encode()
        self.send_response(200)
        self.end_headers()
        self.wfile.write(data)


ThreadingHTTPServer(("0.0.0.0", 8001), Handler).serve_forever()  # noqa: S104 (in a container)
