import os
import socket

from fastapi import APIRouter, Response

router = APIRouter()


@router.get("/health")
def health(response: Response) -> dict[str, bool]:
    """200 only while the database answers: the backend runs beside its services."""
    try:
        socket.create_connection((os.environ.get("DB_HOST", "localhost"), 5432), 1).close()
        up = True
    except OSError:
        up = False
    response.status_code = 200 if up else 503
    return {"db": up}
