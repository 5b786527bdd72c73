"""Where the project is, and which compose files Compose itself would read: the one
locator every command uses.

The project folder is the nearest one, from the start folder upward (like git and
Compose), holding a compose file, `pyproject.toml` or `requirements.txt` (a project
`devbox init` has not seen yet has no compose file); a uv workspace member without a
compose file of its own belongs to its workspace root, found as uv finds it (the nearest
parent whose `[tool.uv.workspace]` members include it and whose `exclude` does not). The
compose files
are `COMPOSE_FILE`'s entries when it is set, else the default file and its
override, as Compose picks them: an explicit `--file` would turn the override off.
"""

import os
from dataclasses import dataclass
from pathlib import Path

from devbox.errors import ConfigError

# compose-go's order of preference.
COMPOSE_FILE_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
OVERRIDE_FILE_NAMES = (
    "compose.override.yml",
    "compose.override.yaml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
)
PROJECT_MARKERS = ("pyproject.toml", "requirements.txt")


@dataclass(frozen=True)
class ProjectPaths:
    """The project folder and its compose files (main file first; none before init)."""

    dir: Path
    compose_files: tuple[Path, ...]

    @property
    def compose_file(self) -> Path:
        """The main compose file: the one `devbox init` writes or merges into."""
        return self.compose_files[0] if self.compose_files else self.dir / COMPOSE_FILE_NAMES[0]


def _first(folder: Path, names: tuple[str, ...]) -> Path | None:
    """The first name present (a folder of that name too: reading it says what is wrong)."""
    return next((folder / n for n in names if (folder / n).exists()), None)


def default_compose_files(folder: Path) -> tuple[Path, ...]:
    """The default compose file in `folder` and its override, as Compose picks them."""
    main = _first(folder, COMPOSE_FILE_NAMES)
    if main is None:
        return ()
    override = _first(folder, OVERRIDE_FILE_NAMES)
    return (main,) if override is None else (main, override)


def _from_env(start: Path, value: str) -> tuple[Path, ...]:
    separator = os.environ.get("COMPOSE_PATH_SEPARATOR") or os.pathsep
    files = []
    for entry in filter(None, value.split(separator)):
        path = Path(entry) if Path(entry).is_absolute() else start / entry
        if not path.exists():
            raise ConfigError(f"{path}: not found (from COMPOSE_FILE); fix COMPOSE_FILE")
        files.append(path.resolve())
    return tuple(files)


def _workspace_table(folder: Path) -> dict[str, object] | None:
    """`[tool.uv.workspace]` of the folder's pyproject.toml; None when it has none (or the
    file cannot be read: devbox reports that when it reads the project itself)."""
    import tomllib  # not at the top: the direct shell imports this module, rarely this

    try:
        text = (folder / "pyproject.toml").read_text(encoding="utf-8")
        data = tomllib.loads(text.removeprefix("\ufeff"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        return None
    tool = data.get("tool")
    uv = tool.get("uv") if isinstance(tool, dict) else None
    workspace = uv.get("workspace") if isinstance(uv, dict) else None
    return workspace if isinstance(workspace, dict) else None


def _globbed(root: Path, patterns: object, member: Path) -> bool:
    """Whether one of the globs (relative to `root`, as uv reads `members` and `exclude`)
    names the folder `member`."""
    if not isinstance(patterns, list):
        return False
    for pattern in patterns:
        if not isinstance(pattern, str) or not pattern or Path(pattern).is_absolute():
            continue
        try:
            if any(found.resolve() == member for found in root.glob(pattern)):
                return True
        except (OSError, ValueError, NotImplementedError):
            continue
    return False


def workspace_root(member: Path) -> Path | None:
    """The uv workspace root the project folder `member` is a member of, as uv finds it:
    the nearest parent with a `[tool.uv.workspace]` that includes it (`members`) and does
    not exclude it (`exclude`); None when there is none (or the nearest one leaves it out)."""
    if _workspace_table(member) is not None:
        return None  # a workspace root itself
    for folder in member.parents:
        workspace = _workspace_table(folder)
        if workspace is None:
            continue
        if _globbed(folder, workspace.get("exclude"), member):
            return None
        return folder if _globbed(folder, workspace.get("members"), member) else None
    return None


def locate(start: Path) -> ProjectPaths:
    """The project that `start` (a folder) belongs to."""
    start = start.resolve()
    env = os.environ.get("COMPOSE_FILE")
    if env:
        files = _from_env(start, env)
        if files:
            return ProjectPaths(files[0].parent, files)
    for folder in (start, *start.parents):
        files = default_compose_files(folder)
        if files:
            return ProjectPaths(folder, files)
        if _first(folder, PROJECT_MARKERS) is not None:
            root = workspace_root(folder) if (folder / "pyproject.toml").is_file() else None
            if root is not None:
                return ProjectPaths(root, default_compose_files(root))
            return ProjectPaths(folder, files)
    return ProjectPaths(start, ())  # no project: each command says what it misses


def require_compose(paths: ProjectPaths) -> ProjectPaths:
    """`paths`, when it has a compose file; else the error that says to run init."""
    if not paths.compose_files:
        raise ConfigError(
            f"{paths.dir}: no compose.yaml here or in a parent folder; run `devbox init` first"
        )
    return paths
