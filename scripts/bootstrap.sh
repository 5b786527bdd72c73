# Sourced by scripts/test and scripts/demo: uv, devbox's venv, and a real engine.
# shellcheck shell=bash
UV_PIN="0.13.9"
if ! command -v uv >/dev/null 2>&1 || ! uv --version >/dev/null 2>&1; then
    echo "[bootstrap] installing uv $UV_PIN from PyPI" >&2
    python3 -m pip install --quiet "uv==$UV_PIN"
fi
uv sync --quiet --locked
./scripts/provision-engine
# shellcheck disable=SC1091
source "${DEVBOX_ENGINE_HOME:-$HOME/.cache/devbox-engine}/engine.env"
