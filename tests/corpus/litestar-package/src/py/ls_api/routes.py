from litestar import get


@get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}
