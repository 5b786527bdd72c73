"""A database stand-in: a TCP server that answers ready only after a delay and counts
its starts in the named volume."""

import json
import socketserver
import time
from pathlib import Path

STARTED = time.monotonic()
COUNTER = Path("/data/starts")
STARTS = int(COUNTER.read_text()) + 1 if COUNTER.exists() else 1
COUNTER.write_text(str(STARTS))


class Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        ready = time.monotonic() - STARTED > 3
        self.wfile.write(json.dumps({"ready": ready, "starts": STARTS}).encode() + b"\n")


socketserver.ThreadingTCPServer.allow_reuse_address = True
with socketserver.ThreadingTCPServer(("0.0.0.0", 5432), Handler) as server:  # noqa: S104
    server.serve_forever()
