"""Reading the project's text files: one place that turns every way a read can fail
into a one-line error naming the file and the fix."""

from pathlib import Path

from devbox.errors import ConfigError


def read_text(path: Path) -> str | None:
    """The file's text, None when it does not exist; a `ConfigError` when it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, not a file; move it away") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text; save it as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror}); fix its permissions") from None
