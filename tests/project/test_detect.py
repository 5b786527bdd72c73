from pathlib import Path

import pytest

from devbox.project.detect import ProjectKind, detect_kind, python_for


@pytest.mark.parametrize(
    ("python_version", "requires", "expected"),
    [
        ("3.12\n", ">=3.13", "3.12"),  # .python-version wins, as for uv
        ("cpython-3.11.9-linux", None, "3.11"),
        (None, None, "3.13"),
        (None, ">=3.11", "3.13"),
        (None, ">=3.14", "3.14"),
        (None, ">=3.9,<3.13", "3.12"),
        (None, "~=3.11.0", "3.11"),
        (None, "==3.10.*", "3.10"),
        (None, ">3.13", "3.14"),
        (None, "<=3.12", "3.12"),
        (None, ">=3.13.2", "3.13"),
        (None, ">=4", "3.13"),  # nothing known fits: the default, the build will say why
    ],
)
def test_python_for(python_version: str | None, requires: str | None, expected: str) -> None:
    assert python_for(python_version, requires) == expected


def test_kinds(tmp_path: Path) -> None:
    project = {"project": {"name": "x"}}
    assert detect_kind(tmp_path, project) is ProjectKind.UNLOCKED
    (tmp_path / "uv.lock").write_text("")
    assert detect_kind(tmp_path, project) is ProjectKind.UV
    workspace = {**project, "tool": {"uv": {"workspace": {"members": ["packages/*"]}}}}
    assert detect_kind(tmp_path, workspace) is ProjectKind.WORKSPACE
    assert detect_kind(tmp_path, None) is None
    (tmp_path / "requirements.txt").write_text("bottle\n")
    assert detect_kind(tmp_path, None) is ProjectKind.REQUIREMENTS
    assert detect_kind(tmp_path, {"tool": {"ruff": {}}}) is ProjectKind.REQUIREMENTS
