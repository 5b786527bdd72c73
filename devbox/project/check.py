"""`devbox init --check`: drift from uv's Docker best practice in existing files.

Pure functions over file contents; each finding names the file, the problem and the fix.
"""

import contextlib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from devbox import uv
from devbox.defaults import CACHE_VOLUME, UV_CACHE_DIR
from devbox.errors import ConfigError
from devbox.project.compose import ComposeProject, Service, load_compose, read_yaml
from devbox.project.dockerignore import (
    BuildIgnore,
    PatternMatcher,
    build_ignore_path,
    parse_ignore_text,
)
from devbox.project.files import read_text
from devbox.project.locate import ProjectPaths
from devbox.project.secrets import copied_secrets, exposure

_FROM = re.compile(r"^\s*FROM\s+(?:--\S+\s+)*\S+(?:\s+AS\s+(\S+))?", re.IGNORECASE | re.MULTILINE)
_UV_COPY = re.compile(r"COPY\s+--from=ghcr\.io/astral-sh/uv(?::(\S+?))?(?:@\S+)?\s", re.IGNORECASE)


@dataclass(frozen=True)
class Finding:
    file: str
    problem: str
    fix: str

    def __str__(self) -> str:
        return f"{self.file}: {self.problem}; {self.fix}"


def dockerfile_targets(text: str) -> list[str]:
    """Names of the `FROM ... AS name` stages, in order."""
    return [m.group(1).lower() for m in _FROM.finditer(text) if m.group(1)]


def last_stage_name(text: str) -> str | None:
    """The name of the stage Compose builds when no target is set (None: unnamed or none)."""
    stages = list(_FROM.finditer(text))
    return stages[-1].group(1).lower() if stages and stages[-1].group(1) else None


def _last_stage(text: str) -> str:
    starts = [m.start() for m in _FROM.finditer(text)]
    return text[starts[-1] :] if starts else text


_COPY_INSTRUCTION = re.compile(r"^\s*(COPY|ADD)\s+(.+)$", re.IGNORECASE)


def _instructions(text: str) -> Iterator[tuple[int, str]]:
    """Each instruction with the number of its first line, continuation lines joined."""
    start, parts = 0, list[str]()
    for number, line in enumerate(text.splitlines(), 1):
        if not parts:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            start = number
        parts.append(line.rstrip().removesuffix("\\"))
        if not line.rstrip().endswith("\\"):
            yield start, " ".join(parts)
            parts = []
    if parts:
        yield start, " ".join(parts)


def ignored_copies(text: str, matcher: PatternMatcher) -> list[tuple[int, str]]:
    """The `COPY`/`ADD` sources (with their line) that the build context leaves out: such a
    build stops there ("not found"), as with `COPY .env .` once .env is kept out of it.
    Sources from another stage or image (`--from`), globs and variables are not judged."""
    found = []
    for number, line in _instructions(text):
        match = _COPY_INSTRUCTION.match(line)
        if match is None:
            continue
        args = match.group(2).strip()
        words: list[str] = []
        if args.startswith("["):
            with contextlib.suppress(ValueError):
                parsed = json.loads(args)
                if isinstance(parsed, list):
                    words = [w for w in parsed if isinstance(w, str)]
        else:
            options = re.match(r"(?:--\S+\s+)*", args)
            words = args[options.end() if options else 0 :].split()
        if any(w.startswith("--from") for w in args.split()):
            continue
        for source in words[:-1]:
            relative = source.removeprefix("./").strip("/")
            if relative in ("", ".") or any(c in relative for c in "*?[$"):
                continue
            if matcher.matches(relative):
                found.append((number, source))
    return found


