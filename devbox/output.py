"""How core functions talk to the user: through an `Echo` the CLI provides."""

from typing import Protocol


class Echo(Protocol):
    def __call__(self, message: str, *, error: bool = False) -> None: ...
