import sys

import bottle

app = bottle.Bottle()


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok", "python": sys.version.split()[0]}


def main() -> None:
    bottle.run(app, host="0.0.0.0", port=8000)  # noqa: S104
