"""The benchmark's pure half: percentiles, ratios to Compose watch, the goals, the markdown.

Nothing here touches an engine or a clock, so tests/bench/ checks it without Docker.
Results are one dict: scenario -> variant (or row) -> figures.
"""

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Figures = dict[str, Any]
Results = dict[str, dict[str, Figures]]

COMPOSE = "compose"
VARIANTS = {
    "compose": "Compose watch 2.40.3",
    "bind": "devbox fallback bind",
    "copy": "devbox fallback copy",
    "copy_remote": "devbox fallback copy (remote engine)",
    "devbox_watch": "devbox on the watch path",
    "up_bind": "plain devbox up (compose mode, bind)",
    "up_copy": "plain devbox up (compose mode, copy)",
}
SCENARIOS = {
    "edit_latency": "Edit latency: an atomic save on the host until the container's probe reads it",
    "burst": "Burst: files created, then all rewritten (2,000; --quick: 500), until all are right",
    "continuous": "Continuous writes: one file rewritten every 100 ms; how far the container lags",
    "dependency_change": (
        "Dependency change: `six` added to pyproject.toml and uv.lock until "
        "`python -c 'import six'` succeeds in the running container"
    ),
    "writeback": (
        "Write-back: a file written in the container until it is on the host (copy sync); "
        "echoes: files sent back into the container after"
    ),
    "cli": "CLI: medians of interleaved runs against one session (devbox on the watch path)",
    "watcher": "Watcher cost: start-up, CPU while idle and during the burst, resident memory",
    "images": "Images of the sample project",
}
# The rows of the CLI scenario; shell and `docker exec` are compared with Compose's exec.
CLI_SHELL = "devbox shell -- true"
CLI_COMPOSE_EXEC = "docker compose exec -T svc true"
CLI_DOCKER_EXEC = "docker exec <ctr> true"
CLI_HELP = "devbox --help"
CLI_STATUS = "devbox status"
CLI_COMPARED = (CLI_SHELL, CLI_DOCKER_EXEC)
# Counts and flags are not figures to divide.
NOT_RATIOS = frozenset(
    {
        "n",
        "superseded",
        "files",
        "folders",
        "files_seen",
        "missed_or_stale",
        "batches",
        "runs",
        "failed",
        "writes",
        "echoes",
    }
)
# The figures the markdown's ratio column shows, per scenario (JSON carries all of them).
RATIO_SHOWN = {
    "edit_latency": ("p50_ms", "p95_ms"),
    "burst": ("seconds",),
    "continuous": ("max_lag_ms",),
    "dependency_change": ("seconds",),
    "cli": ("median_ms",),
    "watcher": ("up_s", "rss_mb"),
}


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (`share` in 0..1) of a non-empty list."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def summary(ms: list[float]) -> Figures:
    """p50 / p95 / max of a list of milliseconds (None each when nothing was measured)."""
    if not ms:
        return {"p50_ms": None, "p95_ms": None, "max_ms": None, "n": 0}
    return {
        "p50_ms": round(statistics.median(ms), 1),
        "p95_ms": round(percentile(ms, 0.95), 1),
        "max_ms": round(max(ms), 1),
        "n": len(ms),
    }


def longest_lag(writes: list[float], seen: list[tuple[int, float]], end: float) -> list[float]:
    """Per write i (host time), ms until the container showed version i or later.

    `seen` is (version, container time) as the probe saw them; a write never shown
    lags until `end`.
    """
    lags = []
    for i, wrote in enumerate(writes):
        shown = [at for n, at in seen if n >= i and at >= wrote]
        lags.append(((min(shown) if shown else end) - wrote) * 1000)
    return lags


