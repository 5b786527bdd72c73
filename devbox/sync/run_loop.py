"""The one run loop of compose mode and the fallback: the project started, every service
with watch rules developed (`sync.service`), one watcher, one clean-up.

As Compose watch does, each developed service keeps its own rules and container;
each batch of changes is planned per service. Where a Compose exists, its resolved
model gives every setting (see `engine.resolve`); without one, the file's own values
are used and the settings that cannot be applied are named at start.
"""

import time
from dataclasses import replace
from pathlib import Path

from devbox.engine import applied, labels
from devbox.engine.client import Engine
from devbox.engine.container import compose_override
from devbox.engine.debug import DebugSpec
from devbox.engine.modes import Mode
from devbox.engine.resolve import ResolvedProject
from devbox.engine.stack import Stack
from devbox.errors import BuildError, StartError
from devbox.output import Echo
from devbox.project.compose import ComposeProject, Service
from devbox.runtime.signals import interruptible
from devbox.runtime.state import Recorder, log_path
from devbox.sync.batcher import Batcher
from devbox.sync.bind_or_copy import SyncMode
from devbox.sync.composed import ComposeKeeper
from devbox.sync.service import HEALTH_INTERVAL, DevService
from devbox.sync.watcher import ProjectWatcher


def unapplied_settings(project: ComposeProject, developed: list[str], col: applied.Runner) -> str:
    """The start-up line naming the settings `col` leaves out (pure; empty if none).
    Without Compose, `${VAR}` is not substituted and the other services do not start."""
    services = project.data.get("services") or {}
    found = applied.unapplied(col, services, developed)
    if col is applied.Runner.BARE:
        found += [
            (f"services.{name}", applied.Cell(False, "no `${VAR}` substitution"))
            for name in developed
            if "${" in repr(services.get(name))
        ]
        others = [name for name in services if name not in developed]
        if others:
            found.append((f"services {', '.join(others)}", applied.Cell(False, "not started")))
    return applied.unapplied_line(col, found)


def _ordered(services: list[Service], resolved: ResolvedProject | None) -> list[Service]:
    """Developed services in dependency order (one that another needs starts first)."""
    if resolved is None:
        return services
    names = {s.name for s in services}
    done: list[Service] = []
    todo = list(services)
    while todo:
        for svc in todo:
            needs = set(resolved.services[svc.name].depends_on) & names
            if needs <= {d.name for d in done} or len(todo) == 1:
                done.append(svc)
                todo.remove(svc)
                break
        else:  # a cycle: Compose rejects it; keep the file's order
            done += todo
            todo = []
    return done


def run_project(
    *,
    engine: Engine,
    project: ComposeProject,
    services: list[Service],
    stack: Stack | None,
    compose_v2: bool,
    echo: Echo,
    recorder: Recorder,
    sync: SyncMode = SyncMode.BIND,
    batcher: Batcher | None = None,
    restart_on_exit: bool = False,
    mode: Mode = Mode.FALLBACK,
    named: str | None = None,
    debug: DebugSpec | None = None,
) -> None:
    """Start the project (compose mode: all of it, by Compose; the fallback: what the
    developed services need, then their own containers), keep each developed service in
    step with its rules until Ctrl-C; what this session started is always removed (named
    volumes and containers that were running before stay). `named` is the service the
    user asked for, if any."""
    developed = [s.name for s in services]
    resolved = stack.resolve() if stack is not None else None
    line = unapplied_settings(
        project, developed, applied.runner(mode, resolved=resolved is not None)
    )
    if line:
        echo(line)
    services = _ordered(services, resolved)
    developing = [
        DevService(
            engine=engine,
            project=project,
            service=svc,
            compose_v2=compose_v2,
            sync=sync,
            recorder=recorder,
            echo=echo,
            resolved=resolved.services.get(svc.name) if resolved else None,
            restart_on_exit=restart_on_exit,
            composed=mode is Mode.COMPOSE,
        )
        for svc in services
    ]
    if debug is not None:  # `up --debug`: the first developed service, under debugpy
        debugged = next(s for s in developing if s.service.name == developed[0])
        debugged.keeper.spec = replace(debugged.spec, debug=debug)
    composed = [d.keeper for d in developing if isinstance(d.keeper, ComposeKeeper)]
    if len(composed) > 1:
        for keeper in composed:
            keeper.output_prefix = f"{keeper.service.name} | "
    before = stack.existing() if stack is not None else set()
    override: Path | None = None
    if mode is Mode.COMPOSE:
        override, engine = _with_override(engine, project, developing)

    def cleanup() -> None:
        for dev in developing:
            dev.keeper.stop()
        if mode is Mode.COMPOSE:
            engine.compose_teardown(keep=before)
            if override is not None:
                override.unlink(missing_ok=True)
            return
        engine.remove_labelled(
            labels.label(labels.DEVBOX_PROJECT, project.name), named_volumes=False
        )
        if stack is not None:
            stack.teardown(keep=before)

    names = ", ".join(s.service.name for s in developing)
    stopping = (
        "removing the project's containers, networks and anonymous volumes"
        if mode is Mode.COMPOSE
        else f"removing {names}, the services started for them and anonymous volumes"
    )
    with interruptible(cleanup=cleanup, stopping=stopping, echo=echo):
        begun = time.time()  # sources saved from now on, before the watch is set up, count
        hidden = sorted({name for dev in developing for name in dev.masks.names})
        if mode is Mode.COMPOSE:
            _start_composed(engine, composed, named, echo)
        else:
            if stack is not None and resolved is not None:
                _start_needed(stack, resolved, developed, echo)
            for dev in developing:
                if not dev.keeper.build():
                    raise BuildError(
                        f"the dev image of {dev.service.name} did not build; fix the "
                        "Dockerfile or the dependencies (build output above), then `devbox up` "
                        "again"
                    )
            for dev in developing:
                dev.keeper.start()
        if hidden:
            echo(f"hidden in the container (the watch rules leave them out): {', '.join(hidden)}")
        for dev in developing:
            echo(f"container {dev.spec.name} running ({sync.value} sync)")
        recorder.ready(developing[0].spec.name)
        _watch(project, developing, batcher or Batcher(), echo, since=begun)


