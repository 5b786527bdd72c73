"""Compose's own model of the project, read from its `config` output: pure parsing.

The fallback does not re-implement Compose: where any Compose exists (v1, or v2
before watch), it resolves the project (interpolation, `.env`, `env_file`, override
files, several `COMPOSE_FILE` entries, `extends`, profiles, defaults) and devbox
turns the result into `docker run` options. Compose v2 answers JSON (long port and
volume syntax); Compose v1 answers YAML (short syntax, profile services included
with their `profiles` list). Both are read into the same typed model here.
"""

import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from devbox.errors import EngineError
from devbox.project.compose import EnvPairs, env_pairs


@dataclass(frozen=True, kw_only=True)
class ResolvedService:
    name: str
    build_args: tuple[tuple[str, str], ...] = ()
    ports: tuple[str, ...] = ()
    environment: EnvPairs = ()
    volumes: tuple[str, ...] = ()  # `--volume` values (host or engine names resolved)
    tmpfs: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] | None = None
    command: tuple[str, ...] | None = None
    working_dir: str | None = None
    user: str | None = None
    healthcheck: tuple[str, ...] = ()  # `docker run` options
    extra_hosts: tuple[str, ...] = ()
    depends_on: dict[str, str] = field(default_factory=dict)  # service -> condition
    networks: tuple[str, ...] = ()  # engine names, in order
    named_volumes: tuple[str, ...] = ()  # the project's volumes it mounts (keys)
    profiles: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ResolvedProject:
    name: str
    services: dict[str, ResolvedService]
    volumes: dict[str, tuple[str, bool]]  # key -> (engine name, external)
    networks: dict[str, tuple[str, bool]]  # key -> (engine name, external)

    def dependencies(self, developed: list[str]) -> list[str]:
        """Every service the developed ones need, transitively, minus the developed ones."""
        needed: list[str] = []
        todo = [dep for name in developed for dep in self.services[name].depends_on]
        while todo:
            name = todo.pop(0)
            if name in needed or name in developed or name not in self.services:
                continue
            needed.append(name)
            todo += list(self.services[name].depends_on)
        return needed


