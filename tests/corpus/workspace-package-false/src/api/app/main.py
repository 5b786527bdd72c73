from fastapi import FastAPI

from .routes import router


def create_app() -> FastAPI:
    api = FastAPI()
    api.include_router(router)
    return api


app = create_app()
