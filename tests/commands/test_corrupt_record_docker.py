"""A corrupt session record in `status` and `down`: set aside with one warning, never a
traceback (an `OverflowError` kept both failing until the file was deleted by hand)."""

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from devbox.cli import app
from devbox.runtime import state
from tests.bad_inputs import WATCHED, compose
from tests.fakes import session_record

pytestmark = pytest.mark.docker
runner = CliRunner()


@pytest.mark.parametrize("command", ["status", "down"])
@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"children": {"abc": 1}}, "children must map process ids to start times"),
        ({"pid": 1e400}, "pid must be a process id"),
        ({"container": ["x"]}, "container must be a string or null"),
    ],
)
def test_a_corrupt_record_is_set_aside_not_fatal(
    tmp_path: Path, command: str, change: dict[str, object], why: str
) -> None:
    project = tmp_path / "shop"
    project.mkdir()
    for name, text in compose(WATCHED).items():
        (project / name).write_text(str(text))
    state.save(project, session_record(os.getpid()))
    path = state.state_path(project)
    path.write_text(json.dumps({**json.loads(path.read_text()), **change}))
    result = runner.invoke(app, [command, "-C", str(project)])
    assert result.exit_code == 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    [aside] = path.parent.glob("state.corrupt-*.json")
    assert result.stderr.splitlines()[0] == (
        f"devbox: warning: {path}: corrupt session record ({why}); set aside as "
        f"{aside.name} and ignored"
    )
    assert not path.exists()


def test_mistyped_figures_are_dropped_and_the_session_still_shown(tmp_path: Path) -> None:
    project = tmp_path / "shop"
    project.mkdir()
    for name, text in compose(WATCHED).items():
        (project / name).write_text(str(text))
    state.save(project, session_record(os.getpid()))
    path = state.state_path(project)
    data = json.loads(path.read_text())
    path.write_text(
        json.dumps({**data, "last": {"at": None}}).replace('"batches": 0', '"batches": 1e400')
    )
    result = runner.invoke(app, ["status", "--json", "-C", str(project)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["session"]["pid"] == os.getpid() and report["session"]["batches"] == 0
