"""`devbox init`: write the Dockerfile, .dockerignore and compose.yaml for a project, and
`devbox init --check`: report drift from best practice in the files it has."""

import contextlib
import json
import shutil
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from devbox import uv
from devbox.engine.client import Engine
from devbox.engine.versions import (
    COMPOSE_OPTIONAL_ENV_FILE_MIN,
    COMPOSE_SYNC_EXEC_MIN,
    COMPOSE_WATCH_MIN,
    Version,
)
from devbox.errors import CommandFailed, ConfigError, DevboxError
from devbox.project.check import (
    Finding,
    check_build_target,
    check_files,
    developed_service,
    dockerfile_targets,
    ignored_copies,
    target_path,
)
from devbox.project.choices import chosen_keys
from devbox.project.compose import load_compose, project_name
from devbox.project.detect import ProjectKind
from devbox.project.dockerignore import PatternMatcher, parse_ignore_text
from devbox.project.editor import editor_facts, plan_editor
from devbox.project.files import read_text, write_all
from devbox.project.locate import ProjectPaths, locate, require_compose
from devbox.project.merge import set_dev_target
from devbox.project.scaffold import (
    FileResult,
    apply,
    plan_compose,
    plan_dockerignore,
    plan_file,
    plan_record,
    plan_specific_dockerignore,
    recorded_values,
)
from devbox.project.secrets import is_secret
from devbox.project.settings import (
    ProjectSettings,
    check_image_python,
    read_settings,
    wheel_notes,
)
from devbox.project.templates import render_files
from devbox.runtime import process


@dataclass(frozen=True)
class InitReport:
    settings: ProjectSettings
    files: list[FileResult]
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # written, but not valid


def lock(project_dir: Path) -> None:
    program = shutil.which(uv.PROGRAM)
    if program is None:
        raise ConfigError("uv: command not found; install uv, then run `uv lock`")
    try:
        process.run(uv.lock().argv(program), cwd=project_dir)
    except CommandFailed as exc:
        why = uv.error_reason("\n".join(exc.output)) or exc.reason
        raise ConfigError(f"uv lock failed: {why}") from None


