from django.http import JsonResponse
from django.urls import path


def health(request: object) -> JsonResponse:
    return JsonResponse({"status": "ok"})


urlpatterns = [path("health", health)]
