"""The second developed service: serves its message file."""

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        message = (Path(__file__).parent / "message.txt").read_text().strip()
        data = json.dumps({"message": message}).encode()
        self.send_response(200)
        self.end_headers()
        self.wfile.write(data)


ThreadingHTTPServer(("0.0.0.0", 8001), Handler).serve_forever()  # noqa: S104 (in a container)
