"""`devbox status` and `devbox down`: what a project's session is doing, and ending it."""

import contextlib
import os
import signal
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from devbox import state
from devbox.compose_file import find_compose_file, load_compose
from devbox.container import LABEL_PROJECT
from devbox.engine import PROJECT_LABEL, Engine, compose_v1_version
from devbox.errors import DevboxError
from devbox.fallback import load_rules
from devbox.session import find_session

STOP_TIMEOUT = 30.0


def status(*, project_dir: Path, service: str | None = None) -> dict[str, Any]:
    """A JSON-ready report: mode and why, versions, containers, rules, the last batch."""
    session = find_session(project_dir=project_dir, service=service)
    record = session.record
    now = datetime.now(UTC)
    compose = session.engine.compose_version()
    v1 = compose_v1_version()
    try:
        rules: list[dict[str, Any]] | str = [
            {
                "action": rule.action.value,
                "path": os.path.relpath(rule.path, session.project.project_dir),
                "target": rule.target,
            }
            for rule in load_rules(session.project, session.service).rules
        ]
    except DevboxError as exc:
        rules = exc.message
    return {
        "project": str(session.project.project_dir),
        "service": session.service.name,
        "session": None
        if record is None
        else {
            "mode": record.mode,
            "reason": record.reason,
            "pid": record.pid,
            "alive": record.alive(),
            "detached": record.detached,
            "started": record.started,
            "last": None if record.last is None else vars(record.last),
        },
        "engine": session.engine.server_version(),
        "compose": None if compose is None else str(compose),
        "compose_v1": None if v1 is None else str(v1),
        "containers": [
            {
                "name": c.name,
                "service": c.service,
                "status": c.status,
                "ports": list(c.ports),
                "uptime_s": round((now - c.started_at).total_seconds())
                if c.running and c.started_at
                else None,
            }
            for c in session.containers()
        ],
        "rules": rules,
    }


def down(*, project_dir: Path, volumes: bool = False) -> list[str]:
    """Stop the session's devbox process, then remove what either mode left. What was done."""
    project = load_compose(find_compose_file(project_dir))
    done = []
    record = state.load(project.project_dir)
    if record is not None and record.alive():
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(record.pid, signal.SIGTERM)  # it removes its own containers as on Ctrl-C
            deadline = time.monotonic() + STOP_TIMEOUT
            while record.alive() and time.monotonic() < deadline:
                time.sleep(0.1)
            if record.alive():
                os.kill(record.pid, signal.SIGKILL)
        done.append(f"stopped devbox up (pid {record.pid})")
    if record is not None:
        done += _end_groups(record.live_children())
    engine = Engine.for_project(project)
    engine.server_version()
    for label in (f"{PROJECT_LABEL}={project.name}", f"{LABEL_PROJECT}={project.name}"):
        done += engine.remove_labelled(label, named_volumes=volumes)
    state.clear(project.project_dir)
    return done


def _end_groups(groups: list[int]) -> list[str]:
    """End process groups a killed devbox left behind (compose watch would keep its lock)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for group in groups:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(group, sig)
        deadline = time.monotonic() + 5
        while any(state.pid_alive(g) for g in groups) and time.monotonic() < deadline:
            time.sleep(0.1)
    return [f"ended {len(groups)} leftover process group(s)"] if groups else []


def describe(report: dict[str, Any]) -> list[str]:
    """The human-readable lines of a status report."""
    lines = [f"project: {report['project']} (service {report['service']})"]
    session = report["session"]
    if session is None:
        lines.append("session: none recorded (devbox up is not running here)")
    else:
        health = "running" if session["alive"] else "STALE: its devbox process is gone"
        where = "in the background" if session["detached"] else "in a terminal"
        lines.append(f"session: {session['mode']} mode, pid {session['pid']} {where}, {health}")
        lines.append(f"  why: {session['reason']}")
        last = session["last"]
        if last:
            ago = round(time.time() - last["at"])
            lines.append(f"  last: {last['what']} ({last['seconds'] * 1000:.0f} ms, {ago} s ago)")
    compose = report["compose"] or "none"
    lines.append(
        f"engine: {report['engine']}; compose: {compose}; compose v1: {report['compose_v1']}"
    )
    for c in report["containers"] or []:
        uptime = f", up {c['uptime_s']} s" if c["uptime_s"] is not None else ""
        lines.append(f"container: {c['name']} ({c['status']}{uptime}) {' '.join(c['ports'])}")
    if not report["containers"]:
        lines.append("containers: none")
    if isinstance(report["rules"], str):
        lines.append(f"rules: invalid: {report['rules']}")
    else:
        for rule in report["rules"]:
            target = f" -> {rule['target']}" if rule["target"] else ""
            lines.append(f"rule: {rule['action']} {rule['path']}{target}")
    return lines
