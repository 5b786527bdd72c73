"""Long steps: one status line, the output shown only on failure."""

from devbox.runtime.progress import run_step
from tests.fakes import Said


def test_a_step_that_succeeds_keeps_its_output_quiet() -> None:
    said = Said()
    ok, lines = run_step(["sh", "-c", "echo '#1 step'; echo done"], title="building x", echo=said)
    assert (ok, lines) == (True, ["#1 step", "done"])
    assert said[0] == ("building x...", False)
    assert said[1][0].startswith("building x: done in ") and said[1][1] is False
    assert len(said) == 2


def test_a_step_that_fails_shows_its_tail() -> None:
    said = Said()
    ok, lines = run_step(["sh", "-c", "echo boom >&2; exit 2"], title="building x", echo=said)
    assert (ok, lines) == (False, ["boom"])
    message, error = said[-1]
    assert error and message.startswith("building x: failed after ")
    assert message.endswith("(exit code 2):\nboom")
