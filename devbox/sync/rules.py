"""Parse `services.<s>.develop.watch` and decide which rules a changed path triggers.

devbox validates the rules itself so a typo fails with a one-line message naming the field,
and matches paths with Compose's semantics (>= 2.33) so its own watcher agrees with
`docker compose watch`.
"""

import os
import posixpath
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path, PurePath
from typing import NoReturn

from devbox.errors import config_error
from devbox.project.compose import ComposeProject, Service, env_pairs
from devbox.project.dockerignore import (
    PatternError,
    PatternMatcher,
    clean_path,
    compose_dockerignore_patterns,
    read_ignore_file,
)


class Action(StrEnum):
    """What a change triggers; the values are the compose-spec spellings."""

    SYNC = "sync"
    REBUILD = "rebuild"
    RESTART = "restart"
    SYNC_RESTART = "sync+restart"
    SYNC_EXEC = "sync+exec"

    @property
    def syncs(self) -> bool:
        """Whether the action copies files into the container (and so needs a target)."""
        return self in (Action.SYNC, Action.SYNC_RESTART, Action.SYNC_EXEC)


@dataclass(frozen=True)
class ExecSpec:
    """The `exec` of a sync+exec rule; `environment` values of None come from the host."""

    command: tuple[str, ...]
    user: str | None = None
    privileged: bool = False
    working_dir: str | None = None
    environment: tuple[tuple[str, str | None], ...] = ()


@dataclass(frozen=True)
class WatchRule:
    """One validated `develop.watch` entry; `index` is its position, for messages.

    Compose honours `initial_sync` only for sync and sync+restart.
    """

    path: Path
    action: Action
    target: str | None
    ignore: tuple[str, ...]
    include: tuple[str, ...]
    initial_sync: bool
    exec: ExecSpec | None
    index: int


# Editor temp and lock files Compose never reacts to (pkg/watch/ephemeral.go).
_JETBRAINS = ("**/*___jb_old___", "**/*___jb_tmp___", "**/.idea/**")
_VIM = ("**/4913", "**/*~", "**/.*.sw[pxon]")
EPHEMERAL_PATTERNS = (*_JETBRAINS, "**/.#*", "**/#*#", *_VIM, "**/.*.kate-swp", "**/*-go-tmp-umask")
_EPHEMERAL = PatternMatcher(EPHEMERAL_PATTERNS)
_ACTIONS = ", ".join(a.value for a in Action)
_RULE_KEYS = ("path", "action", "target", "ignore", "include", "initial_sync", "exec")
_EXEC_KEYS = ("command", "user", "privileged", "working_dir", "environment")
_TARGET_FIX = "add the container path to copy into, e.g. target: /app"
# Sync targets refused: the container's own folders. A sync there overwrites the image's
# files, and deleting the rule's source on the host deletes them (`target: /` emptied the
# container's root). Only these exact folders: `/usr/src/app` or `/opt/app` are fine.
SYSTEM_FOLDERS = frozenset(
    {
        *("/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/libx32"),
        *("/opt", "/proc", "/root", "/run", "/sbin", "/sys", "/usr", "/usr/bin", "/usr/include"),
        *("/usr/lib", "/usr/lib64", "/usr/libexec", "/usr/local", "/usr/local/bin"),
        *("/usr/local/lib", "/usr/sbin", "/usr/share", "/var", "/var/lib"),
    }
)
_EXEC_EXAMPLE = 'e.g. exec: {command: ["kill", "-HUP", "1"]}'


class _Fail:
    """Raises one-line config errors for one compose file and service."""

    def __init__(self, compose_file: Path, service: str) -> None:
        self.file, self.base = compose_file, f"services.{service}.develop"

    def __call__(self, field: str, problem: str, fix: str) -> NoReturn:
        raise config_error(self.file, f"{self.base}{field}", problem, fix)


def _check_keys(data: Mapping[object, object], keys: Sequence[str], at: str, fail: _Fail) -> None:
    for key in data:
        if not isinstance(key, str) or (key not in keys and not key.startswith("x-")):
            fail(f"{at}.{key}", "unknown key", f"use {', '.join(keys)}, or x-* for extensions")


