"""bench/report.py's pure helpers: percentiles, ratios to Compose, the goals, the tables."""

import pytest

from bench.report import (
    CLI_COMPOSE_EXEC,
    CLI_HELP,
    CLI_SHELL,
    GOALS,
    Goal,
    Results,
    add_ratios,
    evaluate,
    longest_lag,
    longest_outage,
    markdown,
    percentile,
    summary,
    table,
)


def test_percentile_is_nearest_rank() -> None:
    values = [float(i) for i in range(1, 101)]
    assert percentile(values, 0.95) == 95.0
    assert percentile(values, 0.5) == 50.0
    assert percentile([3.0, 1.0, 2.0], 0.95) == 3.0
    assert percentile([7.0], 0.0) == 7.0
    with pytest.raises(ValueError):
        percentile([], 0.5)


def test_summary_of_nothing_is_none_not_zero() -> None:
    assert summary([]) == {"p50_ms": None, "p95_ms": None, "max_ms": None, "n": 0}
    assert summary([10.0, 30.0, 20.0]) == {"p50_ms": 20.0, "p95_ms": 30.0, "max_ms": 30.0, "n": 3}


def test_lag_runs_until_a_later_version_is_shown() -> None:
    writes = [0.0, 0.1, 0.2]
    # version 0 shown at 0.05, version 2 (skipping 1) at 0.5; nothing after that
    assert longest_lag(writes, [(0, 0.05), (2, 0.5)], end=9.0) == pytest.approx([50, 400, 300])
    assert longest_lag([0.0], [], end=1.0) == [1000.0]


def test_longest_outage_from_first_failure_to_next_success() -> None:
    samples = [(0.0, True), (1.0, False), (1.5, False), (2.0, True), (3.0, False), (3.2, True)]
    assert longest_outage(samples) == 1.0
    assert longest_outage([(0.0, True), (1.0, False), (4.0, False)]) == 3.0
    assert longest_outage([]) == 0.0


def test_ratios_divide_by_compose_and_skip_counts_and_missing_figures() -> None:
    results: Results = {
        "burst": {
            "compose": {"seconds": 4.0, "batches": None, "missed_or_stale": 0},
            "copy": {"seconds": 1.0, "batches": 2, "missed_or_stale": 0},
            "devbox_watch": {"seconds": None, "batches": None},
        },
        "edit_latency": {"copy": {"p50_ms": 10.0}},
        "watcher": {"compose": {"rss_mb": 90.0}, "devbox_20000_files": {"rss_mb": 30.0}},
    }
    add_ratios(results)
    assert "ratio_to_compose" not in results["watcher"]["devbox_20000_files"]
    assert results["burst"]["copy"]["ratio_to_compose"] == {"seconds": 0.25}
    assert results["burst"]["devbox_watch"]["ratio_to_compose"] == {}
    assert "ratio_to_compose" not in results["burst"]["compose"]
    assert results["edit_latency"]["copy"]["ratio_to_compose"] is None  # no Compose row


def test_cli_rows_compare_with_compose_exec_only_where_it_means_something() -> None:
    results: Results = {
        "cli": {
            CLI_SHELL: {"median_ms": 150.0, "runs": 10},
            CLI_COMPOSE_EXEC: {"median_ms": 300.0, "runs": 10},
            CLI_HELP: {"median_ms": 90.0, "runs": 10},
        }
    }
    add_ratios(results)
    assert results["cli"][CLI_SHELL]["ratio_to_compose"] == {"median_ms": 0.5}
    assert "ratio_to_compose" not in results["cli"][CLI_HELP]


def _verdicts(results: Results) -> dict[str, str]:
    add_ratios(results)
    return {row["goal"]: row["verdict"] for row in evaluate(GOALS, results)}