def init_project(
    *,
    project_dir: Path,
    force: bool = False,
    lock_missing: bool = False,
    overrides: Mapping[str, object] | None = None,
) -> InitReport:
    """Write the Dockerfile, .dockerignore and compose.yaml for the project `project_dir`
    belongs to; an existing compose file (any name Compose reads) is merged into."""
    paths = locate(project_dir)
    folder = paths.dir
    settings = read_settings(folder, overrides=overrides, choose=True)
    check_image_python(folder, settings.python_image)  # before anything is written
    if settings.kind is ProjectKind.UNLOCKED:
        if not lock_missing:
            raise ConfigError(
                f"{folder / 'uv.lock'}: not found; run `uv lock` (or `devbox init --lock`): "
                "the Dockerfile installs exactly what the lock says"
            )
        lock(folder)
        settings = read_settings(folder, overrides=overrides, choose=True)
    version = _compose_version(folder)
    sync_exec = version is None or version >= COMPOSE_SYNC_EXEC_MIN
    # .env stays out of the image; an app that reads it gets it from Compose instead, as an
    # env_file that may be missing (Compose >= 2.24; an older one would need the file).
    optional_env = version is None or version >= COMPOSE_OPTIONAL_ENV_FILE_MIN
    rendered = render_files(settings, folder, sync_exec=sync_exec)
    before = _recorded(folder)
    compose = paths.compose_file
    # Everything is planned (and every problem raised) before anything is written; then
    # all files are written, or none.
    ours = render_files(before, folder, sync_exec=sync_exec) if before else {}
    dockerfile = plan_file(
        folder / "Dockerfile", rendered["Dockerfile"], force=force, ours=ours.get("Dockerfile")
    )
    final_dockerfile = dockerfile.content or read_text(dockerfile.path) or ""
    dev_stage = "dev" in dockerfile_targets(final_dockerfile)
    if not dev_stage:  # the user's Dockerfile, kept: compose.yaml builds it as it is
        rendered = render_files(settings, folder, sync_exec=sync_exec, dev_stage=False)
    files = [
        dockerfile,
        plan_dockerignore(folder / ".dockerignore", rendered[".dockerignore"], force),
    ]
    specific = plan_specific_dockerignore(folder / "Dockerfile.dockerignore")
    if specific is not None:
        files.append(specific)
    planned = {r.path: r.content for r in files if r.content is not None}
    ignore = _final_ignore(folder, files[1])
    keeps_env_out = ignore is not None and ignore.matches(".env")
    env_file = bool(settings.dotenv) and optional_env and keeps_env_out
    if env_file:
        rendered = render_files(
            settings, folder, sync_exec=sync_exec, dev_stage=dev_stage, env_file=True
        )
    if before is not None and (env_file or not dev_stage):
        ours = render_files(
            before, folder, sync_exec=sync_exec, dev_stage=dev_stage, env_file=env_file
        )
    files.append(
        plan_compose(
            compose,
            rendered["compose.yaml"],
            settings,
            folder,
            force,
            planned,
            sync_exec=sync_exec,
            env_file=env_file,
            ours=ours.get("compose.yaml") if compose.name == "compose.yaml" else None,
        )
    )
    planned.update({r.path: r.content for r in files[-1:] if r.content is not None})
    final = ProjectPaths(folder, paths.compose_files or (compose,))
    developed, target_problems = _developed(final, settings.service, planned)
    recorded = plan_record(
        folder,
        replace(settings, service=developed or settings.service),
        flags=(*(overrides or ()), *settings.from_your_dockerfile),
    )
    if recorded is not None:
        files.append(recorded)
    files += editor_files(final, developed or settings.service)
    _apply(files)
    verdict, valid = validate_compose(locate(folder))
    notes, problems = ([verdict], []) if valid else ([], [verdict])
    notes = list(settings.notes) + wheel_notes(folder, settings) + notes
    if settings.dotenv:
        notes += _env_file_note(final, developed or settings.service, settings.dotenv, version)
    problems += target_problems
    notes += stage_notes(dockerfile_targets(final_dockerfile))
    notes += copy_notes(final_dockerfile, ignore)
    notes += kept_values(folder, settings, overrides or {})
    return InitReport(settings=settings, files=files, notes=notes, problems=problems)


def _recorded(folder: Path) -> ProjectSettings | None:
    """The settings `[tool.devbox]` holds before this run (None: unreadable): a file equal
    to what init writes from them is init's own, unedited, and can follow new settings."""
    try:
        return read_settings(folder)
    except DevboxError:
        return None


GET_DEVBOX_STAGES = (
    "`devbox init --force` replaces it with devbox's, which has both (yours kept as Dockerfile.bak)"
)


def kept_values(
    folder: Path, settings: ProjectSettings, options: Mapping[str, object]
) -> list[str]:
    """With options passed, a line per `[tool.devbox]` key of the user's that init keeps
    although it would now choose otherwise (say `prod-sources = false` after a new
    `--command` that needs the sources), and how to let init choose it."""
    path = folder / "pyproject.toml"
    text = read_text(path)
    if not options or text is None:
        return []
    try:
        fresh = recorded_values(read_settings(folder, overrides=options, fresh=True))
        tool = tomllib.loads(text).get("tool", {}).get("devbox", {})
    except (ConfigError, tomllib.TOMLDecodeError):
        return []
    chosen = chosen_keys(text)
    mine = recorded_values(settings)
    notes = []
    for key, value in mine.items():
        if key == "service" or key in options or key in chosen or key not in tool:
            continue
        if key in settings.from_your_dockerfile:
            continue  # your Dockerfile said it: init would say the same from it
        if fresh.get(key) != value:
            would = f"choose {json.dumps(fresh[key])}" if key in fresh else "not set it"
            notes.append(
                f"{path}: [tool.devbox] {key} = {json.dumps(value)} is yours, kept; init itself "
                f"would {would} now: delete the line to let it"
            )
    return notes