def _string(value: object, field: str, fail: _Fail, example: str) -> str:
    if not isinstance(value, str) or not value.strip():
        fail(field, f"must be a non-empty string, got {value!r}", f"e.g. {example}")
    return value


def _optional(value: object, field: str, fail: _Fail, example: str) -> str | None:
    return None if value is None else _string(value, field, fail, example)


def _patterns(value: object, field: str, fail: _Fail) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(p, str) for p in items):
        fail(field, f"must be a pattern or a list of patterns, got {value!r}", "e.g. [.venv/]")
    try:
        PatternMatcher(items)
    except PatternError as exc:
        fail(field, f"invalid pattern {exc.pattern!r}: {exc.problem}", exc.fix)
    return tuple(items)


def _flag(value: object, field: str, fail: _Fail) -> bool:
    if not isinstance(value, bool):
        fail(field, f"must be true or false, got {value!r}", "write true or false, unquoted")
    return value


def _environment(value: object, field: str, fail: _Fail) -> tuple[tuple[str, str | None], ...]:
    """NAME=value pairs; a bare NAME (or a null value) takes the host's value, as in Compose."""
    if isinstance(value, list) and all(isinstance(item, str) and item for item in value):
        return env_pairs(value)
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        fail(field, f"must be a mapping or a list of NAME=value, got {value!r}", "e.g. {A: b}")
    return env_pairs(value)


def _exec(value: object, field: str, fail: _Fail) -> ExecSpec:
    if not isinstance(value, Mapping):
        fail(field, f"must be a mapping, got {value!r}", _EXEC_EXAMPLE)
    _check_keys(value, _EXEC_KEYS, field, fail)
    at = f"{field}.command"
    if "command" not in value:
        fail(at, "required", f"add the command to run after syncing, {_EXEC_EXAMPLE}")
    raw = value["command"]
    if isinstance(raw, str):
        try:
            command = shlex.split(raw)
        except ValueError as exc:
            fail(at, f"cannot be split into words ({exc})", "close the quote, or write a list")
    elif isinstance(raw, list) and all(isinstance(arg, str) for arg in raw):
        command = raw
    else:
        fail(at, f"must be a string or a list of strings, got {raw!r}", _EXEC_EXAMPLE)
    if not command:
        fail(at, "must not be empty", _EXEC_EXAMPLE)
    return ExecSpec(
        command=tuple(command),
        user=_optional(value.get("user"), f"{field}.user", fail, "user: root"),
        privileged=_flag(value.get("privileged", False), f"{field}.privileged", fail),
        working_dir=_optional(value.get("working_dir"), f"{field}.working_dir", fail, "/app"),
        environment=_environment(value.get("environment", []), f"{field}.environment", fail),
    )


