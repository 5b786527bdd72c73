"""Pinned versions and defaults of generated files (keep in step with scripts/provision-engine)."""

UV_VERSION = "0.13.9"
PYTHON_IMAGE = "python:3.13-slim-trixie"
APP_DIR = "/app"
DEFAULT_PORT = 8000
COMPOSE_FILE_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
