"""What kind of Python project a folder holds, and which Python its image needs: pure logic
over file contents, so each rule is unit-tested."""

import re
from enum import StrEnum
from pathlib import Path
from typing import Any

DEFAULT_PYTHON = "3.13"
# Newest first: the default wins when allowed, else the newest version allowed.
KNOWN_PYTHONS = ("3.14", "3.13", "3.12", "3.11", "3.10", "3.9")


class ProjectKind(StrEnum):
    UV = "uv project"
    WORKSPACE = "uv workspace"
    UNLOCKED = "pyproject.toml without uv.lock"
    REQUIREMENTS = "requirements.txt project"


def detect_kind(project_dir: Path, pyproject: dict[str, Any] | None) -> ProjectKind | None:
    """None when the folder is no Python project devbox knows. A workspace root may be
    virtual (no [project]): its members are the projects."""
    tool_uv = (pyproject or {}).get("tool", {}).get("uv", {})
    virtual_root = isinstance(tool_uv, dict) and isinstance(tool_uv.get("workspace"), dict)
    if pyproject is not None and ("project" in pyproject or virtual_root):
        if not (project_dir / "uv.lock").is_file():
            return ProjectKind.UNLOCKED
        workspace = pyproject.get("tool", {}).get("uv", {}).get("workspace")
        return ProjectKind.WORKSPACE if workspace else ProjectKind.UV
    if (project_dir / "requirements.txt").is_file():
        return ProjectKind.REQUIREMENTS
    return None


def implausible_version(python_version_file: str | None) -> str | None:
    """The first line of `.python-version` when it is a version with a part of more than
    four digits (no Python is; `int()` refuses 4,300 digits), else None."""
    first = (python_version_file or "").strip().partition("\n")[0].strip()
    match = re.fullmatch(r"(?:cpython-|python)?([\d.]+)", first)
    if match and any(len(part) > 4 for part in match.group(1).split(".")):
        return first
    return None


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def _allows(specifier: str, minor: str) -> bool:
    """Whether a `requires-python` clause allows Python `minor` (say '3.12', meaning 3.12.x)."""
    match = re.fullmatch(r"\s*(~=|==|!=|<=|>=|<|>)\s*([\d.]+)(\.\*)?\s*", specifier)
    if match is None:
        return True  # unknown syntax: do not rule anything out
    op, bound, star = match.groups()
    have, want = _version(minor), _version(bound)
    width = min(len(want), 2)
    if op in ("==", "~=") or star:
        prefix = want[:2] if op == "~=" and len(want) > 2 else want[:width]
        same = have[: len(prefix)] == prefix
        return same if op != "!=" else not same
    if op == "!=":
        return True
    if op == ">=":
        return have >= want[:2] or have[:width] == want[:width]
    if op == ">":
        return have > want[:width]
    if op == "<":
        return have < want[:2]
    return have <= want[:2]  # "<="


def python_for(python_version_file: str | None, requires_python: str | None) -> str:
    """The Python minor version for the base image.

    `.python-version` wins (uv itself reads it first); otherwise the default if
    `requires-python` allows it, else the newest known version it allows.
    """
    if python_version_file and python_version_file.strip():
        first = python_version_file.strip().splitlines()[0].strip()
        match = re.match(r"(?:cpython-|python)?(\d{1,4}\.\d{1,4})(?!\d)", first)
        if match:
            return match.group(1)
    if not requires_python:
        return DEFAULT_PYTHON
    clauses = [c for c in requires_python.split(",") if c.strip()]
    allowed = [v for v in KNOWN_PYTHONS if all(_allows(c, v) for c in clauses)]
    if DEFAULT_PYTHON in allowed or not allowed:
        return DEFAULT_PYTHON
    return allowed[0]


_REQUESTED = re.compile(r"(?:cpython-|python)?(\d{1,4}\.\d{1,4}(?:\.\d{1,4})?)(?![\d.])")
_IMAGE_TAG = re.compile(r"(?:python-?)?(\d{1,4}(?:\.\d{1,4}){0,2})(?=$|[-_])")


def requested_python(python_version_file: str | None) -> str | None:
    """The version `.python-version` asks uv for ('3.10', '3.10.4'); None for anything else
    (a PyPy, a free-threaded build), which devbox does not check."""
    if not python_version_file or not python_version_file.strip():
        return None
    match = _REQUESTED.fullmatch(python_version_file.strip().splitlines()[0].strip())
    return match.group(1) if match else None


def image_python(image: str) -> str | None:
    """The Python version an image's tag names ('python:3.13-slim-trixie' -> '3.13',
    'ghcr.io/astral-sh/uv:python3.12-bookworm' -> '3.12'); None when the tag does not say.

    Only Python images count: a tag like `mycorp/base:1.2` names its own version.
    """
    reference = image.split("@", 1)[0]
    repository, _, tag = reference.rpartition(":")
    if not repository or "/" in tag:  # no tag (a registry port is no tag)
        return None
    match = _IMAGE_TAG.match(tag)
    if match is None:
        return None
    named_python = "python" in repository.rsplit("/", 1)[-1] or tag.startswith("python")
    return match.group(1) if named_python else None


def python_mismatch(requested: str, image: str) -> bool:
    """Whether an image with Python `image` cannot satisfy a request for `requested`:
    compared on the parts both name ('3.10' accepts '3.10.12'; '3' says too little)."""
    want, have = _version(requested), _version(image)
    width = min(len(want), len(have))
    return width >= 2 and want[:width] != have[:width]
