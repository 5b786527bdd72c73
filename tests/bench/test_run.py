"""bench/run.py's pure helpers: Compose's own dependency rules, which variant runs what."""

from bench.run import Sizes, compose_users_rules, scenarios_of

DEVBOX_RULES = """\
services:
  app:
    develop:
      watch:
        - action: sync
          path: .
          target: /app
        - action: sync+exec
          path: ./uv.lock
          target: /app/uv.lock
          exec:
            command: ["uv", "sync", "--locked"]
            user: root
        - action: rebuild
          path: ./Dockerfile
"""


def test_compose_baseline_rebuilds_on_a_lock_change() -> None:
    assert compose_users_rules(DEVBOX_RULES) == (
        "services:\n"
        "  app:\n"
        "    develop:\n"
        "      watch:\n"
        "        - action: sync\n"
        "          path: .\n"
        "          target: /app\n"
        "        - action: rebuild\n"
        "          path: ./uv.lock\n"
        "        - action: rebuild\n"
        "          path: ./Dockerfile\n"
    )


def test_the_remote_engine_runs_edit_latency_and_the_burst_outside_quick_runs() -> None:
    every = ["watcher", "edit_latency", "continuous", "dependency_change", "burst", "cli"]
    assert scenarios_of("copy_remote", every, Sizes.of(quick=True)) == ["edit_latency"]
    assert scenarios_of("copy_remote", every, Sizes.of(quick=False)) == ["edit_latency", "burst"]
    assert scenarios_of("devbox_watch", every, Sizes.of(quick=True))[-1] == "cli"
    assert "cli" not in scenarios_of("copy", every, Sizes.of(quick=True))
    assert scenarios_of("copy", ["images"], Sizes.of(quick=True)) == []