def stage_notes(targets: list[str]) -> list[str]:
    """What up and smoke do with a Dockerfile that lacks devbox's `dev` or `prod` stage."""
    notes = []
    if "dev" not in targets:
        notes.append(
            "Dockerfile: no `dev` stage, so up develops it as it is (a build without a target "
            f"builds its last stage, as Compose does); {GET_DEVBOX_STAGES}"
        )
    if "prod" not in targets:
        notes.append(
            "Dockerfile: no `prod` stage, so smoke checks its last stage; " + GET_DEVBOX_STAGES
        )
    return notes


def _compose_version(folder: Path) -> Version | None:
    return Engine(project_dir=folder, project_name=project_name(folder.name)).compose_version()


def _final_ignore(folder: Path, dockerignore: FileResult) -> PatternMatcher | None:
    """The .dockerignore init leaves (None: there is none)."""
    text = dockerignore.content
    if text is None:
        text = read_text(folder / ".dockerignore")
    path = folder / ".dockerignore"
    return PatternMatcher(parse_ignore_text(text, path=path)) if text is not None else None


def copy_notes(dockerfile: str, matcher: PatternMatcher | None) -> list[str]:
    """Your Dockerfile copies a file the build context leaves out (Saicasm/summarizer's
    `COPY .env .`): the build stops there; one line each, with the fix."""
    if matcher is None:
        return []
    notes = []
    for number, source in ignored_copies(dockerfile, matcher):
        relative = source.removeprefix("./").strip("/")
        secret = is_secret(relative)
        why = " (a secret: none enters an image)" if secret else ""
        then = (
            "; the container reads it through env_file at run time"
            if relative.rsplit("/", 1)[-1].startswith(".env")
            else "; pass it at run time (a Compose secret or a volume)"
            if secret
            else ""
        )
        notes.append(
            f"Dockerfile: line {number} copies {source}, which .dockerignore keeps out of the "
            f"build context{why}, so the build stops there: remove the line{then}"
        )
    return notes


def _env_file_note(
    paths: ProjectPaths, service: str, why: str, version: Version | None
) -> list[str]:
    """One line: the dev service gets `.env` from Compose (or what to add when it does not)."""
    try:
        project = load_compose(paths)
    except ConfigError:
        return []
    raw = (project.data.get("services") or {}).get(service)
    if not isinstance(raw, dict):
        return []
    name = paths.compose_file.name
    if raw.get("env_file"):
        return [
            f"{name}: services.{service} reads .env through env_file ({why}): the app sees "
            "its settings, while .env stays out of the image"
        ]
    if version is not None and version < COMPOSE_OPTIONAL_ENV_FILE_MIN:
        return [
            f"{name}: the app reads .env ({why}), which stays out of the image; Compose "
            f"{version} cannot skip a missing env_file ({COMPOSE_OPTIONAL_ENV_FILE_MIN} can): "
            f"add `env_file: .env` under services.{service} once the file exists"
        ]
    return [
        f"{name}: the app reads .env ({why}), which stays out of the image; add "
        f"`env_file: [{{path: .env, required: false}}]` under services.{service}"
    ]


def editor_files(paths: ProjectPaths, service: str) -> list[FileResult]:
    """`.devcontainer/` and `.vscode/launch.json` for the developed service (see
    `project.editor`): written when missing, never replaced."""
    facts = editor_facts(paths.dir, service, paths.compose_files)
    return plan_editor(paths.dir, paths.dir.name, facts)


def _apply(files: list[FileResult]) -> None:
    """`apply`, with the editor's folders created first (and removed again, empty, when
    nothing could be written)."""
    made: list[Path] = []
    for result in files:
        folder = result.path.parent
        if result.content is not None and not folder.exists():
            folder.mkdir(parents=True)
            made.append(folder)
    try:
        apply(files)
    except ConfigError:
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


def init_devcontainer(*, project_dir: Path) -> InitReport:
    """`devbox init --devcontainer`: only the editor's files, for a project whose compose
    files exist (devbox's or yours); nothing else is touched."""
    paths = locate(project_dir)
    if not paths.compose_files:
        raise ConfigError(
            f"{paths.compose_file}: not found; run `devbox init` (it writes the editor's files too)"
        )
    settings = read_settings(paths.dir)
    project = load_compose(paths)
    svc = developed_service(project, settings.service)
    if svc is None:
        raise ConfigError(
            f"{paths.compose_file}: no service `{settings.service}` and none with develop.watch; "
            "pass --service or set [tool.devbox] service"
        )
    files = editor_files(paths, svc.name)
    _apply(files)
    return InitReport(settings=settings, files=files)