def longest_outage(samples: list[tuple[float, bool]]) -> float:
    """Seconds of the longest run of failed probes (from its first failure to the next success)."""
    longest, down_since = 0.0, None
    for at, ok in samples:
        if not ok and down_since is None:
            down_since = at
        elif ok and down_since is not None:
            longest = max(longest, at - down_since)
            down_since = None
    if down_since is not None and samples:
        longest = max(longest, samples[-1][0] - down_since)
    return round(longest, 2)


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def ratio(value: object, base: object) -> float | None:
    if isinstance(value, bool) or isinstance(base, bool):
        return None
    if isinstance(value, int | float) and isinstance(base, int | float) and base > 0:
        return round(value / base, 3)
    return None


def baseline(scenario: str) -> str:
    """The row every other row of a scenario is divided by."""
    return CLI_COMPOSE_EXEC if scenario == "cli" else COMPOSE


def add_ratios(results: Results) -> None:
    """Each row's `ratio_to_compose`: its figures divided by the baseline row's.

    None (shown "n/a") where there is no baseline figure to divide by; the CLI scenario
    compares the exec rows with `docker compose exec -T` only.
    """
    for scenario, rows in results.items():
        base = rows.get(baseline(scenario))
        for key, figures in rows.items():
            if key == baseline(scenario) or not isinstance(figures, dict):
                continue
            if key not in (CLI_COMPARED if scenario == "cli" else VARIANTS):
                continue  # e.g. --help, or the 20,000-file watcher: nothing to compare
            if not isinstance(base, dict):
                figures["ratio_to_compose"] = None
                continue
            figures["ratio_to_compose"] = {
                k: ratio(v, base.get(k))
                for k, v in figures.items()
                if k not in NOT_RATIOS and k != "ratio_to_compose" and is_number(v)
            }


@dataclass(frozen=True)
class Goal:
    """One goal of an issue: a figure of the results against a limit."""

    issue: int
    text: str
    scenario: str
    row: str
    figure: str
    limit: float
    relative: bool = False  # the limit applies to ratio_to_compose[figure]
    strict: bool = False  # `<` rather than `<=`
    # the limit read from another figure of the same row instead of `limit` (plus it)
    limit_from: Callable[[Figures], float | None] | None = None
    # a figure the row must have for the goal to apply (the burst's 2,000 files, not --quick's)
    only_if: tuple[str, object] | None = None


def _reload_outage(figures: Figures) -> float | None:
    """The app's own reload after a source edit (same variant), plus one probe interval."""
    reload = figures.get("reload_down_s")
    if isinstance(reload, bool) or not isinstance(reload, int | float):
        return None
    return round(reload + 0.1, 2)


