"""The app lives in the package itself, so `fastapi run src/fa_shop` finds it."""

from fastapi import FastAPI

from fa_shop.routes import router

app = FastAPI()
app.include_router(router)
