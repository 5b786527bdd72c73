"""Routes of the sample service."""

import bottle

GREETING = "hello from sample-app"

app = bottle.Bottle()


@app.get("/")
def index() -> dict[str, str]:
    message = GREETING  # a local, for the debugger tests to read
    return {"message": message}


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}
