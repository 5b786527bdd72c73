"""`devbox doctor`: is this machine (and this project) ready for `devbox up`?

Each check is a typed `Check` (ok, warn or fail, a detail, and the fix when not ok);
the pure parts (verdicts, formatting, the inotify comparison) take their numbers as
arguments so that they are tested without an engine. Works outside a project: the
project checks then say "no project".
"""

import contextlib
import re
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path

from devbox import uv
from devbox.engine.client import BUILDX_FIX, Engine, compose_v1_version
from devbox.engine.versions import COMPOSE_WATCH_MIN, Version
from devbox.errors import DevboxError
from devbox.project.check import check_compose, check_dockerfile, check_project_dockerignore
from devbox.project.compose import ComposeProject, load_compose, watched_service
from devbox.project.detect import image_python
from devbox.project.files import read_text
from devbox.project.locate import PROJECT_MARKERS, locate
from devbox.project.settings import image_wheel_advice, load_pyproject, read_settings
from devbox.runtime import process
from devbox.sync.rules import load_rules
from devbox.sync.watcher import watch_needs

MIN_FREE_BYTES = 5 * 1024**3
BUILDKIT_BUILTIN_BEFORE = Version(23, 0, 0)  # clients from 23 on build with buildx only
INOTIFY_FILES = {
    "watches": Path("/proc/sys/fs/inotify/max_user_watches"),
    "instances": Path("/proc/sys/fs/inotify/max_user_instances"),
}
NO_PROJECT = "no project"
_FROM = re.compile(r"^\s*FROM\s+(?:--\S+\s+)*(\S+)", re.IGNORECASE | re.MULTILINE)


