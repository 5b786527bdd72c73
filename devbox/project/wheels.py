"""Which Pythons a `uv.lock` has wheels for: pure logic over the lock's text.

A locked package whose wheels are all binary and none fits a Python (an old lock pinned
before that Python was released) is built from its sdist in the image, which needs a
compiler the slim base images do not have. So init prefers a Python every locked package
has a wheel for, and init and `devbox doctor` name the packages that would build.

Only what applies on the image counts: CPython on Linux (glibc: `manylinux`/`linux`
wheels) for one machine; a package whose every reference in the lock carries a marker
that excludes that Python or platform (`sys_platform == 'win32'`,
`python_full_version < '3.11'`) is left out.
"""

import re
import tomllib
from dataclasses import dataclass, field
from typing import Any

LINUX = {
    "sys_platform": "linux",
    "platform_system": "Linux",
    "os_name": "posix",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
}
_VERSION_VARS = ("python_version", "python_full_version")


@dataclass(frozen=True)
class Locked:
    """One `[[package]]` of the lock: its wheel file names, and the markers it applies under."""

    name: str
    version: str
    wheels: tuple[str, ...]
    sdist: bool
    markers: tuple[str, ...] = ()  # `resolution-markers`: one must hold (none: always)
    edges: tuple[str | None, ...] = field(default=())  # markers of the references to it

    @property
    def pinned(self) -> str:
        return f"{self.name}=={self.version}"


def read_lock(text: str) -> list[Locked]:
    """The registry packages of a uv.lock that come as wheels (a project's own package, a
    path or git dependency has none); an unreadable lock has none."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return []
    packages = [p for p in data.get("package", []) if isinstance(p, dict)]
    edges: dict[str, list[str | None]] = {}
    for package in packages:
        for dep in _references(package):
            edges.setdefault(str(dep.get("name")), []).append(
                str(dep["marker"]) if isinstance(dep.get("marker"), str) else None
            )
    found = []
    for package in packages:
        wheels = package.get("wheels")
        if not isinstance(wheels, list) or not wheels:
            continue
        names = tuple(
            str(w.get("url") or w.get("path") or w.get("filename") or "").rsplit("/", 1)[-1]
            for w in wheels
            if isinstance(w, dict)
        )
        markers = package.get("resolution-markers", [])
        name = str(package.get("name"))
        found.append(
            Locked(
                name=name,
                version=str(package.get("version", "")),
                wheels=tuple(n for n in names if n.endswith(".whl")),
                sdist=isinstance(package.get("sdist"), dict),
                markers=tuple(str(m) for m in markers) if isinstance(markers, list) else (),
                edges=tuple(edges.get(name, ())),
            )
        )
    return found


def _references(package: dict[str, Any]) -> list[dict[str, Any]]:
    refs = list(package.get("dependencies", []) or [])
    for table in ("optional-dependencies", "dev-dependencies"):
        for group in (package.get(table) or {}).values():
            refs += list(group or [])
    return [r for r in refs if isinstance(r, dict)]


def _version(text: str) -> tuple[int, ...]:
    parts = re.findall(r"\d+", text)
    return tuple(int(p) for p in parts[:3])


def wheel_fits(filename: str, python: str, machine: str) -> bool:
    """Whether a wheel installs on CPython `python` ('3.12') on glibc Linux `machine`."""
    parts = filename.removesuffix(".whl").split("-")
    if len(parts) < 5:
        return False
    pythons, abis, platforms = (tag.split(".") for tag in parts[-3:])
    if not any(p == "any" or (p.startswith(("manylinux", "linux_")) and p.endswith("_" + machine))
               for p in platforms):  # fmt: skip
        return False
    want = _version(python)[:2]
    for tag in pythons:
        number = re.fullmatch(r"(cp|py)(\d)(\d*)", tag)
        if number is None:
            continue
        kind, major, minor = number.group(1), int(number.group(2)), number.group(3)
        have = (major, int(minor)) if minor else (major,)
        for abi in abis:
            if abi == "none" and (kind == "py" or have == want) and have[0] == want[0]:
                return True
            if abi == "abi3" and kind == "cp" and have <= want and have[0] == want[0]:
                return True
            if abi == f"cp{major}{minor}" and have == want:
                return True
    return False


def marker_holds(marker: str, python: str, machine: str) -> bool:
    """Whether a PEP 508 marker holds for CPython `python` on Linux `machine`; a variable
    devbox does not know (an extra) holds, and so does a marker it cannot parse."""
    env = {**LINUX, "platform_machine": machine, "python_version": python,
           "python_full_version": f"{python}.0"}  # fmt: skip
    tokens: list[str] = re.findall(
        r"\s*(\(|\)|'[^']*'|\"[^\"]*\"|===|==|!=|<=|>=|~=|<|>|not\s+in\b|in\b|and\b|or\b|[\w.]+)",
        marker,
    )
    if "".join(t.strip() for t in tokens).replace(" ", "") != re.sub(r"\s+", "", marker):
        return True
    tokens = [re.sub(r"\s+", " ", str(t).strip()) for t in tokens]
    position = 0

    def peek() -> str | None:
        return tokens[position] if position < len(tokens) else None

    def take() -> str:
        nonlocal position
        position += 1
        return tokens[position - 1]

    def value() -> tuple[str, bool]:  # (text, is a variable)
        token = take()
        if token[:1] in "'\"":
            return token[1:-1], False
        return token, True

    def compare() -> bool | None:
        if peek() == "(":
            take()
            result = either()
            take()  # ")"
            return result
        left, left_var = value()
        op = take()
        right, right_var = value()
        name = left if left_var else right if right_var else ""
        if name not in env:
            return None  # unknown: may hold
        known = env[name]
        other = right if left_var else left
        if name in _VERSION_VARS and op not in ("in", "not in"):
            a, b = (
                (_version(known), _version(other))
                if left_var
                else (_version(other), _version(known))
            )
            width = max(len(a), len(b))
            a, b = a + (0,) * (width - len(a)), b + (0,) * (width - len(b))
            return {"==": a == b, "===": a == b, "!=": a != b, "<": a < b, "<=": a <= b,
                    ">": a > b, ">=": a >= b, "~=": a >= b}[op]  # fmt: skip
        if op in ("in", "not in"):
            inside = (known in other) if left_var else (other in known)
            return inside if op == "in" else not inside
        return (known == other) if op in ("==", "===") else (known != other) if op == "!=" else None

    def both() -> bool | None:
        result = compare()
        while peek() == "and":
            take()
            right = compare()
            result = False if result is False or right is False else (
                None if result is None or right is None else True
            )  # fmt: skip
        return result

    def either() -> bool | None:
        result = both()
        while peek() == "or":
            take()
            right = both()
            result = True if result is True or right is True else (
                None if result is None or right is None else False
            )  # fmt: skip
        return result

    try:
        result = either()
    except (IndexError, KeyError):
        return True
    return result is not False


def applies(package: Locked, python: str, machine: str) -> bool:
    """Whether the package is installed on that Python and machine, as far as markers say."""
    if package.markers and not any(marker_holds(m, python, machine) for m in package.markers):
        return False
    if package.edges and all(m is not None for m in package.edges):
        return any(marker_holds(m, python, machine) for m in package.edges if m is not None)
    return True


def without_wheels(packages: list[Locked], python: str, machine: str) -> list[Locked]:
    """The packages that would be built from source (or cannot install) on that Python."""
    return [
        p
        for p in packages
        if p.wheels
        and applies(p, python, machine)
        and not any(wheel_fits(w, python, machine) for w in p.wheels)
    ]


_PYTHONS = tuple(f"3.{minor}" for minor in range(8, 16))
# Packages that publish no Linux wheels, and the package that is their binary build.
BINARY_VARIANTS = {"psycopg2": "psycopg2-binary"}


def builds_everywhere(package: Locked, machine: str) -> bool:
    """No wheel of the package fits Linux on `machine` for any Python (psycopg2 ships
    Windows and macOS wheels only): choosing another Python cannot help."""
    return not any(wheel_fits(w, py, machine) for w in package.wheels for py in _PYTHONS)


def python_bound(packages: list[Locked], machine: str) -> list[Locked]:
    """The packages whose wheels depend on the Python: those a choice of Python can serve."""
    return [p for p in packages if not builds_everywhere(p, machine)]


def machine_name(machine: str) -> str:
    """A wheel tag's machine name for `platform.machine()` ('arm64' -> 'aarch64')."""
    lowered = machine.lower()
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(lowered, lowered or "x86_64")


