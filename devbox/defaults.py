"""Pinned versions and defaults of generated files (keep in step with scripts/provision-engine)."""

UV_VERSION = "0.13.9"
APP_DIR = "/app"
DEFAULT_PORT = 8000
# Where the dev image keeps uv's cache at run time (its `UV_CACHE_DIR`): a named volume
# mounted there (the compose file's `uv-cache`, `<project>_uv-cache` on the engine) keeps
# it warm for `uv sync` in the running container.
UV_CACHE_DIR = "/opt/uv-cache"
CACHE_VOLUME = "uv-cache"
# HOME of a dev container devbox runs as the project owner's uid: that uid has no passwd
# entry, so the engine's default HOME is `/`, which it cannot write; a tmpfs is mounted here.
MAPPED_HOME = "/home/devbox"