class Verdict(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Check:
    name: str
    verdict: Verdict
    detail: str
    fix: str | None = None

    def line(self) -> str:
        """`ok|warn|fail  name: detail`, the fix appended when there is something to do."""
        fix = f"; fix: {self.fix}" if self.fix and self.verdict is not Verdict.OK else ""
        return f"{self.verdict.value:<4}  {self.name}: {self.detail}{fix}"


def ok(name: str, detail: str) -> Check:
    return Check(name, Verdict.OK, detail)


def warn(name: str, detail: str, fix: str | None = None) -> Check:
    return Check(name, Verdict.WARN, detail, fix)


def fail(name: str, detail: str, fix: str | None = None) -> Check:
    return Check(name, Verdict.FAIL, detail, fix)


class DoctorFailed(DevboxError):
    """Some checks failed; the report (printed first) says which and how to fix them."""

    def __init__(self, failures: int) -> None:
        super().__init__(f"{failures} check(s) failed; see the fixes above")
        self.failures = failures


@dataclass(frozen=True)
class DoctorReport:
    project: str | None  # the project folder, None outside a project
    checks: list[Check] = field(default_factory=list)

    @property
    def failures(self) -> int:
        return sum(c.verdict is Verdict.FAIL for c in self.checks)

    def lines(self) -> list[str]:
        return [c.line() for c in self.checks]

    def to_dict(self) -> dict[str, object]:
        return {"project": self.project, "failures": self.failures} | {
            "checks": [asdict(c) | {"verdict": c.verdict.value} for c in self.checks]
        }

    def error(self) -> DoctorFailed | None:
        return DoctorFailed(self.failures) if self.failures else None


# --- pure verdicts ----------------------------------------------------------------------


def compose_check(compose: Version | None) -> Check:
    if compose is None:
        return warn(
            "compose",
            "no Compose v2 plugin: devbox up runs in fallback mode",
            f"install the Compose plugin >= {COMPOSE_WATCH_MIN} for compose mode",
        )
    if compose < COMPOSE_WATCH_MIN:
        return warn(
            "compose",
            f"{compose}: fallback mode (compose mode needs Compose >= {COMPOSE_WATCH_MIN})",
            f"upgrade the Compose plugin to >= {COMPOSE_WATCH_MIN}",
        )
    return ok("compose", f"{compose}: compose mode (`--mode watch` runs Compose watch)")


def compose_v1_check(v1: Version | None, *, has_v2: bool) -> Check:
    if v1 is None:
        return ok("compose v1", "not installed")
    if has_v2:
        return ok("compose v1", f"docker-compose {v1} on PATH; devbox uses the v2 plugin")
    return warn(
        "compose v1",
        f"only docker-compose {v1}: it cannot read `develop`, devbox runs without it",
        "install the Compose v2 plugin",
    )


def buildkit_check(*, buildx: bool, client: Version | None) -> Check:
    if buildx:
        return ok("buildkit", "the buildx plugin builds")
    if client is not None and client < BUILDKIT_BUILTIN_BEFORE:
        return ok("buildkit", f"client {client} builds with BuildKit (DOCKER_BUILDKIT=1)")
    return fail(
        "buildkit",
        f"client {client or 'unknown'} builds with BuildKit only through buildx, which is missing",
        BUILDX_FIX,
    )


def inotify_check(
    *, folders: int, instances: int, max_watches: int | None, max_instances: int | None
) -> Check:
    """Whether the watcher's watches and instances fit the per-user limits (which other
    programs, editors above all, share)."""
    need = f"{folders} folders to watch ({instances} inotify instances)"
    if max_watches is None or max_instances is None:
        return warn("inotify", f"{need}; limits unknown (not Linux?)")
    limits = f"limits {max_watches} watches, {max_instances} instances"
    if folders > max_watches or instances > max_instances:
        return warn(
            "inotify",
            f"{need} exceed the {limits}: devbox's fallback polls (slow)",
            f"sudo sysctl fs.inotify.max_user_watches={max(524288, folders * 2)} "
            f"fs.inotify.max_user_instances={max(1024, instances * 2)}",
        )
    if folders * 2 > max_watches or instances * 2 > max_instances:
        return warn(
            "inotify",
            f"{need}: over half the {limits}, which editors share",
            "raise fs.inotify.max_user_watches / max_user_instances, or ignore big folders",
        )
    return ok("inotify", f"{need}; {limits}")


def disk_check(free: int | None, where: str) -> Check:
    if free is None:
        return warn("disk", f"free space not checked ({where})")
    gib = free / 1024**3
    if free < MIN_FREE_BYTES:
        return warn(
            "disk",
            f"{gib:.1f} GB free at {where}; images need room",
            "free space (`docker system prune` removes unused images)",
        )
    return ok("disk", f"{gib:.1f} GB free at {where}")


def base_image(dockerfile: str) -> str | None:
    """The image the Dockerfile's first stage starts FROM (None for an ARG-built name)."""
    match = _FROM.search(dockerfile)
    return match.group(1) if match and "$" not in match.group(1) else None


# --- checks that ask the machine --------------------------------------------------------


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _guarded(name: str, check: Callable[[], Check]) -> Check:
    """A check that raised an expected error is a failing check, not the end of doctor."""
    try:
        return check()
    except DevboxError as exc:
        return fail(name, exc.message)


def _engine_checks(engine: Engine) -> tuple[list[Check], bool]:
    try:
        version = engine.server_version()
    except DevboxError as exc:
        detail, _, fix = exc.message.partition("; ")
        return [fail("engine", detail, fix or None)], False
    compose = engine.compose_version()
    checks = [
        ok("engine", f"Docker {version}"),
        compose_check(compose),
        compose_v1_check(compose_v1_version(), has_v2=compose is not None),
        buildkit_check(buildx=engine.has_buildx(), client=engine.client_version()),
        _guarded("disk", lambda: _disk(engine)),
    ]
    return checks, True


def _disk(engine: Engine) -> Check:
    if not engine.is_local():
        return disk_check(None, "the engine is not on this machine")
    root = engine.data_root()
    if root is None or not Path(root).is_dir():
        return disk_check(None, f"the engine's data root {root or '?'} is not visible here")
    return disk_check(shutil.disk_usage(root).free, root)


def _inotify(root: Path, project: ComposeProject | None, service: str | None) -> Check:
    def nothing(path: Path) -> bool:
        return False

    skip: Callable[[Path], bool] = nothing

    if project is not None:
        # Broken rules: every folder counts (the compose check reports the rules).
        with contextlib.suppress(DevboxError):
            skip = load_rules(project, watched_service(project, service)).skips_everywhere
    folders, instances = watch_needs(root, skip)
    return inotify_check(
        folders=folders,
        instances=instances,
        max_watches=_read_int(INOTIFY_FILES["watches"]),
        max_instances=_read_int(INOTIFY_FILES["instances"]),
    )


def _project_checks(root: Path, project: ComposeProject | None, service: str) -> list[Check]:
    ignore = check_project_dockerignore(root)
    checks = [
        fail(".dockerignore", "; ".join(f.problem for f in ignore), ignore[0].fix)
        if ignore
        else ok(
            ".dockerignore", "a build copies neither .venv nor secrets (.env, keys, credentials)"
        )
    ]
    if project is not None:
        venv = [f for f in check_compose(project, service=service) if ".venv" in f.problem]
        checks.append(
            fail("sync rules", venv[0].problem, venv[0].fix)
            if venv
            else ok("sync rules", ".venv/ is never synced")
        )
    dockerfile = read_text(root / "Dockerfile")
    if dockerfile is None:
        checks.append(fail("uv pin", "no Dockerfile", "run devbox init"))
    else:
        uv = [f for f in check_dockerfile(dockerfile) if f.problem.startswith("uv is not")]
        checks.append(fail("uv pin", uv[0].problem, uv[0].fix) if uv else ok("uv pin", "exact"))
    checks.append(_guarded("uv.lock", lambda: _lock(root)))
    checks.append(_guarded("python wheels", lambda: _wheels(root, dockerfile)))
    return checks


def _wheels(root: Path, dockerfile: str | None) -> Check:
    """Whether uv.lock has a wheel of every package for the Python the image builds with."""
    name = "python wheels"
    if not (root / "uv.lock").is_file():
        return ok(name, "no uv.lock")
    image = base_image(dockerfile or "") or read_settings(root).python_image
    own = dockerfile is not None and not dockerfile.lstrip().startswith("# Generated by devbox")
    data = load_pyproject(root, required=False) or {}
    requires = data.get("project", {}).get("requires-python")
    advice = image_wheel_advice(
        root,
        image,
        requires if isinstance(requires, str) else None,
        source="Dockerfile" if own else "image",
    )
    python = image_python(image)
    if python is None:
        return ok(name, f"not checked: {image} names no Python version")
    if advice is None:
        return ok(name, f"uv.lock has wheels for Python {python} ({image})")
    detail, _, fix = advice.partition("; ")
    return warn(name, detail, fix)


def _lock(root: Path) -> Check:
    if not (root / "pyproject.toml").is_file():
        return ok("uv.lock", "no pyproject.toml (requirements project)")
    if not (root / "uv.lock").is_file():
        return fail("uv.lock", "missing", "run `uv lock` (or `devbox init --lock`)")
    program = shutil.which(uv.PROGRAM)
    if program is None:
        return warn("uv.lock", "not checked: uv is not on PATH", "install uv")
    result = process.run(
        uv.lock(check=True).argv(program),
        cwd=root,
        check=False,
        merge=True,
        timeout=120,
        env={"UV_PYTHON_DOWNLOADS": "never"},  # a check downloads nothing
    )
    output = process.text(result.stdout)
    if result.returncode == 0:
        return ok("uv.lock", "in step with pyproject.toml")
    if uv.lock_lags(output):
        return fail("uv.lock", "out of step with pyproject.toml", "run `uv lock`")
    why = uv.error_reason(output) or f"uv exit code {result.returncode}"
    return warn("uv.lock", f"not checked: {why.removeprefix('error: ')}")


def _sees_project(engine: Engine, root: Path, engine_up: bool) -> Check:
    name = "project visible"
    if not engine_up:
        return warn(name, "not checked: no engine")
    image = base_image(read_text(root / "Dockerfile") or "")
    if image is None or not engine.image_exists(image):
        return warn(
            name,
            f"not checked: the Dockerfile's base image {image or '?'} is not local",
            "build once (`devbox up`), then run doctor again",
        )
    marker = next(m for m in (*PROJECT_MARKERS, "") if m == "" or (root / m).exists())
    seen = engine.sees_path(image, root, marker or ".")
    if seen is None:
        return warn(name, f"not checked: a probe container from {image} did not run")
    if not seen:
        return fail(
            name,
            f"the engine does not see {root} (a remote engine?): bind sync would run nothing",
            "use `devbox up --sync copy`",
        )
    return ok(name, f"a container bind-mounting {root} sees its files")


def doctor(*, project_dir: Path, service: str | None = None) -> DoctorReport:
    """Every check, in order: engine, Compose, BuildKit, disk, inotify, the project's files."""
    paths = locate(project_dir)
    root = paths.dir
    in_project = bool(paths.compose_files) or any((root / m).exists() for m in PROJECT_MARKERS)
    project: ComposeProject | None = None
    checks: list[Check] = []
    if in_project and paths.compose_files:
        try:
            project = load_compose(paths)
        except DevboxError as exc:
            checks.append(fail("compose file", exc.message))
    name = project.name if project is not None else "devbox-doctor"
    engine = (
        Engine.for_project(project)
        if project is not None
        else Engine(project_dir=root, project_name=name)
    )
    engine_checks, engine_up = _engine_checks(engine)
    if not engine_up:
        engine_checks += [
            warn(n, "not checked: no engine") for n in ("compose", "buildkit", "disk")
        ]
    checks = engine_checks + checks
    if not in_project:
        checks.append(_inotify(root, None, None))
        checks += [
            warn(n, NO_PROJECT, "run in a project folder or pass --project-dir")
            for n in (".dockerignore", "uv pin", "uv.lock", "project visible")
        ]
        return DoctorReport(project=None, checks=checks)
    checks.append(_guarded("inotify", lambda: _inotify(root, project, service)))
    svc = service
    if svc is None and project is not None:
        svc = next((s.name for s in project.services.values() if s.develop), None)
    checks += _project_checks(root, project, svc or "app")
    checks.append(_guarded("project visible", lambda: _sees_project(engine, root, engine_up)))
    return DoctorReport(project=str(root), checks=checks)
