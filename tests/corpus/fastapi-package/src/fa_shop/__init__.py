"""The app lives in the package itself, so `fastapi run src/fa_shop` finds it; `hello` is
a console script beside it, which init does not take for the app."""

from fastapi import FastAPI

from fa_shop.routes import router

app = FastAPI()
app.include_router(router)


def hello() -> None:
    print("hello from fa-shop")
