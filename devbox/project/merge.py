"""Adding devbox's parts to files a user already has, keeping everything they wrote.

compose.yaml goes through ruamel.yaml's round trip (comments, quotes and key order
survive; pyyaml would drop comments); .dockerignore and pyproject.toml are only
appended to or have lines inserted (pyproject.toml through tomlkit, which keeps its layout).
"""

import copy
import io
import itertools
import os
import re
import tomllib
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, NamedTuple

import yaml as pyyaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from devbox.defaults import APP_DIR
from devbox.errors import ConfigError, config_error
from devbox.project.choices import devbox_table, is_chosen, mark
from devbox.project.dockerignore import BuildIgnore, parse_ignore_text
from devbox.project.secrets import BLOCK_HEADER, ENV_EXAMPLES, ENV_PATTERNS, KEY_PATTERNS, exposure


class Layout(NamedTuple):
    """How a YAML file is written, so that a round trip changes only the lines devbox adds.

    `mapping` is a nested key's indent, `sequence` a list item's content indent and
    `offset` its dash's indent, both from the parent key (ruamel.yaml's `indent(...)`).
    """

    mapping: int = 2
    sequence: int = 4
    offset: int = 2
    newline: str = "\n"
    bom: bool = False


_BLOCK_KEY = re.compile(r"^(?P<dash>-[ ]+)?(?P<key>[^\s#][^#]*?):[ \t]*(#.*)?$")


