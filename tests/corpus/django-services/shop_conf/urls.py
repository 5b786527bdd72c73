import socket

from django.conf import settings
from django.http import JsonResponse
from django.urls import path


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def health(request: object) -> JsonResponse:
    """200 only while the database and the cache answer: the app runs with its services."""
    status = {name: reachable(*where) for name, where in settings.SERVICES.items()}
    return JsonResponse(status, status=200 if all(status.values()) else 503)


urlpatterns = [path("health", health)]
