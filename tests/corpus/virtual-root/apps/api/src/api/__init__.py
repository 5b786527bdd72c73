import bottle
from core import STATUS

app = bottle.Bottle()


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": STATUS}


def main() -> None:
    bottle.run(app, host="0.0.0.0", port=8000)  # noqa: S104
