import math

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


def test_defaults_cap_the_wait_for_continuous_events() -> None:
    """A stream of events never quiet for long: the default cap still flushes within it."""
    batcher = Batcher(quiet=0.005)
    assert batcher.max_wait == 0.2
    flushed: list[float] = []
    now = 0.0
    while now < 1.0:  # an event every 2 ms: never 5 ms quiet
        batcher.add("log.txt", now)
        if batcher.take(now):
            flushed.append(now)
        now = round(now + 0.002, 3)
    # Each batch starts with the event after the last flush and waits at most the cap
    # (plus the one 2 ms step the caller's clock moves by).
    firsts = [0.0] + [round(t + 0.002, 3) for t in flushed[:-1]]
    assert len(flushed) == 4
    assert all(t - first <= 0.2 + 0.002 + 1e-9 for first, t in zip(firsts, flushed, strict=True))


def test_an_atomic_save_is_never_split_by_a_short_quiet_window() -> None:
    """An editor writes its temp file, fsyncs (longer than the quiet window), then renames
    it onto the target: the temp file's hold keeps one batch for both."""
    batcher = Batcher(quiet=0.005, max_wait=0.2, settle=0.1)
    batcher.add("/p/.a.py.tmp", 0.0, hold=True)  # created
    batcher.add("/p/.a.py.tmp", 0.001, hold=True)  # written, closed
    assert batcher.take(0.04) == frozenset()  # 39 ms of fsync: quiet, but held
    batcher.add("/p/.a.py.tmp", 0.04)  # moved onto a.py: both ends released
    batcher.add("/p/a.py", 0.04)
    assert batcher.deadline() == pytest.approx(0.045)
    assert batcher.take(0.045) == {"/p/.a.py.tmp", "/p/a.py"}


def test_a_file_still_open_for_writing_holds_the_batch_until_closed() -> None:
    batcher = Batcher(quiet=0.005, max_wait=0.2, settle=0.1)
    batcher.add("/p/other.py", 0.0)
    batcher.add("/p/big.py", 0.0, hold=True)  # created
    batcher.add("/p/big.py", 0.03, hold=True)  # a later write, after a pause
    assert batcher.take(0.05) == frozenset()
    batcher.add("/p/big.py", 0.06)  # closed
    assert batcher.take(0.065) == {"/p/other.py", "/p/big.py"}


def test_a_hold_never_released_ends_after_settle_and_never_passes_max_wait() -> None:
    batcher = Batcher(quiet=0.005, max_wait=0.2, settle=0.1)
    batcher.add("/p/.swap.tmp", 0.0, hold=True)  # never renamed
    assert batcher.deadline() == pytest.approx(0.1)
    assert batcher.take(0.1) == {"/p/.swap.tmp"}
    batcher.add("/p/a.tmp", 1.0, hold=True)
    batcher.add("/p/a.tmp", 1.15, hold=True)  # rewritten: settle would say 1.25
    assert batcher.deadline() == pytest.approx(1.2)  # max_wait says 1.2


def test_holds_do_not_outlive_their_batch() -> None:
    batcher = Batcher(quiet=0.005, max_wait=0.2, settle=0.1)
    batcher.add("/p/a.tmp", 0.0, hold=True)
    assert batcher.take(0.2) == {"/p/a.tmp"}
    batcher.add("/p/b.py", 1.0)
    assert batcher.deadline() == pytest.approx(1.005)


def test_a_2000_file_burst_is_one_batch() -> None:
    batcher = Batcher(quiet=0.005, max_wait=0.2)
    for i in range(2000):
        batcher.add(f"/p/f{i}", i * 0.00005)  # 2,000 events in 100 ms
    assert batcher.take(0.1) == frozenset()
    assert len(batcher.take(0.105)) == 2000


def test_a_burst_longer_than_max_wait_waits_for_quiet_up_to_burst_wait() -> None:
    """`git checkout` writing 2,000 files then rewriting them over 0.6 s: one batch once
    it is over, not one at 200 ms with half-written files that the rest rewrites."""
    batcher = Batcher(quiet=0.005, max_wait=0.2, burst_paths=256, burst_wait=1.0)
    taken: list[frozenset[str]] = []
    for i in range(4000):
        now = i * 0.00015
        batcher.add(f"/p/f{i % 2000}", now)
        taken += [b for b in [batcher.take(now)] if b]
    assert taken == []
    assert len(batcher.take(0.6 + 0.005)) == 2000
    # a burst that never stops is still flushed, at burst_wait
    for i in range(300):
        batcher.add(f"/p/g{i}", 10.0 + i * 0.004)
    assert batcher.deadline() == pytest.approx(11.0)


def test_few_paths_keep_the_short_cap() -> None:
    batcher = Batcher(quiet=0.005, max_wait=0.2, burst_paths=256, burst_wait=1.0)
    for i in range(100):
        batcher.add(f"/p/f{i}", i * 0.004)
    assert batcher.deadline() == pytest.approx(0.2)


def test_max_paths_makes_a_batch_due_at_once() -> None:
    batcher = Batcher(quiet=0.005, max_wait=0.2, max_paths=100)
    for i in range(99):
        batcher.add(f"/p/f{i}", 0.0)
    assert batcher.take(0.001) == frozenset()
    batcher.add("/p/f99", 0.001)
    assert len(batcher.take(0.001)) == 100
    assert batcher.pending == 0


@pytest.mark.parametrize(
    "kwargs", [{"settle": -1.0}, {"max_paths": 0}, {"settle": math.nan}, {"burst_paths": 0}]
)
def test_invalid_hold_settings(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="need"):
        Batcher(quiet=0.005, max_wait=0.2, **kwargs)  # type: ignore[arg-type]