GOALS = (
    Goal(13, "copy sync save→visible p50 ≤ 30 ms", "edit_latency", "copy", "p50_ms", 30),
    Goal(13, "copy sync save→visible p95 ≤ 60 ms", "edit_latency", "copy", "p95_ms", 60),
    Goal(
        13,
        "copy sync save→visible p50 ≤ 0.05 x Compose watch",
        "edit_latency",
        "copy",
        "p50_ms",
        0.05,
        relative=True,
    ),
    Goal(13, "bind save→visible p95 ≤ 5 ms", "edit_latency", "bind", "p95_ms", 5),
    Goal(
        13, "continuous writes, copy: longest lag ≤ 250 ms", "continuous", "copy", "max_lag_ms", 250
    ),
    Goal(
        13,
        "2,000-file burst, copy ≤ 0.35 x Compose watch",
        "burst",
        "copy",
        "seconds",
        0.35,
        relative=True,
        only_if=("files", 2000),
    ),
    Goal(
        13,
        "2,000-file burst, copy: nothing missed or stale",
        "burst",
        "copy",
        "missed_or_stale",
        0,
        only_if=("files", 2000),
    ),
    Goal(
        13,
        "2,000-file burst, copy: at most 3 batches",
        "burst",
        "copy",
        "batches",
        3,
        only_if=("files", 2000),
    ),
    Goal(
        13,
        "`devbox shell -- true` ≤ 1.0 x `docker compose exec -T`",
        "cli",
        CLI_SHELL,
        "median_ms",
        1.0,
        relative=True,
    ),
    Goal(13, "`devbox --help` ≤ 150 ms", "cli", CLI_HELP, "median_ms", 150),
    Goal(
        13,
        "watcher idle CPU < 0.5 % of one core (copy)",
        "watcher",
        "copy",
        "idle_cpu_pct",
        0.5,
        strict=True,
    ),
    Goal(
        13,
        "20,000-file project: resident memory ≤ 120 MB",
        "watcher",
        "devbox_20000_files",
        "rss_mb",
        120,
    ),
    Goal(
        13,
        "20,000-file project: watching starts in ≤ 1 s",
        "watcher",
        "devbox_20000_files",
        "start_s",
        1,
    ),
    Goal(
        14,
        "dependency importable ≤ 0.2 x Compose watch's rebuild (fallback, copy)",
        "dependency_change",
        "copy",
        "seconds",
        0.2,
        relative=True,
    ),
    Goal(
        14,
        "dependency importable ≤ 0.2 x Compose watch's rebuild (fallback, bind)",
        "dependency_change",
        "bind",
        "seconds",
        0.2,
        relative=True,
    ),
    Goal(
        14,
        "dependency importable ≤ 0.2 x Compose watch's rebuild (watch path, sync+exec)",
        "dependency_change",
        "devbox_watch",
        "seconds",
        0.2,
        relative=True,
    ),
    Goal(21, "plain up, copy: save→visible p50 ≤ 10 ms", "edit_latency", "up_copy", "p50_ms", 10),
    Goal(21, "plain up, copy: save→visible p95 ≤ 20 ms", "edit_latency", "up_copy", "p95_ms", 20),
    Goal(
        21,
        "plain up, copy: save→visible p95 ≤ 0.02 x Compose watch",
        "edit_latency",
        "up_copy",
        "p95_ms",
        0.02,
        relative=True,
    ),
    Goal(21, "plain up, bind: save→visible p95 ≤ 5 ms", "edit_latency", "up_bind", "p95_ms", 5),
    Goal(
        21,
        "plain up, copy: continuous writes lag ≤ 50 ms",
        "continuous",
        "up_copy",
        "max_lag_ms",
        50,
    ),
    Goal(
        21,
        "plain up, bind: continuous writes lag ≤ 10 ms",
        "continuous",
        "up_bind",
        "max_lag_ms",
        10,
    ),
    *(
        goal
        for row, share in (("up_copy", 0.5), ("up_bind", 0.2))
        for goal in (
            Goal(
                21,
                f"plain up, {row[3:]}: 2,000-file burst ≤ {share} x Compose watch",
                "burst",
                row,
                "seconds",
                share,
                relative=True,
                only_if=("files", 2000),
            ),
            Goal(
                21,
                f"plain up, {row[3:]}: 2,000-file burst, nothing missed or stale",
                "burst",
                row,
                "missed_or_stale",
                0,
                only_if=("files", 2000),
            ),
            Goal(
                21,
                f"plain up, {row[3:]}: up until the app answers ≤ 1.0 x Compose watch",
                "watcher",
                row,
                "up_s",
                1.0,
                relative=True,
            ),
            Goal(
                21,
                f"plain up, {row[3:]}: resident memory ≤ 1.0 x Compose watch",
                "watcher",
                row,
                "rss_mb",
                1.0,
                relative=True,
            ),
            Goal(
                21,
                f"plain up, {row[3:]}: dependency importable ≤ 0.1 x Compose watch's rebuild",
                "dependency_change",
                row,
                "seconds",
                0.1,
                relative=True,
            ),
        )
    ),
    *(
        goal
        for row in ("copy", "up_copy", "copy_remote")
        for goal in (
            Goal(
                24,
                f"{row}: container write on the host p95 ≤ 100 ms",
                "writeback",
                row,
                "p95_ms",
                100,
            ),
            Goal(24, f"{row}: no echo", "writeback", row, "echoes", 0),
        )
    ),
    *(
        Goal(
            14,
            f"no request fails for longer than the app's own reload (+0.1 s), {where}",
            "dependency_change",
            row,
            "app_down_s",
            0,
            limit_from=_reload_outage,
        )
        for row, where in (("copy", "copy"), ("bind", "bind"), ("devbox_watch", "watch path"))
    ),
)


