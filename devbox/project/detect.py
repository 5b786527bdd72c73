"""What kind of Python project a folder holds, and which Python its image needs: pure logic
over file contents, so each rule is unit-tested."""

import json
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeGuard

from devbox.project.wheels import Locked, compiler_advice, python_bound, without_wheels

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
    pinned = _version_file_python(python_version_file)
    if pinned is not None:
        return pinned
    if not requires_python:
        return DEFAULT_PYTHON
    clauses = [c for c in requires_python.split(",") if c.strip()]
    allowed = [v for v in KNOWN_PYTHONS if all(_allows(c, v) for c in clauses)]
    if DEFAULT_PYTHON in allowed or not allowed:
        return DEFAULT_PYTHON
    return allowed[0]


def _version_file_python(python_version_file: str | None) -> str | None:
    """The minor version `.python-version` names ('3.12.4' -> '3.12'), if it names one."""
    if python_version_file and python_version_file.strip():
        first = python_version_file.strip().splitlines()[0].strip()
        match = re.match(r"(?:cpython-|python)?(\d{1,4}\.\d{1,4})(?!\d)", first)
        if match:
            return match.group(1)
    return None


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


def yours(dockerfile: str | None) -> TypeGuard[str]:
    """A Dockerfile is there and is not devbox's own (whose choices are made again)."""
    return (
        dockerfile is not None
        and dockerfile.strip() != ""
        and not dockerfile.lstrip().startswith("# Generated by devbox")
    )


_DOCKERFILE_FROM = re.compile(r"^\s*FROM\s+(?:--\S+\s+)*(\S+)", re.IGNORECASE | re.MULTILINE)


def dockerfile_python(dockerfile: str | None) -> str | None:
    """The Python image a Dockerfile of the user's starts FROM ('python:3.12-slim'), when
    its tag names a version; None for devbox's own file (its choice is made again) and for
    an ARG-built name."""
    if not yours(dockerfile):
        return None
    for match in _DOCKERFILE_FROM.finditer(dockerfile):
        image = match.group(1)
        if "$" not in image and image_python(image) is not None:
            return image
    return None


_DOCKERFILE_CMD = re.compile(r"^\s*CMD\s+(\[.*\])\s*$", re.IGNORECASE | re.MULTILINE)


def dockerfile_command(dockerfile: str | None) -> tuple[str, ...] | None:
    """What a Dockerfile of the user's runs: its last exec-form `CMD ["fastapi", "dev",
    ...]` (pure). None for devbox's own file (made again from the settings), for a shell
    form, and for a Dockerfile without a CMD."""
    if not yours(dockerfile):
        return None
    found = _DOCKERFILE_CMD.findall(dockerfile)
    if not found:
        return None
    try:
        argv = json.loads(found[-1])
    except ValueError:
        return None
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
        return None
    return tuple(argv)


def allowed_pythons(requires_python: str | None) -> list[str]:
    """The known Pythons `requires-python` allows, in devbox's order of preference: the
    default, then older ones newest first, then newer ones (at least the default)."""
    clauses = [c for c in (requires_python or "").split(",") if c.strip()]
    allowed = [v for v in KNOWN_PYTHONS if all(_allows(c, v) for c in clauses)]
    older = [v for v in allowed if _version(v) < _version(DEFAULT_PYTHON)]
    newer = [v for v in reversed(allowed) if _version(v) > _version(DEFAULT_PYTHON)]
    ordered = [DEFAULT_PYTHON] * (DEFAULT_PYTHON in allowed) + older + newer
    return ordered or [DEFAULT_PYTHON]


@dataclass(frozen=True)
class PythonChoice:
    version: str  # the minor version ('3.12')
    image: str | None  # the exact image, when the project's own Dockerfile names one
    notes: tuple[str, ...] = ()


def choose_python(
    *,
    version_file: str | None,
    requires_python: str | None,
    dockerfile: str | None,
    packages: list[Locked],
    machine: str,
) -> PythonChoice:
    """The Python for the base image, from what the project says, in uv's order:
    `.python-version`, then the Python the project's own Dockerfile starts FROM, then
    the first Python `requires-python` allows that uv.lock has wheels for (a slim image has
    no compiler to build the others). Where the lock lacks wheels, a note says which
    packages would build and the two ways out."""
    allowed = allowed_pythons(requires_python)
    bound = python_bound(packages, machine)  # a package no Python helps does not choose one
    with_wheels = [v for v in allowed if not without_wheels(bound, v, machine)]
    image = None
    source = "image"
    version = with_wheels[0] if with_wheels else allowed[0]
    if (pinned := _version_file_python(version_file)) is not None:
        version, source = pinned, ".python-version"
    elif (image := dockerfile_python(dockerfile)) is not None:
        version = ".".join((image_python(image) or DEFAULT_PYTHON).split(".")[:2])
        source = "Dockerfile"
    notes: list[str] = []
    if source == "image":
        missing = without_wheels(bound, allowed[0], machine)
        if version != allowed[0] and missing:
            names = ", ".join(p.pinned for p in missing[:3]) + (" ..." if len(missing) > 3 else "")
            notes.append(
                f"python: {version}, the first Python requires-python allows that uv.lock has "
                f"wheels for (none for {allowed[0]}: {names})"
            )
    missing = without_wheels(packages, version, machine)
    if missing:
        better = next((v for v in with_wheels if v != version), None)
        notes.append(
            compiler_advice(missing, version, better=better, machine=machine, source=source)
        )
    return PythonChoice(version, image, tuple(notes))
