"""Which Compose settings each way of running applies: one table, read by `up` (its
start-up line names what the project sets and the chosen mode leaves out) and written
into docs/dev-loop.md (tests/test_docs.py checks the page holds this table).

Compose watch and compose mode let Compose create the containers, so they apply nearly
everything; the fallback runs the developed services with `docker run` and applies what
Compose's resolved model gives it (or, with no Compose at all, what devbox reads from the
file itself). Pure data and pure functions.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from devbox.defaults import UV_CACHE_DIR
from devbox.engine.modes import Mode
from devbox.engine.owner import mount_target


class Runner(StrEnum):
    """Who applies the compose file's settings: a column of the table."""

    WATCH = "Compose watch (`--mode watch`)"
    COMPOSE = "compose mode (the default)"
    FALLBACK = "fallback with a Compose"
    BARE = "fallback without Compose"


def runner(mode: Mode, *, resolved: bool) -> Runner:
    """The column for a mode (`resolved`: a Compose resolved the project for the fallback)."""
    if mode is Mode.WATCH:
        return Runner.WATCH
    if mode is Mode.COMPOSE:
        return Runner.COMPOSE
    return Runner.FALLBACK if resolved else Runner.BARE


@dataclass(frozen=True)
class Cell:
    applied: bool
    note: str = ""

    def text(self) -> str:
        word = "yes" if self.applied else "no"
        return f"{word}: {self.note}" if self.note else word


YES = Cell(True)
NO = Cell(False)


def _more_than_one(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 1


def _is_true(value: object) -> bool:
    return value is True


def _not_uv_cache(value: object) -> bool:
    """Anything beyond uv's cache mount, which the fallback mounts itself."""
    return not (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(v, str) and mount_target(v) == UV_CACHE_DIR for v in value)
    )


@dataclass(frozen=True)
class Setting:
    """A service setting (`deploy.replicas`; `*` stands for any key) and how each runner
    treats it; `matters` says whether a value makes a difference (`replicas: 1` does not)."""

    path: str
    cells: Mapping[Runner, Cell]
    matters: Callable[[object], bool] | None = None


def _row(
    path: str,
    *,
    compose: Cell = YES,
    fallback: Cell = YES,
    bare: Cell = NO,
    matters: Callable[[object], bool] | None = None,
) -> Setting:
    cells = {Runner.WATCH: YES, Runner.COMPOSE: compose, Runner.FALLBACK: fallback}
    return Setting(path, cells | {Runner.BARE: bare}, matters)


_OWN_CONTAINERS = Cell(False, "devbox names, restarts and labels its own containers")
_ONE_CONTAINER = Cell(False, "one container per developed service")
_DEVBOX_SYNCS = Cell(True, "by devbox's watcher")
_FIRST_REPLICA = Cell(False, "only the first replica is synced")

SETTINGS: tuple[Setting, ...] = (
    _row("build", bare=YES),
    _row("image", bare=YES),
    _row("command", bare=YES),
    _row("working_dir", bare=YES),
    _row("user", bare=YES),
    _row("ports", bare=YES),
    _row("environment", bare=Cell(True, "`$$` read as `$`, no `${VAR}`")),
    _row("develop", compose=_DEVBOX_SYNCS, fallback=_DEVBOX_SYNCS, bare=_DEVBOX_SYNCS),
    _row("env_file"),
    _row("volumes", bare=Cell(False, "uv's cache volume only"), matters=_not_uv_cache),
    _row("tmpfs"),
    _row("entrypoint"),
    _row("healthcheck"),
    _row("extra_hosts"),
    _row("networks", fallback=Cell(True, "joined under the service's name")),
    _row("depends_on", fallback=Cell(True, "devbox waits for the conditions")),
    _row(
        "depends_on.*.restart",
        compose=Cell(False, "a restart rule does not restart the dependents"),
        fallback=NO,
        matters=_is_true,
    ),
    _row("profiles"),
    _row("extends", bare=Cell(True, "resolved by devbox's reader")),
    _row("deploy", fallback=NO),
    *(
        _row(
            path,
            compose=_FIRST_REPLICA,
            fallback=_ONE_CONTAINER,
            bare=_ONE_CONTAINER,
            matters=_more_than_one,
        )
        for path in ("deploy.replicas", "scale")
    ),
    _row("container_name", fallback=_OWN_CONTAINERS),
    _row("restart", fallback=_OWN_CONTAINERS),
    _row("labels", fallback=_OWN_CONTAINERS),
    _row("*", fallback=NO),  # cap_add, privileged, shm_size, devices, init, hostname, ...
)
_BY_PATH = {s.path: s for s in SETTINGS}
_DEPENDENT = [s for s in SETTINGS if s.path.startswith("depends_on.*.")]


def unapplied(
    col: Runner, services: Mapping[str, Any], developed: list[str]
) -> list[tuple[str, Cell]]:
    """What the project's services set that `col` does not apply for the developed ones,
    as (`services.web.restart`, its cell), in file order. A `depends_on` entry naming a
    developed service counts on whichever service holds it: that dependent is left out."""
    found: list[tuple[str, Cell]] = []
    for name in developed:
        raw = services.get(name)
        if isinstance(raw, dict):
            found += _unapplied_in(col, name, raw)
    for name, raw in services.items():
        needs = raw.get("depends_on") if isinstance(raw, dict) else None
        if not isinstance(needs, dict):
            continue
        for dep, spec in needs.items():
            if dep not in developed or not isinstance(spec, dict):
                continue
            for setting in _DEPENDENT:
                key, cell = setting.path.rsplit(".", 1)[1], setting.cells[col]
                if key in spec and not cell.applied and _matters(setting, spec[key]):
                    found.append((f"services.{name}.depends_on.{dep}.{key}", cell))
    return found


def _matters(setting: Setting, value: object) -> bool:
    return setting.matters is None or setting.matters(value)


def _unapplied_in(col: Runner, name: str, raw: dict[str, Any]) -> list[tuple[str, Cell]]:
    found: list[tuple[str, Cell]] = []
    for key, value in raw.items():
        key = str(key)
        if key.startswith("x-"):
            continue  # an extension field: not a setting
        setting = _BY_PATH.get(key, _BY_PATH["*"])
        cell = setting.cells[col]
        if not cell.applied and _matters(setting, value):
            found.append((f"services.{name}.{key}", cell))
        elif isinstance(value, dict):
            for sub, sub_value in value.items():
                nested = _BY_PATH.get(f"{key}.{sub}")
                if nested and not nested.cells[col].applied and _matters(nested, sub_value):
                    found.append((f"services.{name}.{key}.{sub}", nested.cells[col]))
    return found


def markdown_table() -> str:
    """The table as docs/dev-loop.md shows it."""
    cols = list(Runner)
    lines = [
        "| Setting | " + " | ".join(c.value for c in cols) + " |",
        "|---" * (len(cols) + 1) + "|",
    ]
    for setting in SETTINGS:
        name = "every other setting" if setting.path == "*" else f"`{setting.path}`"
        lines.append(f"| {name} | " + " | ".join(setting.cells[c].text() for c in cols) + " |")
    return "\n".join(lines) + "\n"


def unapplied_line(col: Runner, found: list[tuple[str, Cell]]) -> str:
    """`up`'s start-up line naming what is left out (empty when nothing is)."""
    if not found:
        return ""
    parts = [f"{path} ({cell.note})" if cell.note else path for path, cell in found]
    return f"not applied in {col.value}: {'; '.join(parts)}"
