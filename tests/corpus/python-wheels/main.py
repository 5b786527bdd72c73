import bottle
import markupsafe

app = bottle.Bottle()


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok", "escaped": str(markupsafe.escape("<ok>"))}


if __name__ == "__main__":
    bottle.run(app, host="0.0.0.0", port=8000)  # noqa: S104
