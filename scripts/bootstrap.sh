# Sourced by scripts/test and scripts/demo: uv, devbox's venv, and a real engine.
# Afterwards "${UV[@]}" runs uv (a fresh pip install may not be on PATH yet).
# shellcheck shell=bash
UV_PIN="0.13.9"
if command -v uv >/dev/null 2>&1 && uv --version >/dev/null 2>&1; then
    UV=(uv)
else
    echo "[bootstrap] installing uv $UV_PIN from PyPI" >&2
    python3 -m pip install --quiet "uv==$UV_PIN"
    UV=(python3 -m uv)
fi
"${UV[@]}" sync --quiet --locked
./scripts/provision-engine
./scripts/provision-extra   # the "remote" engine and Podman test beds
./scripts/provision-editor  # the Dev Containers CLI (npm)
# shellcheck disable=SC1091
source "${DEVBOX_ENGINE_HOME:-$HOME/.cache/devbox-engine}/engine.env"
if [ -f "${DEVBOX_ENGINE_HOME:-$HOME/.cache/devbox-engine}/extra.env" ]; then
    # shellcheck disable=SC1091
    source "${DEVBOX_ENGINE_HOME:-$HOME/.cache/devbox-engine}/extra.env"
fi
if [ -f "${DEVBOX_ENGINE_HOME:-$HOME/.cache/devbox-engine}/editor.env" ]; then
    # shellcheck disable=SC1091
    source "${DEVBOX_ENGINE_HOME:-$HOME/.cache/devbox-engine}/editor.env"
fi