def detect_layout(text: str) -> Layout:
    """The indents (first nested key, first block sequence), line ending and BOM of `text`.

    A file without nested keys or lists keeps devbox's defaults for what it lacks; a
    list's items follow the file's mapping indent then.
    """
    bom = text.startswith("\ufeff")
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = [
        (len(line) - len(line.lstrip(" ")), line.strip())
        for line in text.lstrip("\ufeff").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    mapping = sequence = offset = None
    for (indent, content), (next_indent, next_content) in itertools.pairwise(lines):
        match = _BLOCK_KEY.match(content)
        if match is None:
            continue
        column = indent + (len(match.group("dash")) if match.group("dash") else 0)
        item = next_content == "-" or next_content.startswith("- ")
        if item and offset is None and next_indent >= column:
            rest = next_content[1:]
            offset = next_indent - column
            sequence = offset + 1 + max(1, len(rest) - len(rest.lstrip(" ")))
        elif not item and mapping is None and next_indent > column:
            mapping = next_indent - column
        if mapping is not None and offset is not None:
            break
    mapping = mapping or 2
    if offset is None or sequence is None:
        offset, sequence = mapping, mapping + 2
    return Layout(mapping, max(sequence, offset + 2), offset, newline, bom)


def _yaml(layout: Layout | None = None) -> YAML:
    layout = layout or Layout()
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.indent(mapping=layout.mapping, sequence=layout.sequence, offset=layout.offset)
    yaml.width = 4096
    return yaml


def _shared(data: object) -> set[int]:
    """The ids of the mappings and lists reached more than once: anchors that aliases (or
    `<<:` merge keys) share. Writing into one would change every user of it."""
    seen: dict[int, int] = {}

    def walk(node: object) -> None:
        if not isinstance(node, CommentedMap | CommentedSeq):
            return
        seen[id(node)] = seen.get(id(node), 0) + 1
        if seen[id(node)] > 1:
            return
        for child in node.values() if isinstance(node, CommentedMap) else node:
            walk(child)

    walk(data)
    return {key for key, count in seen.items() if count > 1}


class Merged(NamedTuple):
    """The merged compose text, the service it develops, and whether its target was set."""

    text: str
    service: str
    added_target: bool
    added_env_file: bool = False
    shielded: tuple[str, ...] = ()  # services given an anonymous volume on /app/.venv


def _same_folder(context: str) -> bool:
    return os.path.normpath(context) == "."


def _no_dev_stage(context: str, dockerfile: str) -> bool:
    return False


def build_context(build: object) -> tuple[str, str] | None:
    """`(context, dockerfile)` of a `build:` value as written, None for no usable build."""
    if isinstance(build, str):
        return build, "Dockerfile"
    if isinstance(build, Mapping):
        return str(build.get("context", ".")), str(build.get("dockerfile", "Dockerfile"))
    return None


def _developed(
    services: CommentedMap, service: str, file: str, builds_project: Callable[[str], bool]
) -> str:
    """The service to develop: the one named; else the only one with `build:`; else the only
    one whose build context is the project's own folder; else, of those, the only one that
    publishes ports (the web app beside workers built from the same image). Ask only when
    really ambiguous."""
    if service in services:
        return service
    built = {
        str(name): where
        for name, svc in services.items()
        if isinstance(svc, CommentedMap) and (where := build_context(svc.get("build")))
    }
    if len(built) == 1:
        return next(iter(built))
    own = [name for name, (context, _) in built.items() if builds_project(context)]
    if len(own) == 1:
        return own[0]
    serving = [name for name in own if services[name].get("ports")]
    if len(serving) == 1:
        return serving[0]
    if not built:
        raise config_error(
            file,
            "services",
            f"no service named {service!r} and none with `build:`",
            "add `build: .` to the service to develop, or name it with --service",
        )
    with_build = f"of the {len(built)} services with `build:`"
    problem = (
        f"{len(own)} {with_build} build this folder ({', '.join(own)})"
        if own
        else f"none {with_build} builds this folder"
    )
    raise config_error(
        file,
        "services",
        f"no service named {service!r}, and {problem}",
        "name the one to develop with --service",
    )


def _own(svc: CommentedMap, key: str, shared: set[int]) -> CommentedMap | None:
    """`svc[key]` as a mapping of the service's own: one it shares with other nodes (an
    alias, or inherited through `<<:`) is replaced by a copy, as Compose's merge would."""
    value = svc.get(key)
    if not isinstance(value, CommentedMap):
        return None
    if id(value) in shared:
        value = CommentedMap(value.items())
        svc[key] = value
    return value


VENV = f"{APP_DIR}/.venv"


def _mount(entry: object) -> tuple[str, str] | None:
    """`(source, target)` of a `volumes:` entry, short (`.:/app:z`) or long syntax."""
    if isinstance(entry, str):
        parts = entry.split(":")
        return (parts[0], parts[1]) if len(parts) >= 2 else ("", parts[0])
    if isinstance(entry, Mapping):
        return str(entry.get("source", "")), str(entry.get("target", ""))
    return None


def _shield_venvs(
    services: CommentedMap, builds_project: Callable[[str], bool], shared: set[int]
) -> tuple[str, ...]:
    """Services built from this project that bind-mount its folder over /app (`.:/app`,
    as Django and Celery setups do) hide the image's /app/.venv behind the host's (none,
    or one for another platform): each gets an anonymous volume on /app/.venv, which
    keeps the image's environment there, unless it has one."""
    shielded = []
    for name, svc in services.items():
        where = build_context(svc.get("build")) if isinstance(svc, CommentedMap) else None
        if where is None or not builds_project(where[0]):
            continue
        volumes = svc.get("volumes")
        if not isinstance(volumes, CommentedSeq):
            continue
        mounts = [m for m in map(_mount, volumes) if m is not None]
        over_app = any(
            target.rstrip("/") == APP_DIR and source and builds_project(source)
            for source, target in mounts
        )
        if not over_app or any(target.rstrip("/") == VENV for _, target in mounts):
            continue
        if id(volumes) in shared:  # an anchor's list: the service gets its own copy
            volumes = CommentedSeq(volumes)
            svc["volumes"] = volumes
        volumes.append(VENV)
        shielded.append(str(name))
    return tuple(shielded)


def _set_dev_target(svc: CommentedMap, shared: set[int]) -> None:
    """`build: .` becomes `build: {context: ., target: dev}` (block style); a mapping gets
    `target: dev`. A comment after `build: .` moves to the new last line."""
    build = _own(svc, "build", shared)
    if build is not None:
        build["target"] = "dev"
        return
    build = svc["build"]
    block = CommentedMap([("context", build), ("target", "dev")])
    comment = svc.ca.items.pop("build", None)
    if comment is not None:
        block.ca.items["target"] = comment
    svc["build"] = block


def add_watch(
    text: str,
    *,
    file: str,
    service: str,
    watch: Sequence[Mapping[str, Any]],
    builds_project: Callable[[str], bool] = _same_folder,
    has_dev_stage: Callable[[str, str], bool] = _no_dev_stage,
    env_file: Mapping[str, Any] | None = None,
) -> Merged | None:
    """`text` with `develop.watch` added to the service to develop (see `_developed`).

    None when that service already has watch rules (they are the user's). When it builds
    a Dockerfile with a `dev` stage (`has_dev_stage(context, dockerfile)`) and names no
    target, it gets `target: dev`: without it Compose builds the last stage (prod), whose
    non-editable install never runs the synced sources. `env_file` is added to a service
    that has none of its own.
    """
    layout = detect_layout(text)
    yaml = _yaml(layout)
    try:
        data = yaml.load(text.removeprefix("\ufeff").replace("\r\n", "\n"))
    except YAMLError as exc:
        raise ConfigError(f"{file}: invalid YAML ({exc}); fix it first") from None
    services = data.get("services") if isinstance(data, CommentedMap) else None
    if not isinstance(services, CommentedMap) or not services:
        raise config_error(file, "services", "missing", "add a service, or move the file away")
    name = _developed(services, service, file, builds_project)
    svc = services[name]
    if not isinstance(svc, CommentedMap):
        raise config_error(file, f"services.{name}", "empty", "give it at least `build: .`")
    develop = svc.get("develop")
    if isinstance(develop, CommentedMap) and develop.get("watch"):
        return None
    shared = _shared(data)
    if id(svc) in shared:
        anchor = svc.anchor.value or "anchor"
        raise config_error(
            file,
            f"services.{name}",
            f"is the node &{anchor} that other keys share, so its watch rules would be theirs",
            f"expand the alias: write `<<: *{anchor}` under services.{name}, then run init again",
        )
    develop = _own(svc, "develop", shared)
    if develop is None:
        develop = CommentedMap()
        svc["develop"] = develop
    develop["watch"] = copy.deepcopy([dict(rule) for rule in watch])  # no `&id001` anchors
    build = svc.get("build")
    where = build_context(build)
    added_target = (
        where is not None
        and (not isinstance(build, Mapping) or build.get("target") is None)
        and has_dev_stage(*where)
    )
    if added_target:
        _set_dev_target(svc, shared)
    added_env_file = env_file is not None and "env_file" not in svc
    if added_env_file:
        assert env_file is not None
        svc.insert(list(svc).index("develop"), "env_file", [dict(env_file)])
    shielded = _shield_venvs(services, builds_project, shared)
    out = io.StringIO()
    yaml.dump(data, out)
    merged = out.getvalue().replace("\n", layout.newline)
    bom = "\ufeff" if layout.bom else ""
    return Merged(bom + merged, name, added_target, added_env_file, shielded)


def add_ignores(text: str, entries: Sequence[str]) -> tuple[str, list[str]]:
    """`text` with each entry a build would still copy appended (judged as BuildKit reads
    the file: a line `.` ignores nothing there), in the file's own line endings."""
    build = BuildIgnore(parse_ignore_text(text))
    missing = [entry for entry in entries if build.copies(entry)]
    return _append_lines(text, missing), missing


def add_secret_block(text: str) -> tuple[str, list[str]]:
    """`text` with devbox's secrets block appended, holding the patterns a build with it
    would still copy (a secret the user re-includes with a `!` line after a line of the
    block stays theirs). The examples' `!` lines come with `**/.env.*`, unless the file
    already keeps an example out."""
    ignore = parse_ignore_text(text)
    missing = set(exposure(ignore).patterns)
    if not missing:
        return text, []
    build = BuildIgnore(ignore)
    added = [p for p in ENV_PATTERNS if p in missing]
    if "**/.env.*" in missing:
        added += ["!" + p for p in ENV_EXAMPLES if build.copies(p.removeprefix("**/"))]
    added += [p for p in KEY_PATTERNS if p in missing]
    return _append_lines(text, [*BLOCK_HEADER, *added]), [p for p in added if p[0] != "!"]


def _append_lines(text: str, lines: Sequence[str]) -> str:
    if not lines:
        return text
    eol = "\r\n" if "\r\n" in text else "\n"
    prefix = text if text.endswith("\n") or not text else text + eol
    return prefix + "".join(f"{line}{eol}" for line in lines)


_TABLE_NOTE = "# `by devbox init`: its choices, made again by each init; edit one to keep yours."


def _chosen_item(value: object, *, marked: bool) -> Any:
    import tomlkit

    item = tomlkit.item(value)
    if marked:
        item.comment(mark(value))
        item.trivia.comment_ws = "  "
    return item


class Recorded(NamedTuple):
    text: str
    written: list[str]  # keys added or given a new value
    removed: list[str]  # init's earlier choices it no longer makes


def record_settings(
    text: str, values: Mapping[str, object], *, flags: Collection[str] = ()
) -> Recorded:
    """`text` with init's choices in `[tool.devbox]`, comments and layout kept.

    A key named in `flags` (an option passed to init) is the user's word: written as
    given, unmarked. Any other key of `values` is init's choice: added when missing, and
    updated when init chose it before (devbox/project/choices.py); a key the user set is
    kept. A key init chose before and chooses no more is removed. The file's line endings
    are kept; nothing is recorded when the result would not read back as written (say
    `[tool.devbox]` as an inline table holding comments).
    """
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    unchanged = Recorded(text, [], [])
    bom = "\ufeff" if text.startswith("\ufeff") else ""  # uv accepts one; it is kept
    crlf = "\r\n" in text and "\n" not in text.replace("\r\n", "")
    source = text.removeprefix(bom)
    source = source.replace("\r\n", "\n") if crlf else source
    if "devbox" not in tomllib.loads(source).get("tool", {}):
        prefix = source if not source or source.endswith("\n") else source + "\n"
        source = f"{prefix}\n[tool.devbox]\n{_TABLE_NOTE}\n"
    try:
        document = tomlkit.parse(source)
    except TOMLKitError:
        return unchanged
    table = devbox_table(document)
    if table is None:
        return unchanged
    written: list[str] = []
    for key, value in values.items():
        users = key in flags
        marked = False  # init's mark on the value there now
        if key in table:
            item = table.item(key)
            marked = chosen = is_chosen(item.trivia.comment, item.unwrap())
            if not users and not chosen:
                continue  # the user's
            if item.unwrap() == value and chosen != users:
                continue
        table[key] = _chosen_item(value, marked=not users)
        if users and marked:  # tomlkit hands a new value the old one's comment: not a mark
            table.item(key).trivia.comment = ""
            table.item(key).trivia.comment_ws = ""
        written.append(key)
    removed = [
        key
        for key in list(table)
        if key not in values and is_chosen(table.item(key).trivia.comment, table.item(key).unwrap())
    ]
    for key in removed:
        del table[key]
    if not written and not removed:
        return unchanged
    new = tomlkit.dumps(document)
    try:
        recorded = tomllib.loads(new.removeprefix("\ufeff")).get("tool", {}).get("devbox", {})
    except tomllib.TOMLDecodeError:
        return unchanged
    if any(recorded.get(k) != values[k] for k in written) or any(k in recorded for k in removed):
        return unchanged
    return Recorded(bom + (new.replace("\n", "\r\n") if crlf else new), written, removed)


class TargetFix(NamedTuple):
    """The compose text with the service building `dev`, and the target it had."""

    text: str
    was: str | None


def _token(line: str, column: int, value: str) -> str | None:
    """The scalar `value` as written at `column` of `line` (plain or quoted), or None."""
    rest = line[column:]
    for token in (f'"{value}"', f"'{value}'"):
        if rest.startswith(token):
            return token
    after = rest[len(value) : len(value) + 1]
    if value and rest.startswith(value) and after in ("", " ", "\t", "\r", ",", "}", "]"):
        return value
    return None


def _build_as_mapping(data: Any, service: str) -> Any:
    """`data` (PyYAML's) with `services.<service>.build` in its long form."""
    services = data.get("services") if isinstance(data, dict) else None
    svc = services.get(service) if isinstance(services, dict) else None
    if isinstance(svc, dict) and isinstance(svc.get("build"), str):
        svc["build"] = {"context": svc["build"]}
    return data


def set_dev_target(text: str, *, file: str, service: str) -> TargetFix:
    """`text` with `services.<service>` building the `dev` target, every other byte as it was.

    The edit is made in the text itself, where ruamel.yaml says the values are: a `target:`
    gets `dev` in the quotes it had; a build mapping gets a `target: dev` line (or `, target:
    dev` in a flow mapping); `build: .` becomes `build: {context: ., target: dev}` on its own
    line, a comment after it kept. Comments, line endings (CRLF too), a BOM and every other
    line stay byte for byte. A build shared through an anchor, or one the edit cannot be
    placed in safely, is a one-line error: setting it by hand is the way out.
    """
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    body = text.removeprefix(bom)
    lines = body.split("\n")  # a CRLF file keeps its "\r" at each line's end
    try:
        data = _yaml().load(body.replace("\r\n", "\n"))
    except YAMLError as exc:
        raise ConfigError(f"{file}: invalid YAML ({exc}); fix it first") from None
    at = f"services.{service}.build"
    by_hand = f"set `target: dev` under {at} by hand"
    services = data.get("services") if isinstance(data, CommentedMap) else None
    svc = services.get(service) if isinstance(services, CommentedMap) else None
    if not isinstance(svc, CommentedMap) or "build" not in svc:
        raise config_error(file, at, "missing", "add `build: {context: ., target: dev}`")
    if "build" not in (svc.lc.data or {}) or id(svc) in _shared(data):
        raise config_error(
            file, at, "comes from an anchor that other services share (`<<:` or an alias)",
            f"{by_hand}, in the service's own `build:`",
        )  # fmt: skip
    build = svc["build"]
    was: str | None = None
    if isinstance(build, CommentedMap) and not (build.lc.data or {}):
        raise config_error(file, at, "is empty", "e.g. `build: {context: ., target: dev}`")
    if isinstance(build, CommentedMap):
        if id(build) in _shared(data):
            raise config_error(
                file, at, "is an anchor that other services share", f"{by_hand} (a copy of it)"
            )
        if "target" in build.lc.data:
            row, column = build.lc.value("target")
            was = str(build["target"])
            token = _token(lines[row], column, was)
            if token is None:
                raise config_error(file, f"{at}.target", f"{was!r} is not plain", by_hand)
            quote = token[0] if token != was else ""
            lines[row] = (
                lines[row][:column] + f"{quote}dev{quote}" + lines[row][column + len(token) :]
            )
        elif build.fa.flow_style():
            key = list(build.lc.data)[-1]
            row, column = build.lc.value(key)
            token = _token(lines[row], column, str(build[key]))
            if token is None:
                raise config_error(file, at, "is a flow mapping devbox cannot extend", by_hand)
            end = column + len(token)
            lines[row] = lines[row][:end] + ", target: dev" + lines[row][end:]
        else:
            keys = list(build.lc.data)
            indent = build.lc.key(keys[0])[1]
            after = next(
                (
                    build.lc.key(key)[0]
                    for key in reversed(keys)
                    if isinstance(build[key], str | int)
                    and build.lc.value(key)[0] == build.lc.key(key)[0]
                ),
                None,
            )
            row = build.lc.key(keys[0])[0] if after is None else after + 1
            eol = "\r" if lines[row - 1].endswith("\r") else ""
            lines.insert(row, " " * indent + "target: dev" + eol)
    elif isinstance(build, str):
        row, column = svc.lc.value("build")
        token = _token(lines[row], column, build)
        if token is None:
            raise config_error(file, at, f"{build!r} is not a plain context", by_hand)
        lines[row] = (
            lines[row][:column]
            + f"{{context: {token}, target: dev}}"
            + lines[row][column + len(token) :]
        )
    else:
        raise config_error(file, at, "is neither a path nor a mapping", "e.g. `build: .`")
    new = "\n".join(lines)
    before = _build_as_mapping(pyyaml.safe_load(body), service)
    expected = copy.deepcopy(before)
    expected["services"][service]["build"]["target"] = "dev"
    try:
        after_edit = _build_as_mapping(pyyaml.safe_load(new), service)
    except pyyaml.YAMLError:
        after_edit = None
    if after_edit != expected:
        raise config_error(file, at, "cannot be edited in place without changing more", by_hand)
    return TargetFix(bom + new, was)