def parse_config(text: str, *, project: str, v1: bool) -> ResolvedProject:
    """Compose's `config` output (v2: `--format json`; v1: YAML) as a typed model."""
    try:
        data: Any = yaml.safe_load(text) if v1 else json.loads(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise EngineError(f"could not read Compose's resolved model: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("services"), dict):
        raise EngineError("Compose's resolved model has no services")
    name = str(data.get("name") or project)

    def named(kind: str) -> dict[str, tuple[str, bool]]:
        found = {
            str(key): (
                str(spec.get("name") or f"{name}_{key}"),
                bool(spec.get("external")),
            )
            for key, spec in ((k, v or {}) for k, v in (data.get(kind) or {}).items())
        }
        if kind == "networks":
            found.setdefault("default", (f"{name}_default", False))
        return found

    volumes, networks = named("volumes"), named("networks")
    services = {
        str(svc): _service(str(svc), raw or {}, volumes, networks)
        for svc, raw in data["services"].items()
    }
    return ResolvedProject(name=name, services=services, volumes=volumes, networks=networks)


def _words(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return tuple(shlex.split(value))
    return tuple(str(part) for part in value)


def _port(port: Any) -> str:
    if not isinstance(port, dict):
        return str(port)
    host = f"{port['host_ip']}:" if port.get("host_ip") else ""
    published = port.get("published")
    published_part = f"{published}:" if published not in (None, "") else ""
    if host and not published_part:
        published_part = ":"
    return f"{host}{published_part}{port['target']}/{port.get('protocol') or 'tcp'}"


def _volume(
    item: Any, volumes: dict[str, tuple[str, bool]]
) -> tuple[str | None, str | None, str | None]:
    """(a `--volume` value, a `--tmpfs` value, the project volume key) of one entry."""
    if isinstance(item, str):
        parts = item.split(":")
        source = parts[0] if len(parts) > 1 else None
        if source is not None and source in volumes:
            return ":".join([volumes[source][0], *parts[1:]]), None, source
        return item, None, None
    kind, source, target = item.get("type"), item.get("source"), item["target"]
    if kind == "tmpfs":
        return None, str(target), None
    suffix = ":ro" if item.get("read_only") else ""
    if not source:
        return f"{target}", None, None  # anonymous volume
    key = source if kind == "volume" and source in volumes else None
    engine_name = volumes[source][0] if key else source
    return f"{engine_name}:{target}{suffix}", None, key


def _healthcheck(value: Any) -> tuple[str, ...]:
    if not isinstance(value, dict):
        return ()
    test = value.get("test")
    if value.get("disable") or (isinstance(test, list) and test[:1] == ["NONE"]):
        return ("--no-healthcheck",)
    args: list[str] = []
    if isinstance(test, str):
        args += ["--health-cmd", test]
    elif isinstance(test, list) and test:
        # `docker run` takes a shell command only; CMD's words are quoted for the shell.
        words = [str(w) for w in test[1:]]
        args += ["--health-cmd", words[0] if test[0] == "CMD-SHELL" else shlex.join(words)]
    for key, option in (
        ("interval", "--health-interval"),
        ("timeout", "--health-timeout"),
        ("start_period", "--health-start-period"),
        ("retries", "--health-retries"),
    ):
        if value.get(key) is not None:
            args += [option, str(value[key])]
    return tuple(args)


def _service(
    name: str,
    raw: dict[str, Any],
    volumes: dict[str, tuple[str, bool]],
    networks: dict[str, tuple[str, bool]],
) -> ResolvedService:
    build: dict[str, Any] = raw["build"] if isinstance(raw.get("build"), dict) else {}
    args = build.get("args") or {}
    if isinstance(args, list):
        args = dict(str(a).partition("=")[::2] for a in args)
    mounts, tmpfs, keys = [], [], []
    for item in raw.get("volumes") or []:
        volume, tmp, key = _volume(item, volumes)
        if volume:
            mounts.append(volume)
        if tmp:
            tmpfs.append(tmp)
        if key:
            keys.append(key)
    tmpfs_value = raw.get("tmpfs") or []
    tmpfs += [tmpfs_value] if isinstance(tmpfs_value, str) else [str(t) for t in tmpfs_value]
    hosts = raw.get("extra_hosts") or []
    if isinstance(hosts, dict):
        hosts = [f"{host}:{ip}" for host, ip in hosts.items()]
    depends = raw.get("depends_on") or {}
    if isinstance(depends, list):
        depends = {dep: {"condition": "service_started"} for dep in depends}
    service_networks = raw.get("networks") or {"default": None}
    user = raw.get("user")
    return ResolvedService(
        name=name,
        build_args=tuple((str(k), "" if v is None else str(v)) for k, v in args.items()),
        ports=tuple(_port(p) for p in raw.get("ports") or []),
        environment=env_pairs(raw.get("environment")),
        volumes=tuple(mounts),
        tmpfs=tuple(tmpfs),
        entrypoint=_words(raw.get("entrypoint")),
        command=_words(raw.get("command")),
        working_dir=raw.get("working_dir"),
        user=None if user is None else str(user),
        healthcheck=_healthcheck(raw.get("healthcheck")),
        extra_hosts=tuple(str(h).replace("=", ":", 1) for h in hosts),
        depends_on={
            str(dep): str((spec or {}).get("condition") or "service_started")
            for dep, spec in depends.items()
        },
        networks=tuple(networks.get(str(key), (f"{key}", False))[0] for key in service_networks),
        named_volumes=tuple(keys),
        profiles=tuple(str(p) for p in raw.get("profiles") or []),
    )


def run_options(svc: ResolvedService, *, alias: str) -> list[str]:
    """`docker run` options (before the image) of the settings Compose would apply, beyond
    those devbox always sets (name, labels, ports, environment, workdir, user)."""
    args: list[str] = []
    if svc.networks:
        args += ["--network", svc.networks[0], "--network-alias", alias]
    for volume in svc.volumes:
        args += ["--volume", volume]
    for path in svc.tmpfs:
        args += ["--tmpfs", path]
    for host in svc.extra_hosts:
        args += ["--add-host", host]
    args += list(svc.healthcheck)
    if svc.entrypoint is not None:
        args += ["--entrypoint", svc.entrypoint[0] if svc.entrypoint else ""]
    return args


def run_command(svc: ResolvedService) -> list[str]:
    """What follows the image: the entrypoint's other words, then the command."""
    rest = list(svc.entrypoint[1:]) if svc.entrypoint else []
    return rest + list(svc.command or ())


def strip_develop(data: Any, folder: Path | None = None) -> str:
    """One compose file's YAML without `develop` keys (old Compose rejects them), and with
    `env_file` entries in the short form every Compose reads: a `{path, required: false}`
    entry (Compose >= 2.24) stays as its path when the file exists in `folder`, and goes
    when it does not."""
    if isinstance(data, dict) and isinstance(data.get("services"), dict):
        data = {
            **data,
            "services": {
                name: old_compose_service(svc, folder) if isinstance(svc, dict) else svc
                for name, svc in data["services"].items()
            },
        }
    return yaml.safe_dump(data, sort_keys=False)


def old_compose_service(svc: dict[str, Any], folder: Path | None) -> dict[str, Any]:
    """One service as every Compose reads it: no `develop`, `env_file` in the short form."""
    svc = {k: v for k, v in svc.items() if k not in ("develop", "x-develop")}
    entries = svc.get("env_file")
    if not isinstance(entries, list) or not any(isinstance(e, dict) for e in entries):
        return svc
    short = []
    for entry in entries:
        if not isinstance(entry, dict):
            short.append(entry)
            continue
        path = str(entry.get("path", ""))
        optional = entry.get("required") is False
        if not optional or folder is None or (folder / path).is_file():
            short.append(path)
    if short:
        svc["env_file"] = short
    else:
        svc.pop("env_file")
    return svc
