"""greet: says one line and exits."""

MESSAGE = "greeting: hello from the cli"


def main() -> None:
    print(MESSAGE, flush=True)
