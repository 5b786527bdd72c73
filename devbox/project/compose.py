"""The one reader of the project's compose files: every other reader goes through it.

The watch mode hands the files to Compose; the fallback mode reads the same files
itself (older Compose rejects the `develop` key), so both modes run the service
alike: ports, environment, working dir, command and user come from here. Every
value is validated, so a bad file is one line naming the file, the field and the fix.
"""

import os
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from devbox.errors import ConfigError, UsageError, config_error
from devbox.project.files import read_text
from devbox.project.locate import ProjectPaths, require_compose


@dataclass(frozen=True, kw_only=True)
class Service:
    name: str
    context: Path | None  # build context; None when the service has no `build:`
    dockerfile: str = "Dockerfile"
    target: str | None = None
    image: str | None = None
    ports: tuple[str, ...] = ()
    environment: "EnvPairs" = ()
    working_dir: str | None = None
    command: tuple[str, ...] | None = None
    user: str | None = None
    develop: Any = None


@dataclass(frozen=True, kw_only=True)
class ComposeProject:
    files: tuple[Path, ...]  # as Compose reads them: the main file, then overrides
    project_dir: Path
    name: str
    services: dict[str, Service] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict, repr=False)  # the merged YAML

    @property
    def file(self) -> Path:
        """The main compose file (the one errors and `devbox init` name)."""
        return self.files[0]


def project_name(raw: str) -> str:
    """Compose's normalisation of a project name: lower case, [a-z0-9_-] only."""
    return re.sub(r"[^a-z0-9_-]", "", raw.lower())


def _ports(file: Path, svc: str, value: Any) -> tuple[str, ...]:
    ports: list[str] = []
    for i, port in enumerate(value or []):
        if isinstance(port, int | str):
            ports.append(str(port))
        elif isinstance(port, dict) and "target" in port:
            host = f"{port['host_ip']}:" if port.get("host_ip") else ""
            published = f"{port['published']}:" if port.get("published") else ""
            ports.append(f"{host}{published}{port['target']}/{port.get('protocol', 'tcp')}")
        else:
            raise config_error(file, f"services.{svc}.ports[{i}]", "not a port", 'e.g. "8000:8000"')
    return tuple(ports)


EnvPairs = tuple[tuple[str, str | None], ...]


def env_pairs(value: Any) -> EnvPairs:
    """Compose's `environment` (a mapping, or a list of NAME=value) as pairs; None takes
    the host's value; booleans are written as Compose writes them ("true", "false")."""
    if isinstance(value, dict):
        return tuple(
            (str(k), None if v is None else str(v).lower() if isinstance(v, bool) else str(v))
            for k, v in value.items()
        )
    return tuple(
        (k, v if sep else None) for k, sep, v in (str(s).partition("=") for s in value or [])
    )


_KIND_NAMES = {str: "a string", dict: "a mapping", list: "a list", int: "a number"}


def literal_dollars(value: Any) -> Any:
    """`value` as Compose's interpolation leaves it for `$$`: each `$$` is one `$`, in every
    string value at any depth (keys stay as written). For what devbox reads itself; the
    merged YAML handed to Compose keeps `$$`, which Compose unescapes in turn."""
    if isinstance(value, str):
        return value.replace("$$", "$")
    if isinstance(value, dict):
        return {k: literal_dollars(v) for k, v in value.items()}
    if isinstance(value, list):
        return [literal_dollars(v) for v in value]
    return value


def _service(file: Path, project_dir: Path, name: str, raw: object) -> Service:
    at = f"services.{name}"
    if not isinstance(raw, dict):
        raise config_error(file, at, "must be a mapping", "indent its keys under it")
    raw = dict(literal_dollars(raw))  # as Compose passes `sh -c "echo $$(id -u)"` on

    def expect(key: str, kinds: tuple[type, ...], example: str) -> Any:
        value = raw.get(key)
        if value is not None and (not isinstance(value, kinds) or isinstance(value, bool)):
            wanted = " or ".join(_KIND_NAMES[kind] for kind in kinds)
            raise config_error(file, f"{at}.{key}", f"must be {wanted}, got {value!r}", example)
        return value

    build = expect("build", (str, dict), "e.g. `build: .`")
    context: Path | None = None
    dockerfile, target = "Dockerfile", None
    if isinstance(build, str):
        context = project_dir / build
    elif isinstance(build, dict):
        context = project_dir / str(build.get("context", "."))
        dockerfile = str(build.get("dockerfile", "Dockerfile"))
        target = None if build.get("target") is None else str(build["target"])
    command = expect("command", (str, list), 'e.g. `command: ["app", "--reload"]`')
    if isinstance(command, str):
        try:
            command = shlex.split(command)
        except ValueError as exc:  # an unclosed quote
            raise config_error(
                file, f"{at}.command", str(exc), "close the quote, or use a list"
            ) from None
    user = expect("user", (str, int), 'e.g. `user: "1000:1000"`')
    develop = expect("develop", (dict,), "indent a `watch:` list under `develop:`")
    return Service(
        name=name,
        context=context.resolve() if context else None,
        dockerfile=dockerfile,
        target=target,
        image=expect("image", (str,), "e.g. `image: postgres:16`"),
        ports=_ports(file, name, expect("ports", (list,), 'e.g. `ports: ["8000:8000"]`')),
        environment=env_pairs(expect("environment", (dict, list), "e.g. `environment: {A: b}`")),
        working_dir=expect("working_dir", (str,), "e.g. `working_dir: /app`"),
        command=tuple(str(part) for part in command) if command else None,
        user=None if user is None else str(user),
        develop=develop,
    )