def compose_runs_sync_exec(folder: Path) -> bool:
    """Whether to write sync+exec dependency rules: the installed Compose has them (>= 2.32).
    With no Compose to ask, yes: the fallback runs either form, and the file is ready for a
    current Compose; a known older Compose keeps rebuild rules, which it understands."""
    engine = Engine(project_dir=folder, project_name=project_name(folder.name))
    version = engine.compose_version()
    return version is None or version >= COMPOSE_SYNC_EXEC_MIN


def _developed(
    paths: ProjectPaths, service: str, planned: Mapping[Path, str]
) -> tuple[str | None, list[str]]:
    """The service init develops (merged into or kept), and why it would not serve edits.

    A compose file devbox cannot read is left to Compose's verdict, reported next.
    """
    try:
        project = load_compose(paths, planned=planned)
    except ConfigError:
        return None, []
    svc = developed_service(project, service)
    findings = check_build_target(project, service=service, planned=planned)
    return (svc.name if svc else None), [str(f) for f in findings]


def validate_compose(paths: ProjectPaths) -> tuple[str, bool]:
    """Compose's verdict on the compose files (when Compose >= 2.22, which knows `develop`,
    is installed), and whether they are valid; reported after what was written, not instead."""
    name = paths.compose_file.name
    engine = Engine(
        project_dir=paths.dir,
        project_name=project_name(paths.dir.name),
        compose_files=paths.compose_files,
    )
    version = engine.compose_version()
    if version is None or version < COMPOSE_WATCH_MIN:
        return f"{name}: not validated (needs Compose >= {COMPOSE_WATCH_MIN})", True
    problem = engine.compose_config_error()
    if problem is not None:
        return f"{name}: Compose {version} rejects it: {problem}", False
    return f"{name}: valid for Compose {version}", True


def check_project(*, project_dir: Path) -> list[Finding]:
    """Drift from best practice in the project's Dockerfile, .dockerignore and compose files;
    writes nothing. A file devbox cannot read is a `ConfigError`, not a finding."""
    paths = locate(project_dir)
    settings = read_settings(paths.dir)
    return check_files(
        paths,
        service=settings.service,
        sync_exec=compose_runs_sync_exec(paths.dir),
        dotenv=settings.dotenv,
    )


def fix_project(*, project_dir: Path) -> list[str]:
    """`devbox init --fix`: the developed service builds the Dockerfile's `dev` stage where
    it built `prod` (an explicit `target: prod`, or no target and `prod` last). The target
    is set in the compose file that decides it (an override file too), every other byte of
    it kept (`merge.set_dev_target`), written atomically. One line per change; none when
    there was nothing to fix."""
    paths = require_compose(locate(project_dir))
    settings = read_settings(paths.dir)
    project = load_compose(paths)
    found = check_build_target(project, service=settings.service)
    svc = developed_service(project, settings.service)
    if not found or svc is None or svc.context is None:
        return []
    dockerfile = svc.context / svc.dockerfile
    if "dev" not in dockerfile_targets(read_text(dockerfile) or ""):
        raise ConfigError(str(found[0]))  # its fix says how to get a dev stage first
    path = target_path(project, svc.name)
    old = read_text(path, keep_newlines=True)
    if old is None:
        raise ConfigError(f"{path}: not found; run `devbox init`")
    fixed = set_dev_target(old, file=str(path), service=svc.name)
    check = load_compose(paths, planned={path: fixed.text.replace("\r\n", "\n")})
    if check_build_target(check, service=svc.name):  # another file still decides otherwise
        raise ConfigError(f"{found[0].file}: {found[0].problem}; set `target: dev` by hand")
    write_all([(path, fixed.text)])
    was = f"`{fixed.was}`" if fixed.was else "no target, so the last stage"
    name = found[0].file
    return [
        f"{name}: services.{svc.name}.build.target is now `dev` (was {was}); the rest of "
        f"{path.name} is as it was: `devbox up` runs your edits"
    ]
