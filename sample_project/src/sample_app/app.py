"""Routes of the sample service."""

import bottle

GREETING = "hello from sample-app"

app = bottle.Bottle()


@app.get("/")
def index() -> dict[str, str]:
    return {"message": GREETING}


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}