class _UniqueKeyLoader(yaml.SafeLoader):
    """Compose rejects a mapping that repeats a key; PyYAML would keep the last silently.
    A merge key (`<<: *base`, as in `x-` blocks shared by services) is not a repeat: the
    mapping's own keys override the merged ones, as in Compose."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # SafeLoader's construct_mapping merges it (flatten_mapping)
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, list | dict):
                raise yaml.constructor.ConstructorError(
                    problem=f"a {'list' if isinstance(key, list) else 'mapping'} as a "
                    "mapping key (Compose's keys are names)",
                    problem_mark=key_node.start_mark,
                )
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    problem=f"duplicate key {key!r} (Compose rejects it)",
                    problem_mark=key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_yaml(file: Path, text: str | None = None) -> Any:
    """One YAML file (or `text`, its content to be), or a one-line error naming it (and
    the line, for a syntax error)."""
    text = read_text(file) if text is None else text
    if text is None:
        raise ConfigError(f"{file}: not found; fix COMPOSE_FILE, or run `devbox init`")
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader)
    except RecursionError:
        raise _too_deep(file) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        fix = "keep one" if "duplicate key" in problem else "fix the YAML syntax"
        raise ConfigError(f"{file}{where}: {problem}; {fix}") from None
    _check_shape(file, data)
    return data


MAX_DEPTH = 64  # compose files nest a few levels; every reader after this one recurses
MAX_NODES = 200_000  # aliases make a small file a huge tree ("billion laughs")


def _too_deep(file: Path) -> ConfigError:
    return ConfigError(
        f"{file}: nested more than {MAX_DEPTH} levels deep (or an alias refers to itself); "
        "flatten it"
    )


def _check_shape(file: Path, data: Any) -> None:
    """Refuse a tree too deep or too large for the readers after this one (walked without
    recursion; an alias that contains itself is a loop, so too deep)."""
    todo: list[tuple[Any, int]] = [(data, 0)]
    nodes = 0
    while todo:
        value, depth = todo.pop()
        nodes += 1
        if depth > MAX_DEPTH:
            raise _too_deep(file)
        if nodes > MAX_NODES:
            raise ConfigError(
                f"{file}: more than {MAX_NODES} values once its aliases are expanded; "
                "write it without repeated aliases"
            )
        if isinstance(value, dict):
            todo += [(v, depth + 1) for v in value.values()]
        elif isinstance(value, list):
            todo += [(v, depth + 1) for v in value]


# Keys whose lists Compose merges (override entries appended, duplicates dropped);
# other lists (command, entrypoint, ...) are replaced by the override's.
# `develop.watch` too: an override's (or an extending service's) rules come after the base's.
_APPENDED = {"ports", "expose", "volumes", "dns", "dns_search", "env_file", "watch"}
_MAPPINGS = {"environment", "labels", "args", "extra_hosts"}


def _as_mapping(value: Any) -> Any:
    """`environment`, `labels`, ... as a mapping, whichever form the file used."""
    if isinstance(value, list):
        return {k: (v if sep else None) for k, sep, v in (str(i).partition("=") for i in value)}
    return value


def merge(base: Any, override: Any, key: str = "") -> Any:
    """Compose's merge of an override file into a base, for the keys devbox reads."""
    if key in _MAPPINGS:
        base, override = _as_mapping(base), _as_mapping(override)
    if key == "build":  # `build: ./app` is short for `build: {context: ./app}`
        base, override = (
            {"context": value} if isinstance(value, str) else value for value in (base, override)
        )
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for name, value in override.items():
            merged[name] = merge(base[name], value, str(name)) if name in base else value
        return merged
    if isinstance(base, list) and isinstance(override, list) and key in _APPENDED:
        return base + [item for item in override if item not in base]
    return override


