"""Which Pythons a uv.lock has wheels for (devbox/project/wheels.py), and the Python init
chooses from them (devbox/project/detect.py)."""

from pathlib import Path

import pytest

from devbox.project.detect import allowed_pythons, choose_python, dockerfile_python
from devbox.project.settings import read_settings, wheel_notes
from devbox.project.wheels import (
    Locked,
    compiler_advice,
    marker_holds,
    read_lock,
    wheel_fits,
    without_wheels,
)

LINUX = "manylinux_2_17_x86_64.manylinux2014_x86_64"


def wheel(name: str, tags: str) -> str:
    return f'    {{ url = "https://files.example/{name}-1.0-{tags}.whl", hash = "sha256:00" }},\n'


def package(name: str, *tags: str, sdist: bool = True, extra: str = "") -> str:
    wheels = "".join(wheel(name, t) for t in tags)
    source = f'sdist = {{ url = "https://files.example/{name}-1.0.tar.gz" }}\n' if sdist else ""
    return (
        f'[[package]]\nname = "{name}"\nversion = "1.0"\n'
        f'source = {{ registry = "https://pypi.org/simple" }}\n{extra}{source}'
        f"wheels = [\n{wheels}]\n\n"
    )


# A 2024 lock: a C extension with wheels up to CPython 3.12, a pure package, an abi3 one,
# one only Windows installs, one only old Pythons install.
LOCK = (
    'version = 1\nrequires-python = ">=3.11"\n\n'
    '[[package]]\nname = "app"\nversion = "0.1.0"\nsource = { virtual = "." }\n'
    "dependencies = [\n"
    '    { name = "fastcore" },\n    { name = "pure" },\n    { name = "stable" },\n'
    '    { name = "winonly", marker = "sys_platform == \'win32\'" },\n'
    '    { name = "backport", marker = "python_full_version < \'3.12\'" },\n]\n\n'
    + package("fastcore", f"cp311-cp311-{LINUX}", f"cp312-cp312-{LINUX}", "cp313-cp313-win_amd64")
    + package("pure", "py3-none-any")
    + package("stable", f"cp39-abi3-{LINUX}")
    + package("winonly", "cp313-cp313-win_amd64", sdist=False)
    + package("backport", f"cp311-cp311-{LINUX}")
)


@pytest.mark.parametrize(
    ("filename", "python", "fits"),
    [
        (f"x-1-cp312-cp312-{LINUX}.whl", "3.12", True),
        (f"x-1-cp312-cp312-{LINUX}.whl", "3.13", False),
        (f"x-1-cp39-abi3-{LINUX}.whl", "3.13", True),
        (f"x-1-cp39-abi3-{LINUX}.whl", "3.8", False),
        ("x-1-py2.py3-none-any.whl", "3.13", True),
        ("x-1-cp313-cp313t-manylinux_2_28_x86_64.whl", "3.13", False),  # free-threaded
        ("x-1-cp313-cp313-musllinux_1_2_x86_64.whl", "3.13", False),  # Alpine's libc
        ("x-1-cp313-cp313-manylinux_2_28_aarch64.whl", "3.13", False),  # another machine
        ("x-1-cp313-cp313-macosx_11_0_arm64.whl", "3.13", False),
        ("x-1-pp310-pypy310_pp73-manylinux_2_17_x86_64.whl", "3.10", False),
        ("x-1-1build-cp313-cp313-linux_x86_64.whl", "3.13", True),  # with a build tag
    ],
)
def test_wheel_fits_cpython_on_glibc_linux(filename: str, python: str, fits: bool) -> None:
    assert wheel_fits(filename, python, "x86_64") is fits


@pytest.mark.parametrize(
    ("marker", "python", "holds"),
    [
        ("sys_platform == 'win32'", "3.13", False),
        ("sys_platform == 'linux'", "3.13", True),
        ("python_full_version < '3.12'", "3.11", True),
        ("python_full_version < '3.12'", "3.12", False),
        ("python_version >= '3.12' and platform_machine == 'x86_64'", "3.13", True),
        ("(python_version < '3.10' or sys_platform == 'darwin') and extra == 'x'", "3.13", False),
        ("platform_python_implementation != 'PyPy'", "3.13", True),
        ("'linux' in sys_platform", "3.13", True),
        ("sys_platform not in 'win32 cygwin'", "3.13", True),
        ("extra == 'docs'", "3.13", True),  # unknown to devbox: may hold
        ("python_version >= '3.12' and", "3.11", True),  # unparsable: may hold
    ],
)
def test_marker_holds_for_cpython_on_linux(marker: str, python: str, holds: bool) -> None:
    assert marker_holds(marker, python, "x86_64") is holds


def test_packages_without_a_wheel_for_a_python() -> None:
    packages = read_lock(LOCK)
    assert [p.name for p in packages] == ["fastcore", "pure", "stable", "winonly", "backport"]
    names = {
        v: [p.name for p in without_wheels(packages, v, "x86_64")] for v in ("3.11", "3.12", "3.13")
    }
    assert names == {"3.11": [], "3.12": [], "3.13": ["fastcore"]}
    assert [p.name for p in without_wheels(packages, "3.11", "aarch64")] == [
        "fastcore",
        "stable",
        "backport",
    ]


def test_a_package_only_some_resolutions_use() -> None:
    old = Locked("np", "1.0", (f"np-1.0-cp311-cp311-{LINUX}.whl",), True,
                 markers=("python_full_version < '3.12'",))  # fmt: skip
    assert without_wheels([old], "3.13", "x86_64") == []
    assert without_wheels([old], "3.11", "x86_64") == []


