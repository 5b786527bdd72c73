import pytest

from devbox.sync.batcher import Batcher


def test_nothing_pending() -> None:
    batcher = Batcher(quiet=0.05, max_wait=0.5)
    assert batcher.deadline() is None
    assert batcher.take(100.0) == frozenset()


def test_quiet_period_then_one_batch() -> None:
    batcher = Batcher(quiet=0.05, max_wait=0.5)
    batcher.add("a", 0.0)
    batcher.add("b", 0.02)
    assert batcher.deadline() == pytest.approx(0.07)
    assert batcher.take(0.06) == frozenset()
    assert batcher.take(0.07) == {"a", "b"}
    assert batcher.take(1.0) == frozenset()


def test_duplicates_coalesce() -> None:
    batcher = Batcher(quiet=0.05, max_wait=0.5)
    for t in (0.0, 0.01, 0.02):
        batcher.add("a", t)
    assert batcher.take(1.0) == {"a"}


def test_continuous_writes_flush_at_max_wait() -> None:
    batcher = Batcher(quiet=0.05, max_wait=0.5)
    flushed: list[float] = []
    now = 0.0
    while now < 2.0:  # an event every 10 ms for two seconds: never quiet
        batcher.add("log.txt", now)
        if batcher.take(now):
            flushed.append(now)
        now = round(now + 0.01, 2)
    assert flushed == [0.5, 1.01, 1.52]


def test_a_new_batch_restarts_the_max_wait() -> None:
    batcher = Batcher(quiet=0.05, max_wait=0.5)
    batcher.add("a", 0.0)
    assert batcher.take(0.05) == {"a"}
    batcher.add("b", 3.0)
    assert batcher.deadline() == pytest.approx(3.05)


def test_invalid_settings() -> None:
    with pytest.raises(ValueError, match="quiet <= max_wait"):
        Batcher(quiet=1.0, max_wait=0.5)