def _at(folder: Path, value: str) -> str:
    """`value`, a path relative to `folder`, made absolute (a URL or an absolute path as it is)."""
    if "://" in value or value.startswith("git@"):
        return value  # a remote build context
    return os.path.normpath(folder / value)


def _rooted(raw: Any, folder: Path) -> Any:
    """A service of a file read from another folder (an `include:`d file, an `extends:`
    file) with its relative paths made absolute against `folder`, as Compose resolves them:
    the build context, each watch rule's path, `env_file` entries and bind mount sources."""
    if not isinstance(raw, dict):
        return raw
    raw = dict(raw)
    build = raw.get("build")
    if isinstance(build, str):
        raw["build"] = _at(folder, build)
    elif isinstance(build, dict):
        raw["build"] = {**build, "context": _at(folder, str(build.get("context", ".")))}
    develop = raw.get("develop")
    watch = develop.get("watch") if isinstance(develop, dict) else None
    if isinstance(watch, list):
        rules = [
            {**rule, "path": _at(folder, rule["path"])}
            if isinstance(rule, dict) and isinstance(rule.get("path"), str)
            else rule
            for rule in watch
        ]
        raw["develop"] = {**develop, "watch": rules}
    env_file = raw.get("env_file")
    if isinstance(env_file, str):
        raw["env_file"] = _at(folder, env_file)
    elif isinstance(env_file, list):
        raw["env_file"] = [
            _at(folder, entry)
            if isinstance(entry, str)
            else {**entry, "path": _at(folder, str(entry["path"]))}
            if isinstance(entry, dict) and "path" in entry
            else entry
            for entry in env_file
        ]
    volumes = raw.get("volumes")
    if isinstance(volumes, list):
        raw["volumes"] = [_bind_rooted(volume, folder) for volume in volumes]
    return raw


def _bind_rooted(volume: Any, folder: Path) -> Any:
    """A `volumes:` entry with a relative bind source (`./data:/data`, or `type: bind` with
    a relative `source`) made absolute; named volumes and absolute paths as they are."""
    if isinstance(volume, str):
        source, colon, rest = volume.partition(":")
        return _at(folder, source) + colon + rest if colon and source.startswith(".") else volume
    if isinstance(volume, dict) and volume.get("type") == "bind":
        bind_source = volume.get("source")
        if isinstance(bind_source, str) and not bind_source.startswith(("/", "~")):
            return {**volume, "source": _at(folder, bind_source)}
    return volume


def expanded_file(file: Path, project_dir: Path) -> Any:
    """One compose file as read, with its `include:` and `extends:` resolved (see
    `_expanded`): what a Compose that has neither (v1), or rejects `develop` in the files
    they name (before 2.22), is handed in their place."""
    data = read_yaml(file)
    return _expanded(file, data, project_dir) if isinstance(data, dict) else data


_MAX_NESTING = 16  # includes within includes, extends of extends


def _extended(
    file: Path, data: dict[str, Any], name: str, folder: Path, chain: tuple[str, ...]
) -> Any:
    """`services.<name>` of `data` (read from `file`, its paths relative to `folder`) with
    its `extends:` applied as Compose applies it: the base service (from `extends.file`,
    relative to `file`'s folder, else the same file) merged under the service's own keys,
    the base's relative paths rooted where its file is."""
    services = data.get("services")
    raw = services.get(name) if isinstance(services, dict) else None
    at = f"services.{name}.extends"
    if not isinstance(raw, dict) or "extends" not in raw:
        return raw
    spec = raw["extends"]
    if isinstance(spec, str):
        spec = {"service": spec}
    if not isinstance(spec, dict) or not isinstance(spec.get("service"), str):
        raise config_error(
            file, at, f"must name a service, got {spec!r}", "e.g. `extends: {service: base}`"
        )
    link = f"{file}:{spec['service']}"
    if link in chain or len(chain) > _MAX_NESTING:
        raise config_error(file, at, "extends itself (a loop)", "break the loop")
    base_file, base_data, base_folder = file, data, folder
    if spec.get("file") is not None:
        base_file = (file.parent / str(spec["file"])).resolve()
        loaded = read_yaml(base_file) if base_file.is_file() else None
        if not isinstance(loaded, dict):
            raise config_error(
                file, f"{at}.file", f"{spec['file']} not found (or not a mapping)", "fix the path"
            )
        base_data, base_folder = loaded, base_file.parent
    base_services = base_data.get("services")
    if not isinstance(base_services, dict) or spec["service"] not in base_services:
        raise config_error(
            file, f"{at}.service", f"no service {spec['service']!r} in {base_file.name}",
            "name one it defines",
        )  # fmt: skip
    base = _extended(base_file, base_data, spec["service"], base_folder, (*chain, link))
    if base_folder != folder:
        base = _rooted(base, base_folder)
    own = {key: value for key, value in raw.items() if key != "extends"}
    return merge(base if isinstance(base, dict) else {}, own)


