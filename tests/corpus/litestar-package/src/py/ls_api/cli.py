import sys


def main() -> None:
    """A CLI group's stand-in: prints its help and exits, so it is not the app to serve."""
    print("usage: ls-api COMMAND", file=sys.stderr)