def evaluate(goals: tuple[Goal, ...], results: Results) -> list[Figures]:
    """Each goal with its measured figure and met / not met / not measured."""
    rows = []
    for goal in goals:
        figures = results.get(goal.scenario, {}).get(goal.row)
        value: object = None
        if isinstance(figures, dict):
            if goal.relative:
                ratios = figures.get("ratio_to_compose")
                value = ratios.get(goal.figure) if isinstance(ratios, dict) else None
            else:
                value = figures.get(goal.figure)
        limit: float | None = goal.limit
        if goal.limit_from is not None:
            found = goal.limit_from(figures) if isinstance(figures, dict) else None
            limit = None if found is None else found + goal.limit
        applies = goal.only_if is None or (
            isinstance(figures, dict) and figures.get(goal.only_if[0]) == goal.only_if[1]
        )
        if not is_number(value) or limit is None or not applies:
            verdict = "not measured"
        elif goal.strict:
            verdict = "met" if value < limit else "not met"  # type: ignore[operator]
        else:
            verdict = "met" if value <= limit else "not met"  # type: ignore[operator]
        shown = f"{value} ({'x Compose' if goal.relative else goal.figure})"
        rows.append(
            {
                "issue": goal.issue,
                "goal": goal.text,
                "measured": shown if is_number(value) else "n/a",
                "limit": limit,
                "verdict": verdict,
            }
        )
    return rows


def cell(value: object) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def table(scenario: str, rows: dict[str, Figures]) -> list[str]:
    """One markdown table: a row per variant, a column per figure, then the ratio column."""
    columns: list[str] = []
    for figures in rows.values():
        for k in figures:
            if k != "ratio_to_compose" and k not in columns:
                columns.append(k)
    shown = RATIO_SHOWN.get(scenario, ())
    with_ratio = bool(shown) and any("ratio_to_compose" in f for f in rows.values())
    head = ["", *columns, *(["ratio to Compose"] if with_ratio else [])]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for key, figures in rows.items():
        cells = [f"**{VARIANTS.get(key, key)}**", *(cell(figures.get(c)) for c in columns)]
        if with_ratio:
            ratios = figures.get("ratio_to_compose")
            if key == baseline(scenario):
                cells.append("1 (baseline)")
            elif isinstance(ratios, dict):
                parts = [f"{k} {cell(ratios.get(k))}" for k in shown if k in ratios]
                cells.append(", ".join(parts) or "n/a")
            else:
                cells.append("n/a" if "ratio_to_compose" in figures else "")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def markdown(results: Results, meta: dict[str, str], goals: list[Figures]) -> str:
    """docs/benchmarks.md: how it was run, a table per scenario, then the goals."""
    lines = [
        "# Benchmarks: devbox beside Compose watch",
        "",
        f"- Run: {meta['date']} ({meta['kind']} run, {meta['wall']} wall time)",
        f"- Machine: {meta['machine']}",
        f"- Load average at start: {meta['load']}",
        f"- Reproduce: `{meta['command']}`",
        "",
        "Figures are measured in one run on one machine; ratios divide by Compose watch's "
        "figure in the same run (lower is better). n/a: not measured, or not devbox's to "
        "report (on the watch path Compose does the syncing, so devbox counts no batches).",
        "",
    ]
    for scenario, rows in results.items():
        if not rows:
            continue
        lines += [f"## {scenario}", "", SCENARIOS.get(scenario, scenario) + ".", ""]
        lines += [*table(scenario, rows), ""]
    lines += ["## Goals", "", "| issue | goal | measured | verdict |", "| --- | --- | --- | --- |"]
    for row in goals:
        lines.append(f"| #{row['issue']} | {row['goal']} | {row['measured']} | {row['verdict']} |")
    met = sum(1 for row in goals if row["verdict"] == "met")
    lines += ["", f"{met} of {len(goals)} goals met in this run.", ""]
    return "\n".join(lines)
