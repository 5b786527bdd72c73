"""A failed `uv sync` in the running container: say why, and rebuild the image instead.

Both modes install a dependency change with `uv sync` in the running container. When that
fails (a broken lock, a package that needs a compiler), the fallback rebuilds as a rebuild
rule would. Under Compose watch, Compose only logs `Error handling changed files` and the
container keeps its old packages, so devbox runs the rule's command once more to learn why
and rebuilds the service itself (`docker compose build`, then `up --no-deps`).
"""

from collections.abc import Iterable

from devbox import uv
from devbox.engine.client import Engine
from devbox.engine.container import exec_options
from devbox.errors import DevboxError, StartError
from devbox.output import Echo
from devbox.project.compose import ComposeProject
from devbox.runtime import process
from devbox.sync.rules import Action, ExecSpec, WatchRule, load_rules

LOCK_LAGS = (
    "uv.lock does not match pyproject.toml yet: the container keeps its packages "
    "until the new lock is saved (`uv lock` or `devbox lock` writes it)"
)
REBUILD_FAILED = "build failed: the previous container keeps running; save a fix to retry"
# Compose watch's log line for a batch that failed (a sync, a restart or an exec).
COMPOSE_BATCH_FAILED = "Error handling changed files"


def failure_reason(result: process.Result) -> str | None:
    """Why a command failed, or None when the lock only lags behind pyproject.toml (saved
    first, or edited by hand): a rebuild would fail the same way. The reason is uv's
    (`uv.error_reason`: its error, or a build backend's such as a missing compiler, and
    the deepest cause); stdout when stderr is empty, as the docker CLI prints an exec
    that could not start."""
    said = process.text(result.stderr) or process.text(result.stdout)
    if uv.lock_lags(said):
        return None
    return uv.error_reason(said) or f"exit code {result.returncode}"


def rebuilding(container: str, reason: str) -> str:
    return f"uv sync in {container} failed ({reason}); rebuilding the image instead"


def uv_sync_rule(rules: Iterable[WatchRule]) -> WatchRule | None:
    """The first sync+exec rule that runs `uv sync` (what `devbox init` writes)."""
    return next(
        (
            r
            for r in rules
            if r.action is Action.SYNC_EXEC and r.exec and uv.is_sync(r.exec.command)
        ),
        None,
    )


def recover_compose_watch(
    engine: Engine, project: ComposeProject, services: list[str], echo: Echo
) -> None:
    """After Compose watch logged a failed batch: for each service whose `uv sync` rule
    fails when run again now, say why and rebuild and recreate it; a failed build keeps
    the old container serving. A rule that succeeds now (the failure was something else,
    or passed) changes nothing."""
    syncs: dict[str, ExecSpec] = {}
    for name in services:
        try:
            rule = uv_sync_rule(load_rules(project, project.services[name]).rules)
        except (DevboxError, KeyError):
            continue
        if rule is not None and rule.exec is not None:
            syncs[name] = rule.exec
    if not syncs:
        return  # no engine question for a failure that no `uv sync` rule could explain
    containers = engine.project_containers()
    for name, spec in syncs.items():
        running = [c.name for c in containers if c.service == name and c.running]
        if not running:
            continue
        options = exec_options(
            env=spec.environment,
            workdir=spec.working_dir,
            user=spec.user,
            privileged=spec.privileged,
        )
        result = engine.exec(running[0], spec.command, options=options, capture=True)
        if result.returncode == 0:
            continue
        reason = failure_reason(result)
        if reason is None:
            echo(LOCK_LAGS)
            continue
        echo(rebuilding(running[0], reason), error=True)
        if not engine.compose_build(name, title=f"building {name}", echo=echo):
            echo(REBUILD_FAILED, error=True)
            continue
        try:
            engine.compose_up("--detach", "--no-deps", "--no-build", name, what=name)
        except StartError as exc:
            echo(f"{name}: the new image is built, but its container did not start ({exc.message})")
        else:
            echo(f"{name}: recreated from the new image")