def _rule(entry: object, i: int, project_dir: Path, fail: _Fail) -> WatchRule:
    at = f".watch[{i}]"
    if not isinstance(entry, Mapping):
        fail(at, f"must be a mapping, got {entry!r}", "e.g. {action: sync, path: ., target: /app}")
    _check_keys(entry, _RULE_KEYS, at, fail)
    if "path" not in entry:
        fail(f"{at}.path", "required", "add the host path to watch, e.g. path: ./src")
    raw_path = _string(entry["path"], f"{at}.path", fail, "path: ./src")
    if "\x00" in raw_path:
        fail(f"{at}.path", f"{raw_path!r} contains a NUL byte", "remove it")
    try:
        path = Path(os.path.normpath(project_dir / Path(raw_path).expanduser()))
    except RuntimeError:
        fail(f"{at}.path", f"cannot expand {raw_path!r}", "write the home directory out in full")
    if not path.is_relative_to(os.path.normpath(project_dir)):  # lexical: symlinks stay put
        fail(
            f"{at}.path",
            f"{raw_path!r} is outside the project folder",
            "watch a path inside it, e.g. path: ./src (a sync would copy other folders' files)",
        )
    if "action" not in entry:
        fail(f"{at}.action", "required", f"add one of: {_ACTIONS}")
    if entry["action"] not in list(Action):
        fail(f"{at}.action", f"unknown action {entry['action']!r}", f"use one of: {_ACTIONS}")
    action = Action(entry["action"])
    target = _optional(entry.get("target"), f"{at}.target", fail, "target: /app")
    if target is not None and "\x00" in target:
        fail(f"{at}.target", f"{target!r} contains a NUL byte", "remove it")
    if target is None and action.syncs:
        fail(f"{at}.target", f"required for action '{action}'", _TARGET_FIX)
    if target is not None and action.syncs and system_folder(target):
        fail(
            f"{at}.target",
            f"{target!r} is a system folder of the container (a sync would overwrite its "
            "files, and a deleted source would delete them)",
            "sync into the app's own folder, e.g. target: /app",
        )
    if "exec" in entry and action is not Action.SYNC_EXEC:
        fail(f"{at}.exec", f"only used by action 'sync+exec', not '{action}'", "remove exec")
    if "exec" not in entry and action is Action.SYNC_EXEC:
        fail(f"{at}.exec", "required for action 'sync+exec'", _EXEC_EXAMPLE)
    initial = _flag(entry.get("initial_sync", False), f"{at}.initial_sync", fail)
    legacy = _flag(entry.get("x-initialSync", False), f"{at}.x-initialSync", fail)
    return WatchRule(
        path=path,
        action=action,
        target=target,
        ignore=_patterns(entry.get("ignore", []), f"{at}.ignore", fail),
        include=_patterns(entry.get("include", []), f"{at}.include", fail),
        initial_sync=initial or legacy,
        exec=_exec(entry["exec"], f"{at}.exec", fail) if "exec" in entry else None,
        index=i,
    )


def system_folder(target: str) -> bool:
    """Whether a sync target is one of `SYSTEM_FOLDERS` (Compose roots a relative target
    at `/`, so `.` is `/` too)."""
    return clean_path("/" + target) in SYSTEM_FOLDERS


def parse_watch_rules(
    develop: object, *, project_dir: Path, compose_file: Path, service: str
) -> list[WatchRule]:
    """Validate `services.<service>.develop` (as loaded from YAML) like compose-spec does.

    Relative paths are joined to `project_dir` (absolute) lexically; symlinks are not
    resolved, so rule paths stay comparable with the paths the watcher reports.
    """
    fail = _Fail(compose_file, service)
    if develop is None:
        return []
    if not isinstance(develop, Mapping):
        fail("", f"must be a mapping, got {develop!r}", "indent a `watch:` list under `develop:`")
    _check_keys(develop, ("watch",), "", fail)
    watch = develop.get("watch", [])
    if not isinstance(watch, list):
        fail(".watch", f"must be a list of rules, got {watch!r}", "start each rule with `- path:`")
    return [_rule(entry, i, project_dir, fail) for i, entry in enumerate(watch)]


_VERDICTS = 100_000  # cached (rule, path) verdicts of one rule set; a bound on memory


def _relative(path: PurePath, root: PurePath) -> str | None:
    """`path` relative to `root` ('.' for root itself), '/'-separated; None when outside.

    String work rather than pathlib: it runs per rule for every path of a batch."""
    here, base = os.path.normpath(path), str(root)
    if here == base:
        return "."
    prefix = base if base.endswith(os.sep) else base + os.sep
    if not here.startswith(prefix):
        return None
    rel = here[len(prefix) :]
    return rel if os.sep == "/" else rel.replace(os.sep, "/")


