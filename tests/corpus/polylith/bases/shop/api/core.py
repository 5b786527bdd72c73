from fastapi import FastAPI
from shop.greeting import core as greeting

app = FastAPI()


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/")
def root() -> dict[str, str]:
    return {"message": greeting.hello()}
