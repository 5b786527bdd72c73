"""A failed `uv sync` in the container, in both modes' shared terms; the watch path's
recovery with the engine seam faked (the real-engine run is in test_deps_docker.py)."""

import subprocess
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from devbox.engine.answers import ContainerInfo
from devbox.project.compose import load_compose
from devbox.project.locate import locate
from devbox.runtime.process import Result
from devbox.sync.dependencies import (
    LOCK_LAGS,
    REBUILD_FAILED,
    failure_reason,
    recover_compose_watch,
    uv_sync_rule,
)
from devbox.sync.rules import load_rules
from tests.fakes import FakeEngine, Said

COMPOSE = """\
services:
  app:
    build: .
    develop:
      watch:
        - {action: sync, path: ., target: /app}
        - action: sync+exec
          path: ./uv.lock
          target: /app/uv.lock
          exec: {command: [uv, sync, --locked], user: root}
  db:
    image: postgres:16
"""
BROKEN = b"error: Failed to parse `uv.lock`\n  Caused by: TOML parse error at line 3\n"
STALE = (
    b"Resolved 9 packages in 2ms\nerror: The lockfile at `uv.lock` needs to be updated, "
    b"but `--locked` was provided. To update the lockfile, run `uv lock`.\n"
)


def failed(code: int, stderr: bytes, stdout: bytes = b"") -> Result:
    return subprocess.CompletedProcess(["uv", "sync"], code, stdout, stderr)


def test_the_reason_is_the_last_error_line_and_its_deepest_cause() -> None:
    reason = "error: Failed to parse `uv.lock`: TOML parse error at line 3"
    assert failure_reason(failed(2, BROKEN)) == reason
    assert failure_reason(failed(137, b"")) == "exit code 137"


def test_a_missing_compiler_is_named_not_uvs_hint() -> None:
    said = (
        b"  x Failed to build `cext @ file:///app/cext`\n"
        b"         [stderr]\n"
        b"         error: [Errno 2] No such file or directory: 'x86_64-linux-gnu-gcc'\n\n"
        b"hint: Build failures usually indicate a problem with the package or the build "
        b"environment\n"
    )
    reason = "error: [Errno 2] No such file or directory: 'x86_64-linux-gnu-gcc'"
    assert failure_reason(failed(1, said)) == reason


def test_an_exec_that_could_not_start_says_so_on_stdout() -> None:
    oci = b'OCI runtime exec failed: exec: "uv": executable file not found in $PATH: unknown\n'
    assert failure_reason(failed(126, b"", oci)) == oci.decode().strip()


def test_a_lock_that_lags_pyproject_is_no_reason_to_rebuild() -> None:
    assert failure_reason(failed(2, STALE)) is None


class ComposeEngine(FakeEngine):
    """`uv sync` in the container answers `sync`; `compose build` succeeds or not."""

    def __init__(self, project_dir: Path, sync: tuple[int, bytes], *, build_ok: bool) -> None:
        super().__init__(project_dir, build_ok=build_ok)
        self.sync = sync
        now = datetime.now(UTC)
        self.listed = [
            ContainerInfo("fake-db-1", "db", "running", True, now, (), "postgres:16"),
            ContainerInfo("fake-app-1", "app", "running", True, now, (), "fake-app"),
        ]

    def exec(
        self,
        container: str,
        argv: Sequence[str],
        *,
        options: Sequence[str] = (),
        capture: bool = False,
        timeout: float | None = None,
    ) -> Result:
        self.calls.append(("exec", container, *options, *argv))
        return subprocess.CompletedProcess(list(argv), self.sync[0], b"", self.sync[1])

    def compose_cmd(self, *args: str, files: Sequence[Path] | None = None) -> list[str]:
        self.calls.append(("compose", *args))
        return ["true"] if args[0] != "build" or self.build_ok else ["false"]


def recover(
    tmp_path: Path, sync: tuple[int, bytes], *, build_ok: bool = True
) -> tuple[ComposeEngine, Said]:
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    engine, said = ComposeEngine(tmp_path, sync, build_ok=build_ok), Said()
    recover_compose_watch(engine, load_compose(locate(tmp_path)), ["app"], said)
    return engine, said


def test_the_rules_uv_sync_finds_the_exec_rule(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    project = load_compose(locate(tmp_path))
    rule = uv_sync_rule(load_rules(project, project.services["app"]).rules)
    assert rule is not None and rule.exec is not None
    assert rule.exec.command == ("uv", "sync", "--locked")
    assert uv_sync_rule(load_rules(project, project.services["db"]).rules) is None


def test_a_sync_that_passes_now_changes_nothing(tmp_path: Path) -> None:
    engine, said = recover(tmp_path, (0, b""))
    assert engine.calls == [("exec", "fake-app-1", "--user", "root", "uv", "sync", "--locked")]
    assert said == []


def test_a_broken_lock_says_why_and_rebuilds_the_service(tmp_path: Path) -> None:
    engine, said = recover(tmp_path, (2, BROKEN))
    assert said[0] == (
        "uv sync in fake-app-1 failed (error: Failed to parse `uv.lock`: TOML parse "
        "error at line 3); "
        "rebuilding the image instead",
        True,
    )
    assert [c for c in engine.calls if c[0] == "compose"] == [
        ("compose", "build", "app"),
        ("compose", "up", "--detach", "--no-deps", "--no-build", "app"),
    ]
    assert said.messages[-1] == "app: recreated from the new image"


def test_a_failed_rebuild_keeps_the_old_container(tmp_path: Path) -> None:
    engine, said = recover(tmp_path, (2, BROKEN), build_ok=False)
    assert ("compose", "build", "app") in engine.calls
    assert not any(c[:2] == ("compose", "up") for c in engine.calls)
    assert said[-1] == (REBUILD_FAILED, True)


@pytest.mark.parametrize("services", [["db"], ["gone"]])
def test_services_without_a_uv_sync_rule_are_left_alone(
    tmp_path: Path, services: list[str]
) -> None:
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    engine, said = ComposeEngine(tmp_path, (2, BROKEN), build_ok=True), Said()
    recover_compose_watch(engine, load_compose(locate(tmp_path)), services, said)
    assert engine.calls == [] and said == []


def test_a_lagging_lock_waits_for_the_new_one(tmp_path: Path) -> None:
    engine, said = recover(tmp_path, (2, STALE))
    assert said.messages == [LOCK_LAGS]
    assert not any(c[0] == "compose" for c in engine.calls)
