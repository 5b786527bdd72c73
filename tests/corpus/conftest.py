"""The corpus holds sample projects, not devbox tests: never collect them."""

collect_ignore_glob = ["*/*"]