def _with_override(
    engine: Engine, project: ComposeProject, developing: list[DevService]
) -> tuple[Path | None, Engine]:
    """compose mode's additions (`compose_override`) in a file outside the tree (a file
    inside would be synced and watched), laid over the project's files for the session."""
    text = compose_override([s.spec for s in developing])
    if text is None:
        return None, engine
    path = log_path(project.project_dir).with_name("compose.devbox.yaml")
    path.write_text(text, encoding="utf-8")
    engine = engine.with_files(path)
    for dev in developing:
        dev.keeper.engine = engine
    return path, engine


def _start_composed(
    engine: Engine, keepers: list[ComposeKeeper], named: str | None, echo: Echo
) -> None:
    """Build the images that are missing or stale, then `compose up --detach` the project
    (or the service named and what it needs), and attach to each developed service."""
    built = set()
    for keeper in keepers:
        if keeper.needs_build():
            if not keeper.build():
                raise BuildError(
                    f"the image of {keeper.service.name} did not build; fix the Dockerfile or "
                    "the dependencies (build output above), then `devbox up` again"
                )
            built.add(keeper.service.name)
        keeper.prepare_mounts()
    if not engine.compose_start(*([named] if named else []), echo=echo):
        raise StartError("Compose did not start the project; its output is above")
    for keeper in keepers:  # an image built now holds the sources: no copy needed
        fresh = keeper.service.name in built
        keeper.attach(resync=not fresh, changed_since=keeper.image_time)


_RANK = {"service_started": 0, "service_healthy": 1, "service_completed_successfully": 2}


def _start_needed(
    stack: Stack, resolved: ResolvedProject, developed: list[str], echo: Echo
) -> None:
    """`up -d` of every service the developed ones need (transitively), their depends_on
    conditions met, and the networks and named volumes the dev containers join."""
    stack.up(resolved.dependencies(developed), echo=echo)
    # Two developed services may ask different things of one dependency: wait for the
    # strictest (healthy also means started).
    conditions: dict[str, str] = {}
    for name in developed:
        for dep, condition in resolved.services[name].depends_on.items():
            if dep in developed or dep not in resolved.services:
                continue
            if dep not in conditions or _RANK.get(condition, 0) > _RANK.get(conditions[dep], 0):
                conditions[dep] = condition
    stack.wait(conditions, echo=echo)
    networks = {n for name in developed for n in resolved.services[name].networks}
    volumes = {v for name in developed for v in resolved.services[name].named_volumes}
    stack.ensure(resolved, networks, volumes)


def _watch(
    project: ComposeProject,
    developing: list[DevService],
    batcher: Batcher,
    echo: Echo,
    *,
    since: float | None = None,
) -> None:
    """One watcher for the project; each batch planned and applied per service. Sources
    saved after `since`, while the containers started, are copied in once it watches."""

    def skip(directory: Path) -> bool:
        return all(s.rules.skips_everywhere(directory) for s in developing)

    several = len(developing) > 1
    while True:
        rules = [s.rules for s in developing]
        with ProjectWatcher(
            project.project_dir, skip=skip, batcher=batcher, on_warning=developing[0].warn
        ) as watcher:
            for dev in developing:
                if dev.stream is not None:
                    dev.stream.resend = watcher.resend
                if since is not None:
                    dev.catch_up(since)
            since = None
            how = " by polling" if watcher.polling else ""
            echo(f"watching {watcher.watched_folders} folders{how}; Ctrl-C stops and cleans up")
            for batch in watcher.batches(idle=HEALTH_INTERVAL):
                for dev in developing:
                    dev.keeper.check_exit()  # a container that exited is said, or restarted
                    if batch:
                        prefix = f"{dev.service.name}: " if several else ""
                        dev.handle(batch, prefix=prefix, first_event=batcher.taken_first)
                if any(s.rules is not r for s, r in zip(developing, rules, strict=True)):
                    break  # some rules changed: watch again with the new ones
