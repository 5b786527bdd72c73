"""Reading and writing the project's text files: every way a read can fail is a one-line
error naming the file and the fix, and writes are atomic and all-or-nothing."""

import codecs
import contextlib
import os
import tempfile
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from devbox.errors import ConfigError


def read_text(path: Path, *, keep_newlines: bool = False) -> str | None:
    """The file's text, None when it does not exist; a `ConfigError` when it cannot be read.

    Line endings become `\\n`, unless `keep_newlines` (a file devbox adds to keeps its
    CRLF lines as they are)."""
    try:
        with path.open(encoding="utf-8", newline="" if keep_newlines else None) as file:
            return file.read()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, not a file; move it away") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text; save it as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror}); fix its permissions") from None


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16's, which begins the same
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
    (codecs.BOM_UTF8, "utf-8-sig"),
)


def read_requirements(path: Path) -> str | None:
    """A requirements file's text, decoded as pip and uv decode it: by its byte-order mark
    (`pip freeze > requirements.txt` in Windows PowerShell writes UTF-16), else UTF-8."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, not a file; move it away") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror}); fix its permissions") from None
    encoding = next((name for bom, name in _BOMS if data.startswith(bom)), "utf-8")
    try:
        return "\n".join(data.decode(encoding).splitlines())
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not {encoding.upper()} text; save it as UTF-8") from None


def parse_toml(path: Path, text: str) -> dict[str, Any]:
    """A TOML file's table, or a one-line error naming it. A UTF-8 BOM is allowed (uv
    accepts one); nesting too deep for the parser is an error, not a traceback."""
    try:
        return tomllib.loads(text.removeprefix("\ufeff"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}; fix the syntax") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply to read; flatten it") from None


def refuse_link(path: Path) -> None:
    """devbox never writes through a symbolic link: it could change (or create) a file
    outside the project."""
    if path.is_symlink():
        raise ConfigError(
            f"{path}: is a symbolic link; devbox does not write through links (the file may "
            "be outside the project); replace it with a regular file"
        )


def write_all(changes: Sequence[tuple[Path, str]]) -> None:
    """Write every (path, text) or none: each goes to a temporary file in its folder first
    (flushed, the old file's permissions kept), then all are renamed into place; a failure
    while renaming puts back what was already replaced. A reader never sees half a file."""
    for path, _ in changes:
        refuse_link(path)
    staged: list[tuple[Path, Path]] = []
    try:
        for path, text in changes:
            staged.append((_stage(path, text), path))
    except OSError as exc:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise _write_error(exc) from None
    originals: list[tuple[Path, bytes | None]] = []
    try:
        for tmp, path in staged:
            originals.append((path, path.read_bytes() if path.exists() else None))
            tmp.replace(path)
    except OSError as exc:
        for path, old in reversed(originals):
            with contextlib.suppress(OSError):
                if old is None:
                    path.unlink(missing_ok=True)
                else:
                    path.write_bytes(old)
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise _write_error(exc) from None


def _stage(path: Path, text: str) -> Path:
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".devbox-tmp")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        mode = path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~_umask()
        tmp.chmod(mode)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _write_error(exc: OSError) -> ConfigError:
    where = exc.filename or "the project folder"
    return ConfigError(
        f"{where}: cannot write ({exc.strerror}); nothing was changed: free some disk space "
        "or make the project writable, then run devbox init again"
    )
