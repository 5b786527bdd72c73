import bottle

app = bottle.Bottle()


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


def hello() -> None:
    print("hello from hello-svc")


def serve() -> None:
    bottle.run(app, host="0.0.0.0", port=8000, reloader=True)  # noqa: S104
