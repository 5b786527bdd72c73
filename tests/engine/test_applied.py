from devbox.engine.applied import SETTINGS, Runner, runner, unapplied
from devbox.engine.modes import Mode


def test_runner_of_each_mode() -> None:
    assert runner(Mode.WATCH, resolved=True) is Runner.WATCH
    assert runner(Mode.COMPOSE, resolved=True) is Runner.COMPOSE
    assert runner(Mode.FALLBACK, resolved=True) is Runner.FALLBACK
    assert runner(Mode.FALLBACK, resolved=False) is Runner.BARE


def test_compose_watch_applies_everything_and_every_row_has_every_column() -> None:
    assert all(s.cells[Runner.WATCH].applied for s in SETTINGS)
    assert all(set(s.cells) == set(Runner) for s in SETTINGS)
    assert SETTINGS[-1].path == "*"


def test_a_setting_the_table_does_not_name_is_left_out_by_the_fallback_only() -> None:
    services = {"web": {"build": ".", "cap_add": ["NET_ADMIN"], "x-note": 1}}
    assert unapplied(Runner.COMPOSE, services, ["web"]) == []
    [(path, cell)] = unapplied(Runner.FALLBACK, services, ["web"])
    assert (path, cell.applied) == ("services.web.cap_add", False)


def test_values_that_make_no_difference_are_not_named() -> None:
    services = {
        "web": {"deploy": {"replicas": 1}, "scale": 1},
        "worker": {"depends_on": {"web": {"restart": False}}},
        "other": {"depends_on": {"worker": {"restart": True}}},  # worker is not developed
    }
    assert unapplied(Runner.COMPOSE, services, ["web"]) == []
