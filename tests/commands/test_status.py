"""`devbox status`'s report of the session's save->applied figures (pure: no engine)."""

import time

from devbox.commands.status import SessionInfo, StatusReport, describe


def report(session: SessionInfo) -> StatusReport:
    return StatusReport(
        project="/p",
        service="app",
        session=session,
        engine="20.10.24",
        compose="2.40.3",
        compose_v1=None,
        containers=[],
        rules=[],
    )


def session(**figures: object) -> SessionInfo:
    return SessionInfo(
        mode="fallback",
        reason="asked for",
        pid=2,
        alive=True,
        detached=True,
        started=time.time(),
        last=None,
        **figures,  # type: ignore[arg-type]
    )


def test_status_shows_the_sessions_save_to_applied_percentiles() -> None:
    lines = describe(report(session(syncs=12, sync_p50_ms=21.4, sync_p95_ms=48.9)))
    assert "  save->applied: p50 21 ms, p95 49 ms over the last 12 batches" in lines
    assert report(session(syncs=12, sync_p50_ms=21.4)).to_dict()["session"]["syncs"] == 12  # type: ignore[index]


def test_status_says_nothing_of_syncs_before_the_first() -> None:
    assert not any("save->applied" in line for line in describe(report(session())))


def test_status_counts_every_batch_of_the_session() -> None:
    figures = {"syncs": 200, "sync_p50_ms": 9.6, "sync_p95_ms": 19.2, "batches": 1234}
    lines = describe(report(session(**figures)))
    assert (
        "  save->applied: p50 10 ms, p95 19 ms over the last 200 batches (1234 this session)"
        in lines
    )
    assert report(session(**figures)).to_dict()["session"]["batches"] == 1234  # type: ignore[index]


def test_status_names_a_detached_sessions_output() -> None:
    lines = describe(report(session(log="/home/me/.local/state/devbox/shop-1/up.log")))
    assert "  output: /home/me/.local/state/devbox/shop-1/up.log" in lines
    assert not any(line.startswith("  output:") for line in describe(report(session())))
