"""`devbox status`: what a project's session is doing, as a typed report."""

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from devbox.commands.target import find_target
from devbox.engine.client import compose_v1_version
from devbox.errors import DevboxError
from devbox.project.editor import DEVCONTAINER_DIR, DEVCONTAINER_JSON, LAUNCH_JSON, EditorFacts
from devbox.project.editor import editor_facts as _editor_facts
from devbox.runtime.state import Last, percentile
from devbox.sync.rules import load_rules


@dataclass(frozen=True)
class SessionInfo:
    mode: str
    reason: str
    pid: int
    alive: bool
    detached: bool
    started: float
    last: Last | None
    # Save->applied of the session's recent batches (first change seen -> in the container).
    syncs: int = 0
    sync_p50_ms: float | None = None
    sync_p95_ms: float | None = None
    batches: int = 0  # every batch applied in the session
    brought_back: int = 0  # files the container wrote that came back to the host
    log: str | None = None  # a detached session's output


@dataclass(frozen=True)
class ContainerStatus:
    name: str
    service: str | None
    status: str
    ports: list[str]
    uptime_s: int | None


@dataclass(frozen=True)
class RuleInfo:
    action: str
    path: str  # relative to the project folder
    target: str | None


@dataclass(frozen=True)
class StatusReport:
    project: str
    service: str
    session: SessionInfo | None
    engine: str
    compose: str | None
    compose_v1: str | None
    containers: list[ContainerStatus]
    rules: list[RuleInfo] | str  # the rules, or why they are invalid
    engine_info: dict[str, object] | None = None  # kind, address, sees the project folder
    # What an editor needs (PyCharm's Compose interpreter, VS Code's files), as devbox chose it.
    editor: EditorFacts | None = None
    devcontainer: str | None = None  # .devcontainer/devcontainer.json, when there is one
    launch: str | None = None  # .vscode/launch.json, when there is one

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def status(
    *, project_dir: Path, service: str | None = None, warn: Callable[[str], None] | None = None
) -> StatusReport:
    """Mode and why, versions, containers, watch rules and the last batch of the session."""
    target = find_target(project_dir=project_dir, service=service, warn=warn)
    record = target.record
    now = datetime.now(UTC)
    compose = target.engine.compose_version()
    # v1 serves only where no Compose v2 is (as in `up`); asking it costs most of a second.
    v1 = None if compose else compose_v1_version()
    rules: list[RuleInfo] | str
    try:
        rules = [
            RuleInfo(
                action=rule.action.value,
                path=os.path.relpath(rule.path, target.project.project_dir),
                target=rule.target,
            )
            for rule in load_rules(target.project, target.service).rules
        ]
    except DevboxError as exc:
        rules = exc.message
    return StatusReport(
        project=str(target.project.project_dir),
        service=target.service.name,
        session=None
        if record is None
        else SessionInfo(
            mode=record.mode,
            reason=record.reason,
            pid=record.pid,
            alive=record.alive(),
            detached=record.detached,
            started=record.started,
            log=record.log,
            last=record.last,
            syncs=len(record.latencies),
            sync_p50_ms=_ms(record.latencies, 0.5),
            sync_p95_ms=_ms(record.latencies, 0.95),
            batches=record.batches,
            brought_back=record.brought_back,
        ),
        engine=target.version,
        compose=None if compose is None else str(compose),
        compose_v1=None if v1 is None else str(v1),
        containers=[
            ContainerStatus(
                name=c.name,
                service=c.service,
                status=c.status,
                ports=list(c.ports),
                uptime_s=round((now - c.started_at).total_seconds())
                if c.running and c.started_at
                else None,
            )
            for c in target.containers()
        ],
        rules=rules,
        engine_info=target.engine.info(ask=False).to_dict(),
        editor=_editor_facts(target.project.project_dir, target.service.name, target.project.files),
        devcontainer=_exists(
            target.project.project_dir, Path(DEVCONTAINER_DIR) / DEVCONTAINER_JSON
        ),
        launch=_exists(target.project.project_dir, LAUNCH_JSON),
    )


def _exists(folder: Path, path: Path) -> str | None:
    return str(path) if (folder / path).is_file() else None


def _ms(values: list[float], share: float) -> float | None:
    return round(percentile(values, share) * 1000, 1) if values else None


def describe(report: StatusReport) -> list[str]:
    """The human-readable lines of a status report."""
    lines = [f"project: {report.project} (service {report.service})"]
    session = report.session
    if session is None:
        lines.append("session: none recorded (devbox up is not running here)")
    else:
        health = "running" if session.alive else "STALE: its devbox process is gone"
        where = "in the background" if session.detached else "in a terminal"
        lines.append(f"session: {session.mode} mode, pid {session.pid} {where}, {health}")
        lines.append(f"  why: {session.reason}")
        if session.log:
            lines.append(f"  output: {session.log}")
        last = session.last
        if last:
            ago = round(time.time() - last.at)
            lines.append(f"  last: {last.what} ({last.seconds * 1000:.0f} ms, {ago} s ago)")
        if session.syncs:
            lines.append(
                f"  save->applied: p50 {session.sync_p50_ms:.0f} ms, "
                f"p95 {session.sync_p95_ms:.0f} ms over the last {session.syncs} batches"
                + (f" ({session.batches} this session)" if session.batches > session.syncs else "")
            )
        if session.brought_back:
            lines.append(f"  brought back from the container: {session.brought_back} file(s)")
    if report.engine_info is not None:
        info = report.engine_info
        sees = {True: "sees the project folder", False: "cannot see the project folder (copy)"}
        seen = sees.get(info["sees_project"], "not asked yet")  # type: ignore[call-overload]
        lines.append(f"engine: {info['kind']} at {info['location']} ({info['why']}); {seen}")
    compose = report.compose or "none"
    v1 = f"; compose v1: {report.compose_v1}" if report.compose is None else ""
    lines.append(f"engine: {report.engine}; compose: {compose}{v1}")
    for c in report.containers:
        uptime = f", up {c.uptime_s} s" if c.uptime_s is not None else ""
        lines.append(f"container: {c.name} ({c.status}{uptime}) {' '.join(c.ports)}")
    if not report.containers:
        lines.append("containers: none")
    if isinstance(report.rules, str):
        lines.append(f"rules: invalid: {report.rules}")
    else:
        for rule in report.rules:
            target = f" -> {rule.target}" if rule.target else ""
            lines.append(f"rule: {rule.action} {rule.path}{target}")
    return lines + describe_editor(report)


def describe_editor(report: StatusReport) -> list[str]:
    """PyCharm's Compose interpreter (the values its dialog asks for), VS Code's files."""
    facts = report.editor
    if facts is None:
        return []
    lines = [
        f"interpreter: {facts.interpreter} in service {facts.service} "
        f"(compose files: {', '.join(facts.pycharm_files())}; project -> {facts.workspace})"
    ]
    lines += [f"  PyCharm {n}. {step}" for n, step in enumerate(facts.pycharm_steps(), 1)]
    vscode = report.devcontainer or "none (`devbox init --devcontainer` writes it)"
    lines.append(f"VS Code: Reopen in Container: {vscode}")
    attach = f"{report.launch} (after `devbox up --debug`)" if report.launch else "none"
    lines.append(f"debugger: debugpy on 127.0.0.1:{facts.debug_port}; attach: {attach}")
    return lines
