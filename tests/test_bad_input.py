"""The bad-input matrix: every case is one line naming the file, the field and the fix,
its exit code, no traceback, and not one byte of the project changed."""

import hashlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from devbox.cli import app
from tests.bad_inputs import CASES, Case, build

runner = CliRunner()


def checksums(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_the_matrix_is_large_enough() -> None:
    assert len(CASES) >= 150
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_bad_input(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = build(tmp_path, case)
    for key, value in case.env.items():
        monkeypatch.setenv(key, value)
    before = checksums(root)
    result = runner.invoke(app, [arg.replace("{root}", str(root)) for arg in case.argv])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == case.code, result.output
    expected = "devbox: " + case.message.replace("{root}", str(root))
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    if expected.endswith("*"):
        assert lines[0].startswith(expected[:-1])
    else:
        assert lines[0] == expected
    assert checksums(root) == before
