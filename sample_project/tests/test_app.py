"""Routes answer with the expected JSON, exercised through WSGI (no server)."""

import io
import json
from wsgiref.util import setup_testing_defaults

from sample_app.app import app


def get(path: str) -> tuple[str, dict[str, str]]:
    environ: dict[str, object] = {"PATH_INFO": path, "wsgi.input": io.BytesIO()}
    setup_testing_defaults(environ)
    status: list[str] = []
    body = b"".join(app(environ, lambda s, h, exc=None: status.append(s)))
    return status[0], json.loads(body)


def test_health() -> None:
    assert get("/health") == ("200 OK", {"status": "ok"})


def test_index() -> None:
    status, body = get("/")
    assert status == "200 OK"
    assert body["message"].startswith("hello")