def check_dockerfile(text: str, *, name: str = "Dockerfile") -> list[Finding]:
    found: list[Finding] = []

    def add(problem: str, fix: str) -> None:
        found.append(Finding(name, problem, fix))

    targets = dockerfile_targets(text)
    for target in ("dev", "prod"):
        if target not in targets:
            add(
                f"no `{target}` target",
                f"add a stage `FROM ... AS {target}` (devbox init writes one)",
            )
    if text.lstrip().startswith("# syntax="):
        add(
            "`# syntax=` line pulls a frontend image",
            "remove it; BuildKit's built-in frontend suffices",
        )
    copies = _UV_COPY.findall(text)
    if not copies:
        add(
            "uv is not copied from ghcr.io/astral-sh/uv",
            "COPY --from=ghcr.io/astral-sh/uv:<version>",
        )
    elif any(tag in ("", "latest") or not re.fullmatch(r"\d+\.\d+\.\d+", tag) for tag in copies):
        add("uv is not pinned to an exact version", "use ghcr.io/astral-sh/uv:<x.y.z>")
    if "uv sync" in text and "--mount=type=cache" not in text:
        add(
            "uv sync runs without a cache mount",
            "RUN --mount=type=cache,target=/root/.cache/uv ...",
        )
    if "uv sync" in text and not re.search(r"--no-install-(project|workspace|local)", text):
        add("dependencies share a layer with the project", "sync with --no-install-project first")
    if "uv sync" in text and not re.search(r"--(locked|frozen)", text):
        add("uv sync may change the lock", "use uv sync --locked")
    if "UV_COMPILE_BYTECODE" not in text:
        add("bytecode is not compiled", "set ENV UV_COMPILE_BYTECODE=1")
    user = re.findall(r"^\s*USER\s+(\S+)", _last_stage(text), re.MULTILINE | re.IGNORECASE)
    if not user or user[-1].split(":")[0] in ("root", "0"):
        add("the final stage runs as root", "add a non-root user and USER to it")
    return found


