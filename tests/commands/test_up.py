"""`devbox up`'s control flow with the engine seam faked: options, the one-session rule,
compose watch's children always stopped and the project torn down. The real-engine
runs are in test_up_watch.py and test_up_fallback.py."""

import os
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from devbox.commands.up import UpOptions, run_compose_watch, up
from devbox.engine.modes import Mode
from devbox.errors import DevboxError, Interrupted, UsageError
from devbox.runtime import state
from devbox.sync.modes import SyncMode
from tests.fakes import FakeEngine, Said, session_record

WATCH = """
import sys, time
print("Watch enabled", flush=True)
print("Syncing service app after 1 changes", flush=True)
sys.exit(int(sys.argv[1]))
"""


class WatchEngine(FakeEngine):
    """`compose watch` is a script that says it is watching, syncs once, then exits."""

    def __init__(self, project_dir: Path, exit_code: int | str) -> None:
        super().__init__(project_dir)
        self.exit_code = str(exit_code)
        self.started: list[list[str]] = []

    def compose_cmd(self, *args: str, files: Sequence[Path] | None = None) -> list[str]:
        argv = (
            [sys.executable, "-c", WATCH, self.exit_code] if args[0] == "watch" else ["sleep", "30"]
        )
        self.started.append(argv)
        return argv


def recorder(tmp_path: Path) -> state.Recorder:
    return state.Recorder(tmp_path, session_record(os.getpid(), mode="watch"))


def test_compose_watch_exiting_stops_every_child_and_tears_down(tmp_path: Path) -> None:
    engine, rec = WatchEngine(tmp_path, 3), recorder(tmp_path)
    with pytest.raises(DevboxError) as caught:
        run_compose_watch(engine, service=None, recorder=rec, echo=Said())
    assert caught.value.message == "docker compose watch exited with code 3 (see its output above)"
    assert rec.record.ready
    assert rec.record.last is not None and rec.record.last.what.startswith("Syncing service app")
    assert engine.actions() == ["teardown"]
    assert [argv[0] for argv in engine.started] == [sys.executable, "sleep"]  # watch, logs
    assert rec.record.children  # recorded for `down`, should devbox die
    assert rec.record.live_children() == {}  # ... and all stopped


def test_options_keep_milliseconds_end_to_end() -> None:
    options = UpOptions(mode=Mode.FALLBACK, service="web", sync=SyncMode.COPY, quiet_ms=20)
    assert options.cli_args() == [
        "--mode", "fallback", "--sync", "copy", "--quiet-ms", "20", "--max-wait-ms", "200", "web",
    ]  # fmt: skip
    assert options.batcher().quiet == 0.02


@pytest.mark.parametrize(("quiet", "max_wait"), [(-1, 500), (600, 500), (0, 10**9)])
def test_impossible_batching_is_a_usage_error(quiet: int, max_wait: int) -> None:
    with pytest.raises(UsageError) as caught:
        UpOptions(quiet_ms=quiet, max_wait_ms=max_wait).batcher()
    assert caught.value.message == "--quiet-ms must be between 0 and --max-wait-ms (at most 60000)"


def test_a_second_up_is_refused(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(
        "services:\n  app:\n    build: .\n    develop: {watch: [{action: rebuild, path: x}]}\n"
    )
    recorder(tmp_path).save()  # this very process is the live session
    with pytest.raises(UsageError) as caught:
        up(project_dir=tmp_path, echo=Said())
    assert caught.value.message == (
        f"devbox up is already running for {tmp_path} (pid {os.getpid()}); `devbox down` stops it"
    )


def test_interrupted_is_exit_130() -> None:
    assert Interrupted().code == 130


def test_copy_mode_batches_after_a_shorter_quiet_unless_told() -> None:
    assert UpOptions(sync=SyncMode.COPY).batcher().quiet == 0.005
    assert UpOptions(sync=SyncMode.COPY).batcher().max_wait == 0.2
    assert UpOptions(sync=SyncMode.BIND).batcher().quiet == 0.05
    assert UpOptions(sync=SyncMode.COPY, quiet_ms=80).batcher().quiet == 0.08
    # unset, the detached child picks it for the sync it resolves (auto may become copy)
    assert "--quiet-ms" not in UpOptions(sync=SyncMode.AUTO).cli_args()
    assert UpOptions(quiet_ms=15).cli_args()[4:6] == ["--quiet-ms", "15"]