def compiler_advice(
    missing: list[Locked],
    python: str,
    *,
    better: str | None,
    machine: str,
    source: str = "image",
) -> str:
    """One line: which packages build from source on `python`, and the ways out.

    `source` is what chose that Python (`.python-version`, `Dockerfile`, or the image), so
    the first way out changes that. A package with no Linux wheel for any Python gets the
    ways out that exist for it: a compiler in the image, or its binary build."""
    never = [p for p in missing if builds_everywhere(p, machine)]
    bound = [p for p in missing if p not in never]
    parts = []
    if bound:
        parts.append(_version_advice(bound, python, better=better, source=source))
    if never:
        names = ", ".join(p.pinned for p in never[:5]) + (" ..." if len(never) > 5 else "")
        variants = [(p.name, BINARY_VARIANTS[p.name]) for p in never if p.name in BINARY_VARIANTS]
        binary = "".join(
            f", or `uv remove {name} && uv add {variant}` (its binary build)"
            for name, variant in variants[:2]
        )
        parts.append(
            f"uv.lock has no Linux wheel for {names} on any Python: it builds from source, "
            "which needs a compiler and its C headers (slim images have none); install them "
            f"in the Dockerfile's builder stage (`apt-get install -y build-essential`){binary}"
        )
    return "; ".join(parts)


def _version_advice(missing: list[Locked], python: str, *, better: str | None, source: str) -> str:
    names = ", ".join(p.pinned for p in missing[:5]) + (" ..." if len(missing) > 5 else "")
    upgrade = " ".join(f"--upgrade-package {p.name}" for p in missing[:5])
    if better is None:
        other = "use a Python the lock has wheels for"
    elif source == ".python-version":
        other = f"write {better} in .python-version (the lock has wheels for {better})"
    elif source == "Dockerfile":
        other = f"start your Dockerfile FROM python:{better}-... (the lock has wheels for {better})"
    else:
        other = (
            f"pass --python-image python:{better}-slim-trixie (the lock has wheels for {better})"
        )
    return (
        f"uv.lock has no Python {python} wheel for {names}: they build from source, which "
        f"needs a compiler (slim images have none); {other}, or `uv lock {upgrade}` to "
        f"releases with {python} wheels"
    )