def test_an_unreadable_lock_has_no_packages() -> None:
    assert read_lock("not = [toml") == []


def test_allowed_pythons_prefers_the_default_then_older() -> None:
    assert allowed_pythons(None)[:3] == ["3.13", "3.12", "3.11"]
    assert allowed_pythons(">=3.11")[-1] == "3.14"
    assert allowed_pythons(">=3.10,<3.12") == ["3.11", "3.10"]
    assert allowed_pythons(">=4") == ["3.13"]


def test_init_chooses_a_python_the_lock_has_wheels_for() -> None:
    choice = choose_python(
        version_file=None, requires_python=">=3.11", dockerfile=None,
        packages=read_lock(LOCK), machine="x86_64",
    )  # fmt: skip
    assert (choice.version, choice.image) == ("3.12", None)
    assert choice.notes == (
        "python: 3.12, the first Python requires-python allows that uv.lock has wheels for "
        "(none for 3.13: fastcore==1.0)",
    )


def test_no_python_with_every_wheel_says_which_packages_build() -> None:
    lock = LOCK + package("newonly", f"cp313-cp313-{LINUX}")
    choice = choose_python(
        version_file=None, requires_python=">=3.11", dockerfile=None,
        packages=read_lock(lock), machine="x86_64",
    )  # fmt: skip
    assert choice.version == "3.13"
    assert choice.notes == (
        "uv.lock has no Python 3.13 wheel for fastcore==1.0: they build from source, which "
        "needs a compiler (slim images have none); use a Python the lock has wheels for, or "
        "`uv lock --upgrade-package fastcore` to releases with 3.13 wheels",
    )


def test_what_the_project_says_comes_first() -> None:
    packages = read_lock(LOCK)
    pinned = choose_python(
        version_file="3.13\n", requires_python=">=3.11", dockerfile="FROM python:3.12-slim\n",
        packages=packages, machine="x86_64",
    )  # fmt: skip
    assert pinned.version == "3.13"
    assert "write 3.12 in .python-version" in pinned.notes[0]
    own = choose_python(
        version_file=None, requires_python=">=3.11",
        dockerfile="FROM --platform=linux/amd64 python:3.12-slim-bookworm AS base\n",
        packages=packages, machine="x86_64",
    )  # fmt: skip
    assert (own.version, own.image, own.notes) == ("3.12", "python:3.12-slim-bookworm", ())


@pytest.mark.parametrize(
    ("dockerfile", "image"),
    [
        ("FROM python:3.12-slim\n", "python:3.12-slim"),
        ("FROM ubuntu:24.04 AS os\nFROM python:3.11 AS app\n", "python:3.11"),
        ("ARG PY=3.12\nFROM python:${PY}-slim\n", None),
        ("# Generated by devbox 1.0\nFROM python:3.12-slim-trixie AS dev\n", None),
        ("FROM node:20\n", None),
    ],
)
def test_dockerfile_python(dockerfile: str, image: str | None) -> None:
    assert dockerfile_python(dockerfile) == image


def test_advice_names_the_way_out_for_what_chose_the_python() -> None:
    missing = [Locked("c", "1", ("c-1-cp311-cp311-linux_x86_64.whl",), True)]
    assert "start your Dockerfile FROM python:3.11-..." in compiler_advice(
        missing, "3.13", better="3.11", machine="x86_64", source="Dockerfile"
    )
    assert "pass --python-image python:3.11-slim-trixie" in compiler_advice(
        missing, "3.13", better="3.11", machine="x86_64"
    )


def test_a_package_with_no_linux_wheel_is_not_a_matter_of_python() -> None:
    """oattao123/djrepo: psycopg2 ships Windows wheels only, so no Python helps: the advice
    is a compiler in the image or the binary build, and the Python is chosen without it."""
    psycopg2 = Locked("psycopg2", "2.9.11", ("psycopg2-2.9.11-cp313-cp313-win_amd64.whl",), True)
    old = Locked("c", "1", ("c-1-cp311-cp311-linux_x86_64.whl",), True)
    advice = compiler_advice([psycopg2], "3.13", better=None, machine="x86_64")
    assert advice.startswith("uv.lock has no Linux wheel for psycopg2==2.9.11 on any Python")
    assert "`uv remove psycopg2 && uv add psycopg2-binary`" in advice
    assert "use a Python the lock has wheels for" not in advice
    both = compiler_advice([old, psycopg2], "3.13", better="3.11", machine="x86_64")
    assert "no Python 3.13 wheel for c==1" in both and "psycopg2==2.9.11 on any Python" in both
    choice = choose_python(
        version_file=None,
        requires_python=">=3.11",
        dockerfile=None,
        packages=[psycopg2, old],
        machine="x86_64",
    )
    assert choice.version == "3.11"  # the Python c has wheels for; psycopg2 builds anyway
    assert any("psycopg2==2.9.11 on any Python" in note for note in choice.notes)


def test_read_settings_picks_the_python_from_the_lock(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
    )
    (tmp_path / "uv.lock").write_text(LOCK)
    settings = read_settings(tmp_path)
    assert settings.python_image == "python:3.12-slim-trixie"
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0.1.0"\n'
        '[tool.devbox]\npython-image = "python:3.13-slim-trixie"\n'
    )
    settings = read_settings(tmp_path)
    assert not any("wheel" in n for n in settings.notes)  # every command: no lock parsed
    notes = wheel_notes(tmp_path, settings)  # init's own check of the image it was given
    assert len(notes) == 1
    assert "no Python 3.13 wheel for fastcore==1.0" in notes[0]
    assert "pass --python-image python:3.12-slim-trixie" in notes[0]