def test_goals_are_computed_from_the_figures() -> None:
    results: Results = {
        "edit_latency": {
            "compose": {"p50_ms": 600.0, "p95_ms": 620.0},
            "copy": {"p50_ms": 25.0, "p95_ms": 61.0},
        },
        "burst": {
            "compose": {"seconds": 1.0, "missed_or_stale": 0},
            "copy": {"files": 2000, "seconds": 0.3, "missed_or_stale": 0, "batches": 4},
        },
        "watcher": {"copy": {"idle_cpu_pct": 0.5}},
    }
    verdicts = _verdicts(results)
    assert verdicts["copy sync save→visible p50 ≤ 30 ms"] == "met"
    assert verdicts["copy sync save→visible p95 ≤ 60 ms"] == "not met"
    assert verdicts["copy sync save→visible p50 ≤ 0.05 x Compose watch"] == "met"  # 0.042
    assert verdicts["2,000-file burst, copy ≤ 0.35 x Compose watch"] == "met"
    assert verdicts["2,000-file burst, copy: nothing missed or stale"] == "met"
    assert verdicts["2,000-file burst, copy: at most 3 batches"] == "not met"
    assert verdicts["watcher idle CPU < 0.5 % of one core (copy)"] == "not met"  # strict
    assert verdicts["bind save→visible p95 ≤ 5 ms"] == "not measured"


def test_the_outage_goal_is_measured_against_the_apps_own_reload() -> None:
    goal = next(g for g in GOALS if g.figure == "app_down_s")
    within: Results = {"dependency_change": {"copy": {"app_down_s": 0.5, "reload_down_s": 0.45}}}
    beyond: Results = {"dependency_change": {"copy": {"app_down_s": 0.7, "reload_down_s": 0.45}}}
    assert evaluate((goal,), within)[0]["verdict"] == "met"
    assert evaluate((goal,), beyond)[0]["verdict"] == "not met"
    assert evaluate((goal,), {})[0]["verdict"] == "not measured"
    no_reload: Results = {"dependency_change": {"copy": {"app_down_s": 0.0}}}
    assert evaluate((goal,), no_reload)[0]["verdict"] == "not measured"


def test_burst_goals_need_the_full_2000_files() -> None:
    quick: Results = {"burst": {"copy": {"files": 500, "missed_or_stale": 0, "batches": 1}}}
    verdicts = _verdicts(quick)
    assert verdicts["2,000-file burst, copy: at most 3 batches"] == "not measured"
    assert verdicts["2,000-file burst, copy: nothing missed or stale"] == "not measured"


def test_a_goal_on_a_failed_scenario_is_not_measured() -> None:
    goal = Goal(13, "x", "burst", "copy", "seconds", 1.0)
    assert evaluate((goal,), {"burst": {"copy": {"error": "timed out"}}})[0]["verdict"] == (
        "not measured"
    )


def test_table_has_a_row_per_variant_and_a_ratio_column() -> None:
    rows: Results = {
        "burst": {
            "compose": {"seconds": 4.0, "batches": None},
            "copy": {"seconds": 1.0, "batches": 2},
        }
    }
    add_ratios(rows)
    assert table("burst", rows["burst"]) == [
        "|  | seconds | batches | ratio to Compose |",
        "| --- | --- | --- | --- |",
        "| **Compose watch 2.40.3** | 4 | n/a | 1 (baseline) |",
        "| **devbox fallback copy** | 1 | 2 | seconds 0.25 |",
    ]


def test_markdown_states_the_run_and_the_goals() -> None:
    meta = {
        "date": "2026-11-25 14:00 UTC",
        "kind": "full",
        "wall": "600 s",
        "machine": "Linux, 2 CPUs",
        "load": "0.5, 0.4, 0.3 (1, 5, 15 min)",
        "command": "uv run python bench/run.py",
    }
    goals = [{"issue": 13, "goal": "g", "measured": "1 (p50_ms)", "limit": 2, "verdict": "met"}]
    text = markdown({"burst": {"copy": {"seconds": 1.0}}, "cli": {}}, meta, goals)
    assert "- Load average at start: 0.5, 0.4, 0.3 (1, 5, 15 min)" in text
    assert "- Reproduce: `uv run python bench/run.py`" in text
    assert "## burst" in text and "## cli" not in text
    assert "| #13 | g | 1 (p50_ms) | met |" in text
    assert "1 of 1 goals met in this run." in text