class RuleSet:
    """One service's rules with their matchers compiled once, for per-event matching."""

    def __init__(
        self, rules: Sequence[WatchRule], *, context_dir: Path | None, dockerignore: Sequence[str]
    ) -> None:
        self.rules = tuple(rules)
        self._context = None if context_dir is None else PurePath(os.path.normpath(context_dir))
        self._dockerignore = PatternMatcher(compose_dockerignore_patterns(list(dockerignore)))
        self._matchers = {r: (PatternMatcher(r.include), PatternMatcher(r.ignore)) for r in rules}
        # Verdicts are lexical, so they hold for the rule set's life: a batch's plan and its
        # tar's folder walk ask about the same paths, and a file saved again is asked again.
        self._verdicts: dict[tuple[int, str], bool] = {}

    def matching(self, path: Path) -> list[WatchRule]:
        """Every rule a change to absolute `path` triggers: Compose >= 2.33 applies them all."""
        return [rule for rule in self.rules if self.triggers(rule, path)]

    def triggers(self, rule: WatchRule, path: Path) -> bool:
        """Whether `path` is under `rule` (one of `rules`), included, and not ignored.

        Use it too to filter the files of a directory before syncing it. Ignore sources: the
        .dockerignore (anchored at the build context, with Compose's `*` rule), editor temp
        files and the rule's `ignore` (anchored at `rule.path`), and any `.git` path segment
        below `rule.path`. Compose roots its `.git/` pattern at `/`, so on live events it
        only catches `/.git`; devbox deliberately ignores `.git` at any depth instead.
        """
        key = (id(rule), os.fspath(path))
        verdict = self._verdicts.get(key)
        if verdict is None:
            if len(self._verdicts) >= _VERDICTS:
                self._verdicts.clear()
            verdict = self._verdicts[key] = self._triggers(rule, path)
        return verdict

    def _triggers(self, rule: WatchRule, path: Path) -> bool:
        rel = _relative(path, rule.path)
        if rel is None:
            return False
        include, ignore = self._matchers[rule]
        if rule.include and not include.matches(rel):
            return False
        if ".git" in rel.split("/") or _EPHEMERAL.matches(rel) or ignore.matches(rel):
            return False
        docker_rel = None if self._context is None else _relative(path, self._context)
        return docker_rel is None or not self._dockerignore.matches(docker_rel)

    def skips_everywhere(self, directory: Path) -> bool:
        """Whether no rule can trigger under `directory`: a watcher need not watch it."""
        return all(self.skips_dir(rule, directory) for rule in self.rules)

    def skips_dir(self, rule: WatchRule, directory: Path) -> bool:
        """Whether nothing under `directory` can trigger `rule`, so a watcher can skip it.

        Conservative: False when unsure; `include` never prunes.
        """
        rel = _relative(directory, rule.path)
        if rel is None:
            return _relative(rule.path, directory) is None  # keep ancestors of the rule path
        ignore = self._matchers[rule][1]
        if ".git" in rel.split("/") or _EPHEMERAL.excludes_dir(rel) or ignore.excludes_dir(rel):
            return True
        docker_rel = None if self._context is None else _relative(directory, self._context)
        return docker_rel is not None and self._dockerignore.excludes_dir(docker_rel)


def container_path(rule: WatchRule, path: Path) -> str:
    """Where `path` lands in the container: Compose's `path.Join(target, rel)`, rooted at `/`.

    Compose extracts its tar at `/`, so a relative target is effectively absolute.
    """
    rel = _relative(path, rule.path)
    if rule.target is None or rel is None:
        raise ValueError(f"{path} has no container path under watch rule {rule.index}")
    return clean_path("/" + posixpath.join(rule.target, rel))


def load_rules(project: ComposeProject, service: Service) -> RuleSet:
    """The service's watch rules, with the build context's ignore file, as Compose reads them
    (`<Dockerfile>.dockerignore` first, else `.dockerignore`)."""
    rules = parse_watch_rules(
        service.develop,
        project_dir=project.project_dir,
        compose_file=project.file,
        service=service.name,
    )
    patterns: list[str] = []
    if service.context is not None:
        specific = service.context / f"{service.dockerfile}.dockerignore"
        patterns = read_ignore_file(
            specific if specific.is_file() else service.context / ".dockerignore"
        )
    return RuleSet(rules, context_dir=service.context, dockerignore=patterns)
