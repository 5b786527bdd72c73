"""What one batch of changed paths asks the container for: pure logic, unit-tested.

Mirrors Compose's order within a batch (rebuild, then sync, then restart, then
sync+exec) and applies every matching rule (Compose >= 2.33).
"""

import os
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from devbox.sync.rules import Action, ExecSpec, RuleSet, WatchRule, container_path


@dataclass(frozen=True)
class BindMount:
    """The project folder bind-mounted into the container: syncs under it are already done."""

    host: Path
    container: str

    def covers(self, rule: WatchRule, path: Path) -> bool:
        if not path.is_relative_to(self.host):
            return False
        expected = posixpath.normpath(
            posixpath.join(self.container, path.relative_to(self.host).as_posix())
        )
        return container_path(rule, path) == expected


@dataclass
class Plan:
    changed: list[Path] = field(default_factory=list)  # paths some rule took
    rebuild: bool = False
    copies: dict[str, tuple[WatchRule, Path]] = field(
        default_factory=dict
    )  # container path -> source
    deletes: set[str] = field(default_factory=set)  # container paths
    bind_synced: int = 0  # synced already through the bind mount
    restart: bool = False
    execs: list[ExecSpec] = field(default_factory=list)
    reload_rules: bool = False
    # Changed dependency files (pyproject.toml, uv.lock) of rebuild rules: `uv sync` in the
    # running container instead of a rebuild.
    dependencies: list[Path] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.changed or self.reload_rules)

    def actions(self) -> list[str]:
        """Short names of what the batch does, in the order it is done."""
        names = ["reload rules"] if self.reload_rules else []
        if self.rebuild:
            names.append("rebuild")
        if self.copies or self.deletes:
            names.append(f"copy {len(self.copies)}, delete {len(self.deletes)}")
        if self.bind_synced:
            names.append("sync (bind mount)")
        if self.restart:
            names.append("restart")
        names += [f"exec {' '.join(spec.command)}" for spec in self.execs]
        if self.dependencies and not self.rebuild:
            names.append("uv sync")
        return names


DEPENDENCY_FILES = ("pyproject.toml", "uv.lock")


def is_dependency_rule(rule: WatchRule, path: Path) -> bool:
    """A rebuild rule on the project's own pyproject.toml or uv.lock: new dependencies, which
    `uv sync` installs in the running container in seconds; a rebuild is the fallback."""
    return rule.path.name in DEPENDENCY_FILES and rule.path == path


def plan_batch(
    paths: Iterable[Path], rules: RuleSet, *, bind: BindMount | None, compose_file: Path
) -> Plan:
    plan = Plan()
    for path in sorted(paths):
        if path == compose_file:
            plan.reload_rules = True
        matched = rules.matching(path)
        if matched:
            plan.changed.append(path)
        for rule in matched:
            if rule.action is Action.REBUILD:
                if is_dependency_rule(rule, path):
                    if path not in plan.dependencies:
                        plan.dependencies.append(path)
                else:
                    plan.rebuild = True
                continue
            if rule.action.syncs:
                if bind is not None and bind.covers(rule, path):
                    plan.bind_synced += 1
                elif os.path.lexists(path):
                    plan.copies[container_path(rule, path)] = (rule, path)
                else:
                    plan.deletes.add(container_path(rule, path))
            if rule.action in (Action.RESTART, Action.SYNC_RESTART):
                plan.restart = True
            if rule.action is Action.SYNC_EXEC and rule.exec and rule.exec not in plan.execs:
                plan.execs.append(rule.exec)
    return plan


MTIME_SLACK = 2.0  # seconds: a file saved around `changed_since` counts as changed


def current_copies(
    rules: RuleSet, *, changed_since: float | None = None
) -> dict[str, tuple[WatchRule, Path]]:
    """Every file the sync rules cover now, at its container path: what a container
    recreated from the last image needs copied in again (copy mode); with
    `changed_since` (wall clock), only the files modified since then."""
    copies: dict[str, tuple[WatchRule, Path]] = {}
    for rule in rules.rules:
        if not rule.action.syncs:
            continue
        for folder, dirs, files in os.walk(rule.path):
            here = Path(folder)
            dirs[:] = [d for d in dirs if not rules.skips_dir(rule, here / d)]
            for name in files:
                path = here / name
                if rules.triggers(rule, path) and (
                    changed_since is None or path.stat().st_mtime > changed_since - MTIME_SLACK
                ):
                    copies[container_path(rule, path)] = (rule, path)
    return copies
