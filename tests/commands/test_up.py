"""`devbox up`'s control flow with the engine seam faked: options, the one-session rule,
compose watch's children always stopped and the project torn down. The real-engine
runs are in test_up_watch_docker.py and test_up_fallback_docker.py."""

import os
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from devbox.commands.up import UpOptions, run_compose_watch, up
from devbox.engine.answers import ContainerInfo
from devbox.engine.modes import Mode
from devbox.errors import DevboxError, Interrupted, UsageError
from devbox.project.compose import ComposeProject, load_compose
from devbox.project.locate import locate
from devbox.runtime import state
from devbox.sync.bind_or_copy import SyncMode
from tests.fakes import FakeEngine, Said, session_record

WATCH = """
import sys, time
print("Watch enabled", flush=True)
print("Syncing service app after 1 changes", flush=True)
for line in sys.argv[2:]:
    print(line, flush=True)
sys.exit(int(sys.argv[1]))
"""


class WatchEngine(FakeEngine):
    """`compose watch` is a script that says it is watching, syncs once, then exits."""

    def __init__(self, project_dir: Path, exit_code: int | str, *said: str) -> None:
        super().__init__(project_dir)
        self.exit_code = str(exit_code)
        self.said = said
        self.started: list[list[str]] = []

    def compose_cmd(self, *args: str, files: Sequence[Path] | None = None) -> list[str]:
        watch = [sys.executable, "-c", WATCH, self.exit_code, *self.said]
        argv = watch if args[0] == "watch" else ["sleep", "30"]
        self.started.append(argv)
        return argv


def recorder(tmp_path: Path) -> state.Recorder:
    return state.Recorder(tmp_path, session_record(os.getpid(), mode="watch"))


def a_project(tmp_path: Path) -> ComposeProject:
    (tmp_path / "compose.yaml").write_text("services:\n  app:\n    build: .\n")
    return load_compose(locate(tmp_path))


def test_compose_watch_exiting_stops_every_child_and_tears_down(tmp_path: Path) -> None:
    engine, rec, project = WatchEngine(tmp_path, 3), recorder(tmp_path), a_project(tmp_path)
    with pytest.raises(DevboxError) as caught:
        run_compose_watch(engine, project=project, service=None, recorder=rec, echo=Said())
    assert caught.value.message == "docker compose watch exited with code 3 (see its output above)"
    assert rec.record.ready
    assert rec.record.last is not None and rec.record.last.what.startswith("Syncing service app")
    assert engine.actions() == ["teardown"]
    assert [argv[0] for argv in engine.started] == [sys.executable, "sleep"]  # watch, logs
    assert rec.record.children  # recorded for `down`, should devbox die
    assert rec.record.live_children() == {}  # ... and all stopped


def test_a_batch_compose_failed_runs_the_uv_sync_rule_again(tmp_path: Path) -> None:
    """Compose only logs a failed sync+exec; devbox asks uv why (sync/dependencies.py)."""
    failed = 'time="..." level=warning msg="Error handling changed files: exit status 2"'
    engine = WatchEngine(tmp_path, 3, failed)
    rec = state.Recorder(tmp_path, session_record(os.getpid(), mode="watch", services=["app"]))
    (tmp_path / "compose.yaml").write_text(
        "services:\n  app:\n    build: .\n    develop:\n      watch:\n"
        "        - {action: sync+exec, path: ./uv.lock, target: /app/uv.lock,"
        " exec: {command: [uv, sync, --locked]}}\n"
    )
    engine.listed = [ContainerInfo("fake-app-1", "app", "running", True, None, (), "i")]
    with pytest.raises(DevboxError):
        run_compose_watch(
            engine, project=load_compose(locate(tmp_path)), service=None, recorder=rec, echo=Said()
        )
    assert ("exec", "uv", "sync", "--locked") in engine.calls


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


def test_debug_reaches_the_detached_child() -> None:
    args = UpOptions(debug=True, debug_port=6000).cli_args()
    assert args[-3:] == ["--debug", "--debug-port", "6000"]
    assert "--debug" not in UpOptions().cli_args()
