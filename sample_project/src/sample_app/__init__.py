"""A tiny HTTP service for devbox demos and tests."""
