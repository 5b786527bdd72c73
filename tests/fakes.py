"""A fake of the engine seam for unit tests of control flow: the same `Engine` API, no
engine behind it. Every behaviour faked here also has a real-engine test."""

import subprocess
from collections.abc import Sequence
from pathlib import Path

from devbox.engine.answers import ContainerInfo
from devbox.engine.client import Engine
from devbox.runtime import process, state
from devbox.runtime.process import Result


class FakeEngine(Engine):
    """Records what devbox asked for; builds succeed unless `build_ok` is False."""

    def __init__(self, project_dir: Path, *, build_ok: bool = True) -> None:
        super().__init__(project_dir=project_dir, project_name="fake")
        self.build_ok = build_ok
        self.calls: list[tuple[str, ...]] = []
        self.is_running = True
        self.is_up = True  # the engine answers
        self.listed: list[ContainerInfo] = []
        self.volumes: list[str] = []  # named volumes devbox made sure of

    def build_cmd(
        self,
        *,
        context: Path,
        dockerfile: str,
        target: str | None,
        tag: str,
        build_args: Sequence[tuple[str, str]] = (),
    ) -> list[str]:
        self.calls.append(("build", tag))
        return (
            ["true"] if self.build_ok else ["sh", "-c", "echo 'error: no such package' >&2; exit 1"]
        )

    def run_cmd(self, args: Sequence[str]) -> list[str]:
        self.calls.append(("run",))
        return ["sleep", "30"]

    def running(self, container: str) -> bool:
        return self.is_running

    def answers(self) -> bool:
        return self.is_up

    def anonymous_volumes(self, container: str) -> list[str]:
        return []

    def containers(self, *label_filters: str) -> list[ContainerInfo]:
        return list(self.listed)

    def remove_containers(self, *names: str) -> None:
        self.calls.append(("remove", *names))

    def remove_labelled(self, label: str, *, named_volumes: bool) -> list[str]:
        self.calls.append(("remove-labelled", label))
        return []

    def copy_tar(self, container: str, data: bytes) -> None:
        self.calls.append(("copy", container))

    def open_receiver(self, container: str, script: str) -> process.Child:
        """No receiver can start here (as in an image without python3): `docker cp` it is."""
        return process.start(["false"], stdin=process.PIPE, stdout=process.PIPE)

    def exec(
        self,
        container: str,
        argv: Sequence[str],
        *,
        options: Sequence[str] = (),
        capture: bool = False,
        timeout: float | None = None,
    ) -> Result:
        self.calls.append(("exec", *argv))
        return subprocess.CompletedProcess(list(argv), 0, b"", b"")

    def ensure_cache_volume(self, name: str, key: str) -> None:
        self.volumes.append(name)

    def compose_teardown(self, *, keep: object = ()) -> None:
        self.calls.append(("teardown",))

    def actions(self) -> list[str]:
        return [call[0] for call in self.calls]


class Said(list[tuple[str, bool]]):
    """An `Echo` that keeps what was said, and whether as an error."""

    def __call__(self, message: str, *, error: bool = False) -> None:
        self.append((message, error))

    @property
    def messages(self) -> list[str]:
        return [message for message, _ in self]


def session_record(pid: int, **fields: object) -> state.State:
    """A session record for `pid`, identified as the running process is."""
    values: dict[str, object] = {
        "mode": "fallback",
        "reason": "test",
        "compose_project": "p",
        "service": "app",
        "container": None,
        **fields,
    }
    return state.State(pid=pid, pid_start=process.identity(pid), **values)  # type: ignore[arg-type]
