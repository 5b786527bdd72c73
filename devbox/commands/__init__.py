"""One typed, keyword-only function per command: the core API, usable without the CLI.

Each returns a typed report or raises a `DevboxError`; none prints except through
the `Echo` it is given.
"""
