"""Pinned versions and defaults of generated files (keep in step with scripts/provision-engine)."""

UV_VERSION = "0.13.9"
APP_DIR = "/app"
DEFAULT_PORT = 8000