def _expanded(file: Path, data: dict[str, Any], folder: Path, depth: int = 0) -> dict[str, Any]:
    """One compose file's content with its `include:` and `extends:` resolved, as Compose
    resolves them before merging files: each included file's services (its paths relative to
    its own folder, or its `project_directory`) join this file's, and each extending service
    gets its base's keys. Relative paths of this file stay relative to `folder`."""
    if depth > _MAX_NESTING:
        raise config_error(file, "include", "nests too deeply (a loop?)", "break the loop")
    data = dict(data)
    if isinstance(data.get("services"), dict):
        data["services"] = {
            name: _extended(file, data, str(name), folder, ()) for name in data["services"]
        }
    includes = data.pop("include", None)
    if includes is None:
        return data
    if not isinstance(includes, list):
        raise config_error(
            file, "include", "must be a list", "e.g. `include: [other/compose.yaml]`"
        )
    for i, entry in enumerate(includes):
        at = f"include[{i}]"
        spec = {"path": entry} if isinstance(entry, str) else entry
        where = spec.get("path") if isinstance(spec, dict) else None
        names = [where] if isinstance(where, str) else where
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise config_error(
                file, at, f"needs a path, got {entry!r}", "e.g. `- other/compose.yaml`"
            )
        included = [(file.parent / name).resolve() for name in names]
        directory = spec.get("project_directory")
        home = (file.parent / str(directory)).resolve() if directory else included[0].parent
        merged: dict[str, Any] = {}
        for path in included:
            loaded = read_yaml(path) if path.is_file() else None
            if not isinstance(loaded, dict):
                raise config_error(file, at, f"{path} not found (or not a mapping)", "fix the path")
            merged = (
                merge(merged, _expanded(path, loaded, home, depth + 1))
                if merged
                else (_expanded(path, loaded, home, depth + 1))
            )
        if not isinstance(data.get("services"), dict):
            data["services"] = {}
        for name, raw in (merged.get("services") or {}).items():
            if name in data["services"]:
                raise config_error(
                    file, f"services.{name}", f"is also defined by the included {included[0].name}",
                    "define it in one file only",
                )  # fmt: skip
            data["services"][name] = _rooted(raw, home)
        for key in ("volumes", "networks", "configs", "secrets"):
            if isinstance(merged.get(key), dict):
                data[key] = {**merged[key], **(data.get(key) or {})}
    return data


def load_compose(
    paths: ProjectPaths, *, planned: Mapping[Path, str] | None = None
) -> ComposeProject:
    """The project's compose files, read, merged as Compose merges them, and validated.

    `planned` gives the content a file is about to have (init checks before it writes).
    """
    files = require_compose(paths).compose_files
    data: Any = None
    for file in files:
        loaded = read_yaml(file, (planned or {}).get(file))
        if loaded is not None and not isinstance(loaded, dict):
            raise config_error(
                file, "(top level)", "must be a mapping", "start it with `services:`"
            )
        if loaded is not None:
            loaded = _expanded(file, loaded, paths.dir)
        data = loaded if data is None else merge(data, loaded or {})
    file = files[0]
    if not isinstance(data, dict) or not isinstance(data.get("services"), dict):
        raise config_error(
            file, "services", "missing", "define at least one service (run `devbox init`)"
        )
    name = project_name(
        os.environ.get("COMPOSE_PROJECT_NAME") or str(data.get("name") or paths.dir.name)
    )
    services = {
        str(svc): _service(file, paths.dir, str(svc), raw) for svc, raw in data["services"].items()
    }
    return ComposeProject(
        files=files, project_dir=paths.dir, name=name, services=services, data=data
    )


def watched_service(project: ComposeProject, name: str | None) -> Service:
    """The service to develop: the one named, or the only one with `develop.watch`."""
    if name is not None:
        if name not in project.services:
            known = ", ".join(project.services)
            raise config_error(
                project.file, f"services.{name}", "no such service", f"use one of: {known}"
            )
        return project.services[name]
    watched = [
        s
        for s in project.services.values()
        if isinstance(s.develop, dict) and s.develop.get("watch")
    ]
    if len(watched) == 1:
        return watched[0]
    if not watched:
        raise config_error(
            project.file,
            "services.*.develop.watch",
            "no service has watch rules",
            "add a develop.watch section (devbox init writes one)",
        )
    names = ", ".join(s.name for s in watched)
    raise UsageError(
        f"{project.file}: several services have watch rules ({names}); "
        "name one as the SERVICE argument"
    )
