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

from devbox.errors import DevboxError, ExitCode
from devbox.patterns import PatternMatcher


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
    data = yaml.load(text)
    services = data.get("services") if isinstance(data, CommentedMap) else None
    if not isinstance(services, CommentedMap) or not services:
        raise DevboxError(f"{file}: services: missing; add a service, or move the file away")
    if service in services:
        name = service
    else:
        built = [n for n, s in services.items() if isinstance(s, CommentedMap) and "build" in s]
        if len(built) != 1:
            raise DevboxError(
                f"{file}: services: no service named {service!r} and {len(built)} with `build:`; "
                f"name the one to develop with --service",
                ExitCode.CONFIG,
            )
        name = built[0]
    svc = services[name]
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
    matcher = PatternMatcher(line for line in text.splitlines() if not line.startswith("#"))
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
    """`text` with `[tool.devbox]` keys it lacks added; keys already set are the user's."""
    existing = tomllib.loads(text).get("tool", {}).get("devbox", {})
    missing = {k: v for k, v in values.items() if k not in existing}
    if not missing:
        return text, []
    lines = "".join(f"{key} = {_toml_value(value)}\n" for key, value in missing.items())
    header = re.search(r"^\[tool\.devbox\][ \t]*(#.*)?$", text, flags=re.MULTILINE)
    if header is None:
        prefix = text if text.endswith("\n") else text + "\n"
        return f"{prefix}\n[tool.devbox]\n# Chosen by `devbox init`; edit freely.\n{lines}", list(
            missing
        )
    cut = header.end() + 1
    return text[:cut] + lines + text[cut:], list(missing)
