"""devbox: a containerized development loop for uv-managed Python projects."""

__version__ = "0.2.1"
