"""Adding devbox's parts to files a user already has, keeping everything they wrote.

compose.yaml goes through ruamel.yaml's round trip (comments, quotes and key order
survive; pyyaml would drop comments); .dockerignore and pyproject.toml are only
appended to or have lines inserted, as text.
"""

import io
import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError

from devbox.errors import ConfigError, config_error
from devbox.project.dockerignore import PatternMatcher, parse_ignore_text


def _yaml() -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    return yaml


def add_watch(
    text: str, *, file: str, service: str, watch: Sequence[Mapping[str, Any]]
) -> tuple[str, str] | None:
    """`text` with `develop.watch` added to the service to develop, and that service's name.

    None when that service already has watch rules (they are the user's). The service
    is the one named `service`, else the only one with a `build:`.
    """
    yaml = _yaml()
    try:
        data = yaml.load(text)
    except YAMLError as exc:
        raise ConfigError(f"{file}: invalid YAML ({exc}); fix it first") from None
    services = data.get("services") if isinstance(data, CommentedMap) else None
    if not isinstance(services, CommentedMap) or not services:
        raise config_error(file, "services", "missing", "add a service, or move the file away")
    if service in services:
        name = service
    else:
        built = [n for n, s in services.items() if isinstance(s, CommentedMap) and "build" in s]
        if len(built) != 1:
            raise config_error(
                file,
                "services",
                f"no service named {service!r} and {len(built)} with `build:`",
                "name the one to develop with --service",
            )
        name = built[0]
    svc = services[name]
    if not isinstance(svc, CommentedMap):
        raise config_error(file, f"services.{name}", "empty", "give it at least `build: .`")
    develop = svc.get("develop")
    if isinstance(develop, CommentedMap) and develop.get("watch"):
        return None
    if not isinstance(develop, CommentedMap):
        develop = CommentedMap()
        svc["develop"] = develop
    develop["watch"] = [dict(rule) for rule in watch]
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue(), name


def add_ignores(text: str, entries: Sequence[str]) -> tuple[str, list[str]]:
    """`text` with each entry the .dockerignore does not already ignore appended."""
    matcher = PatternMatcher(parse_ignore_text(text))
    missing = [entry for entry in entries if not matcher.matches(entry)]
    if not missing:
        return text, []
    prefix = text if text.endswith("\n") or not text else text + "\n"
    return prefix + "".join(f"{entry}\n" for entry in missing), missing


def _toml_value(value: object) -> str:
    if isinstance(value, bool | int):
        return str(value).lower()
    return json.dumps(value)  # a JSON string or list of strings is valid TOML


def record_settings(text: str, values: Mapping[str, object]) -> tuple[str, list[str]]:
    """`text` with `[tool.devbox]` keys it lacks added; keys already set are the user's.

    Lines are inserted as text (comments and layout stay), in the file's own line
    endings; the result is parsed again and nothing is recorded when devbox could not
    insert them cleanly (say `[tool.devbox]` written as an inline table).
    """
    existing = tomllib.loads(text).get("tool", {}).get("devbox", {})
    missing = {k: v for k, v in values.items() if k not in existing}
    if not missing:
        return text, []
    eol = "\r\n" if "\r\n" in text else "\n"
    lines = "".join(f"{key} = {_toml_value(value)}{eol}" for key, value in missing.items())
    header = re.search(r"^\[tool\.devbox\][ \t]*(#[^\r\n]*)?\r?$", text, flags=re.MULTILINE)
    prefix = text if not text or text.endswith("\n") else text + eol
    if header is None:
        new = f"{prefix}{eol}[tool.devbox]{eol}# Chosen by `devbox init`; edit freely.{eol}{lines}"
    else:
        cut = text.index("\n", header.start()) + 1 if "\n" in text[header.start() :] else None
        new = prefix + lines if cut is None else text[:cut] + lines + text[cut:]
    try:
        recorded = tomllib.loads(new).get("tool", {}).get("devbox", {})
    except tomllib.TOMLDecodeError:
        return text, []
    if any(recorded.get(k) != v for k, v in missing.items()):
        return text, []
    return new, list(missing)
