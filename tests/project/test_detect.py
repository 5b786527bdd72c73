from pathlib import Path

import pytest

from devbox.project.detect import (
    ProjectKind,
    detect_kind,
    image_python,
    python_for,
    python_mismatch,
    requested_python,
)


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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3.10\n", "3.10"),
        ("3.10.4", "3.10.4"),
        ("cpython-3.12", "3.12"),
        ("python3.11\n3.12\n", "3.11"),  # uv reads the first line
        ("pypy3.10", None),  # not CPython: not checked
        ("3.13t", None),  # free-threaded: not checked
        ("3", None),
        ("", None),
        (None, None),
    ],
)
def test_requested_python(text: str | None, expected: str | None) -> None:
    assert requested_python(text) == expected


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("python:3.13-slim-trixie", "3.13"),
        ("python:3.12.7-alpine3.20", "3.12.7"),
        ("docker.io/library/python:3.11", "3.11"),
        ("localhost:5000/python:3.10-slim@sha256:" + "0" * 64, "3.10"),
        ("ghcr.io/astral-sh/uv:python3.12-bookworm-slim", "3.12"),
        ("mycorp/python-base:3.11-prod", "3.11"),
        ("python:slim", None),  # the tag says nothing: no guess
        ("python", None),
        ("localhost:5000/python", None),  # a registry port is no tag
        ("mycorp/base:1.2", None),  # not a Python image: its own version
        ("python:3.14rc1-slim", None),
    ],
)
def test_image_python(image: str, expected: str | None) -> None:
    assert image_python(image) == expected


@pytest.mark.parametrize(
    ("requested", "image", "mismatch"),
    [
        ("3.10", "3.13", True),
        ("3.10", "3.10.12", False),
        ("3.10.4", "3.10.12", True),
        ("3.10.4", "3.10", False),  # the image's patch level is unknown
        ("3.10", "3", False),  # too little to say
    ],
)
def test_python_mismatch(requested: str, image: str, mismatch: bool) -> None:
    assert python_mismatch(requested, image) is mismatch


def test_a_version_no_python_has_is_named() -> None:
    from devbox.project.detect import implausible_version, python_for, requested_python

    assert implausible_version("3." + "1" * 5000) == "3." + "1" * 5000
    assert implausible_version("cpython-3.12345\n") == "cpython-3.12345"
    assert implausible_version("3.13\n") is None and implausible_version("pypy@3.10") is None
    assert requested_python("3." + "1" * 5000) is None  # no int() of 5,000 digits
    assert python_for("3." + "1" * 5000, None) == python_for(None, None)