def _listed(names: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def check_dockerignore(
    text: str | None, *, name: str = ".dockerignore", found: Sequence[str] = ()
) -> list[Finding]:
    """What a build with this `.dockerignore` copies that it should not, judged as BuildKit
    reads the file (`BuildIgnore`); `found`: the project's secret files (`copied_secrets`
    gives them)."""
    if text is None:
        return [Finding(name, "missing: .venv and secrets reach the build context", "devbox init")]
    ignore = parse_ignore_text(text)
    build = BuildIgnore(ignore)
    found_ = []
    if build.copies(".venv/pyvenv.cfg"):
        found_.append(Finding(name, ".venv is not ignored", "add a line `.venv`"))
    exposed = exposure(ignore, found)
    if exposed.files:
        found_.append(
            Finding(
                name,
                f"a build copies these secrets into the image: {_listed(exposed.files)}",
                "run devbox init to add its secrets block (ship one on purpose with a "
                "`!path` line below the block)",
            )
        )
    if exposed.patterns:
        found_.append(
            Finding(
                name,
                f"secrets at any depth are not ignored: {_listed(exposed.patterns)}",
                "run devbox init to add its secrets block",
            )
        )
    return found_


def developed_service(project: ComposeProject, service: str) -> Service | None:
    """The service devbox develops: the one named, else the first with `develop`."""
    return project.services.get(service) or next(
        (s for s in project.services.values() if s.develop), None
    )


def holding_file(project: ComposeProject, service: str, key: str) -> str:
    """The compose file that sets `services.<service>.<key>` last (an override file wins,
    as in Compose's merge), named as in the project folder; the main file when none does."""
    holder = project.file
    for file, raw in _service_in_each_file(project, service):
        if key in raw:
            holder = file
    return _shown(project.project_dir, holder)


def _service_in_each_file(
    project: ComposeProject, service: str
) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Each compose file of the project (in merge order) that has a mapping for the
    service, with that mapping; a file that does not read is passed over."""
    for file in project.files:
        try:
            data = read_yaml(file)
        except ConfigError:
            continue
        services = data.get("services") if isinstance(data, dict) else None
        raw = services.get(service) if isinstance(services, dict) else None
        if isinstance(raw, dict):
            yield file, raw


def _shown(folder: Path, path: Path) -> str:
    """`path` relative to the project folder when it is inside it, else as it is."""
    try:
        return path.resolve().relative_to(folder.resolve()).as_posix()
    except ValueError:
        return str(path)


def check_build_target(
    project: ComposeProject, *, service: str, planned: Mapping[Path, str] | None = None
) -> list[Finding]:
    """The developed service must build the Dockerfile's `dev` stage: the last stage (prod,
    by devbox's layout) installs the project non-editable, so synced edits never run.

    `planned` gives a Dockerfile's content to be (init checks before it writes)."""
    svc = developed_service(project, service)
    target = svc.target.lower() if svc is not None and svc.target else None
    if svc is None or svc.context is None or target == "dev":
        return []
    dockerfile = svc.context / svc.dockerfile
    text = (planned or {}).get(dockerfile) or read_text(dockerfile) or ""
    has_dev = "dev" in dockerfile_targets(text)
    at = f"services.{svc.name}"
    if target is not None:
        if target != "prod" and not has_dev:
            return []  # a stage of the user's own layout
        problem = f"{at} builds the `{svc.target}` stage, so edits never reach the running code"
    else:
        last = last_stage_name(text)
        if not has_dev or last == "dev":
            return []  # no dev stage: check_dockerfile reports it
        problem = (
            f"{at} has no build target, so Compose builds the Dockerfile's last stage "
            f"(`{last or 'unnamed'}`), not `dev`: edits never reach the running code"
        )
    fix = (
        f"run `devbox init --fix` to set `target: dev` under {at}.build"
        if has_dev
        else f"add a `dev` stage to {_shown(project.project_dir, dockerfile)} (`devbox init "
        f"--force` writes devbox's, yours kept as Dockerfile.bak), then set `target: dev` "
        f"under {at}.build"
    )
    return [Finding(target_file(project, svc.name), problem, fix)]


def target_file(project: ComposeProject, service: str) -> str:
    """The compose file that decides the service's build target, named as in the project
    folder: the last to set `build.target`, else the last to set `build`."""
    return _shown(project.project_dir, target_path(project, service))


def target_path(project: ComposeProject, service: str) -> Path:
    """`target_file`'s path: where `devbox init --fix` sets the target."""
    with_build = with_target = None
    for file, raw in _service_in_each_file(project, service):
        build = raw.get("build")
        if build is not None:
            with_build = file
        if isinstance(build, dict) and "target" in build:
            with_target = file
    return with_target or with_build or project.file


def missing_stage(project: ComposeProject, svc: Service) -> str | None:
    """The one-line problem, with its fix, when the service builds a `target` its
    Dockerfile has no stage for (BuildKit would stop with "target stage dev could not be
    found"); None when it has, or there is nothing to read."""
    if svc.context is None or not svc.target:
        return None
    dockerfile = svc.context / svc.dockerfile
    text = read_text(dockerfile)
    stages = dockerfile_targets(text) if text is not None else None
    if stages is None or svc.target.lower() in stages:
        return None
    have = f"its stages: {', '.join(stages)}" if stages else "it names no stage"
    at = f"{project.file.name}: services.{svc.name}.build.target"
    if svc.target.lower() == "dev":
        fix = (
            f"remove `target: dev` from {project.file.name} to develop the Dockerfile as it is, "
            f"or add a stage `FROM ... AS dev`, or run `devbox init --force` to replace it with "
            "devbox's dev and prod stages (yours kept as Dockerfile.bak)"
        )
    else:
        fix = f"set the target to a stage it has, or add `FROM ... AS {svc.target}`"
    return f"{at} is {svc.target!r}, but {dockerfile} has no such stage ({have}); {fix}"


def check_compose(
    project: ComposeProject | None, *, service: str, sync_exec: bool = False
) -> list[Finding]:
    """Findings for the developed service's watch rules and build target in the (validated)
    compose model; `sync_exec`: the installed Compose has sync+exec (>= 2.32)."""
    if project is None:
        return [Finding("compose.yaml", "missing", "run devbox init")]
    svc = developed_service(project, service)
    name = holding_file(project, svc.name if svc else service, "develop")
    watch = (svc.develop or {}).get("watch") if svc is not None else None
    target = check_build_target(project, service=service)
    if not isinstance(watch, list) or not watch:
        return [
            Finding(name, f"services.{service}: no develop.watch", "run devbox init to add it"),
            *target,
        ]
    rules = [r for r in watch if isinstance(r, dict)]
    found = []
    syncs = [
        r
        for r in rules
        if str(r.get("action", "")).startswith("sync")
        and PurePosixPath(str(r.get("path"))).name not in ("uv.lock", "pyproject.toml")
    ]  # a rule syncing one dependency file cannot reach .venv
    if not all(_ignores_venv(rule) for rule in syncs):
        found.append(Finding(name, "a sync rule does not ignore .venv/", "add `ignore: [.venv/]`"))
    rebuilds = [str(r.get("path")) for r in rules if r.get("action") == "rebuild"]
    installs = " ".join(str(r.get("path")) for r in rules if r.get("action") == "sync+exec")
    if (
        not any("uv.lock" in p or "requirements" in p for p in rebuilds)
        and "uv.lock" not in installs
    ):
        found.append(Finding(name, "no rebuild when dependencies change", "rebuild on ./uv.lock"))
    if any(_runs_uv_sync(rule) for rule in rules) and not _caches_uv(project, svc):
        at = f"services.{svc.name}" if svc is not None else "the service"
        found.append(
            Finding(
                name,
                f"{at}: `uv sync` in the container starts from an empty cache every time "
                f"(no volume at {UV_CACHE_DIR})",
                f"add `- {CACHE_VOLUME}:{UV_CACHE_DIR}` under {at}.volumes, a top-level "
                f"`volumes: {{{CACHE_VOLUME}: {{}}}}`, and `ENV UV_CACHE_DIR={UV_CACHE_DIR}` "
                "at the end of the Dockerfile's dev stage (devbox init writes them)",
            )
        )
    if sync_exec:
        for path in rebuilds:
            if PurePosixPath(path).name in ("uv.lock", "pyproject.toml"):
                found.append(
                    Finding(
                        name,
                        f"{path} rebuilds the image on every lock change",
                        "with Compose >= 2.32 use a sync+exec rule running `uv sync --locked` "
                        "(devbox init --force writes one; back up your edits first)",
                    )
                )
    return found + target


def _runs_uv_sync(rule: dict[str, Any]) -> bool:
    execute = rule.get("exec")
    command = execute.get("command") if isinstance(execute, dict) else None
    words = command.split() if isinstance(command, str) else command
    return isinstance(words, list) and uv.is_sync(words)


def _caches_uv(project: ComposeProject, svc: Service | None) -> bool:
    """Whether the service mounts a volume where uv keeps its cache: devbox's UV_CACHE_DIR,
    the one its environment names, or uv's default for root."""
    if svc is None:
        return True
    raw = (project.data.get("services") or {}).get(svc.name) or {}
    volumes = raw.get("volumes") if isinstance(raw, dict) else None
    targets = set()
    for item in volumes if isinstance(volumes, list) else []:
        if isinstance(item, dict):
            targets.add(str(item.get("target", "")).rstrip("/"))
        elif isinstance(item, str):
            parts = item.split(":")
            targets.add((parts[1] if len(parts) > 1 else parts[0]).rstrip("/"))
    cache_dirs = {UV_CACHE_DIR, "/root/.cache/uv"}
    cache_dirs |= {str(v).rstrip("/") for k, v in svc.environment if k == "UV_CACHE_DIR"}
    return bool(targets & cache_dirs)


def _ignores_venv(rule: dict[str, Any]) -> bool:
    ignore = rule.get("ignore") or []
    patterns = [ignore] if isinstance(ignore, str) else [str(p) for p in ignore]
    return PatternMatcher(patterns).matches(".venv/bin/python")


def check_project_dockerignore(project_dir: Path) -> list[Finding]:
    """`check_dockerignore` of the ignore file the project's build reads (`Dockerfile.
    dockerignore` first), with the secret files of the project that build would copy."""
    path = build_ignore_path(project_dir)
    text = read_text(path)
    if text is None:
        return check_dockerignore(None)
    found = copied_secrets(project_dir, parse_ignore_text(text, path=path))
    return check_dockerignore(text, name=path.name, found=found)


def check_env_file(
    project: ComposeProject | None, *, service: str, dotenv: str | None
) -> list[Finding]:
    """The app reads `.env` (`dotenv` says why), which the image leaves out: the developed
    service must get it through `env_file`, as init writes it."""
    svc = developed_service(project, service) if project is not None else None
    if project is None or svc is None or dotenv is None:
        return []
    raw = (project.data.get("services") or {}).get(svc.name)
    if not isinstance(raw, dict) or raw.get("env_file"):
        return []
    at = f"services.{svc.name}"
    return [
        Finding(
            holding_file(project, svc.name, "develop"),
            f"{at}: the app reads .env ({dotenv}), but the image leaves it out and no "
            "env_file passes it",
            f"add `env_file: [{{path: .env, required: false}}]` under {at} (Compose >= 2.24)",
        )
    ]


def build_files(project: ComposeProject | None, service: str, folder: Path) -> tuple[Path, Path]:
    """The Dockerfile and .dockerignore the developed service's build reads: its
    `build.dockerfile` in its `build.context`, and `<Dockerfile>.dockerignore` beside it
    when there is one (BuildKit's rule), else the context's `.dockerignore`."""
    svc = developed_service(project, service) if project is not None else None
    context = svc.context if svc is not None and svc.context is not None else folder
    dockerfile = context / (svc.dockerfile if svc is not None else "Dockerfile")
    own = dockerfile.with_name(dockerfile.name + ".dockerignore")
    return dockerfile, own if own.is_file() else context / ".dockerignore"


def _copied_secrets(
    project: ComposeProject | None,
    service: str,
    folder: Path,
    ignore_path: Path,
    ignore_text: str | None,
) -> list[str]:
    """The secret files of the developed service's build context its build would copy."""
    if ignore_text is None:
        return []
    svc = developed_service(project, service) if project is not None else None
    context = svc.context if svc is not None and svc.context is not None else folder
    return copied_secrets(context, parse_ignore_text(ignore_text, path=ignore_path))


def check_files(
    paths: ProjectPaths, *, service: str, sync_exec: bool = False, dotenv: str | None = None
) -> list[Finding]:
    """Every finding for the files Compose builds the developed service from (its
    Dockerfile and .dockerignore) and for the compose files, each against the file that
    holds it."""
    project = load_compose(paths) if paths.compose_files else None
    dockerfile_path, ignore_path = build_files(project, service, paths.dir)
    shown = _shown(paths.dir, dockerfile_path)
    ignore_text = read_text(ignore_path)
    matcher = (
        PatternMatcher(parse_ignore_text(ignore_text, path=ignore_path))
        if ignore_text is not None
        else None
    )
    ignores_env = matcher is not None and matcher.matches(".env")
    dockerfile = read_text(dockerfile_path)
    found = (
        check_dockerfile(dockerfile, name=shown)
        if dockerfile is not None
        else [Finding(shown, "missing", "run devbox init")]
    )
    if dockerfile is not None and matcher is not None:
        found += [
            Finding(
                shown,
                f"line {number} copies {source}, which {_shown(paths.dir, ignore_path)} keeps "
                "out of the build context, so the build stops there",
                "remove the line (pass the file at run time: env_file, a secret or a volume)",
            )
            for number, source in ignored_copies(dockerfile, matcher)
        ]
    return (
        found
        + check_dockerignore(
            ignore_text,
            name=_shown(paths.dir, ignore_path),
            found=_copied_secrets(project, service, paths.dir, ignore_path, ignore_text),
        )
        + check_compose(project, service=service, sync_exec=sync_exec)
        + (check_env_file(project, service=service, dotenv=dotenv) if ignores_env else [])
    )
