import os

from flask import Flask


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/greeting")
    def greeting() -> dict[str, str]:
        return {"greeting": os.environ.get("GREETING", "")}

    return app
