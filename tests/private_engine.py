"""A private dockerd for tests that stop the engine: the shared engines (scripts/provision-
engine and provision-extra) must never stop under other tests.

Its own socket, data-root, exec-root, pidfile and bridge; the base images are loaded
from the main engine. Needs root. Two dockerd options delete `docker0`, the main engine's
default bridge (by that name, whatever `--bridge` says): `--bridge none`, and
`--default-address-pool` on a restart (dockerd 20.10 clears its stale default network
then). Neither is used, and `start` checks that `docker0` survived.
"""

import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

IMAGES = ("python:3.13-slim-trixie", "ghcr.io/astral-sh/uv:0.13.9")


def _free_subnet() -> str:
    """A /24 under 172.31.200-249 that no interface routes (docker1 has 172.31.250)."""
    routes = subprocess.run(["ip", "-4", "route"], capture_output=True, text=True).stdout
    for third in range(200, 250):
        if f"172.31.{third}." not in routes:
            return f"172.31.{third}"
    raise RuntimeError("no free 172.31.200-249.0/24 for a private bridge")


class PrivateEngine:
    """A dockerd of this test's own, stopped and started at will."""

    def __init__(self, root: Path) -> None:
        token = uuid.uuid4().hex[:6]
        self.bridge = f"dbx{token}"
        self.run_dir = Path(f"/var/run/dbx-{token}")  # short: containerd's socket paths
        self.data_root = root / "data"
        self.socket = self.run_dir / "sock"
        self.host = f"unix://{self.socket}"
        self.log_path = root / "dockerd.log"
        self.child: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def env(self) -> dict[str, str]:
        return {**os.environ, "DOCKER_HOST": self.host, "DOCKER_CONTEXT": ""}

    def docker(self, *args: str, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            ["docker", *args], env=self.env(), input=input, capture_output=True, check=False
        )

    def answers(self) -> bool:
        try:
            return self.docker("info").returncode == 0
        except subprocess.TimeoutExpired:
            return False

    def start(self) -> None:
        had_docker0 = _has_link("docker0")
        try:
            self._start()
        finally:
            if had_docker0 and not _has_link("docker0"):
                raise AssertionError("the private dockerd deleted docker0 (see the docstring)")

    def _start(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        argv = ["dockerd", "--data-root", str(self.data_root), "--host", self.host]
        argv += ["--exec-root", str(self.run_dir / "exec"), "--pidfile", str(self.run_dir / "pid")]
        self.child = subprocess.Popen(
            [*argv, "--bridge", self.bridge],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while not self.answers():
            if self.child.poll() is not None or time.monotonic() > deadline:
                tail = self.log_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"the private dockerd did not start:\n{tail}")
            time.sleep(0.2)

    def stop(self) -> None:
        """As a daemon restart does: SIGTERM, the containers stopped with it."""
        if self.child is not None and self.child.poll() is None:
            self.child.terminate()
            try:
                self.child.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.child.kill()
                self.child.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def load_images(self) -> None:
        saved = subprocess.run(["docker", "save", *IMAGES], capture_output=True, check=True)
        loaded = self.docker("load", "-q", input=saved.stdout)
        assert loaded.returncode == 0, loaded.stderr


def _has_link(name: str) -> bool:
    return subprocess.run(["ip", "link", "show", name], capture_output=True).returncode == 0


def _bridge_up(name: str, subnet: str) -> None:
    subprocess.run(["ip", "link", "add", name, "type", "bridge"], check=True)
    subprocess.run(["ip", "addr", "add", f"{subnet}.1/24", "dev", name], check=True)
    subprocess.run(["ip", "link", "set", name, "up"], check=True)


def _bridge_down(name: str) -> None:
    """The bridge and the iptables rules dockerd left for it (it keeps them on exit)."""
    subprocess.run(["ip", "link", "delete", name], capture_output=True, check=False)
    for table in ("filter", "nat"):
        rules = subprocess.run(
            ["iptables", "-t", table, "-S"], capture_output=True, text=True, check=False
        ).stdout.splitlines()
        for rule in rules:
            if rule.startswith("-A ") and name in rule.split():
                args = ["-D", *rule.split()[1:]]
                subprocess.run(["iptables", "-t", table, *args], capture_output=True, check=False)


@contextmanager
def private_engine(root: Path) -> Iterator[PrivateEngine]:
    """A running private dockerd with the base images; everything of it removed after."""
    engine = PrivateEngine(root)
    _bridge_up(engine.bridge, _free_subnet())
    try:
        engine.start()
        engine.load_images()
        yield engine
    finally:
        if engine.child is not None and engine.child.poll() is None:
            ids = engine.docker("ps", "-aq").stdout.split()
            if ids:
                engine.docker("rm", "-fv", *[i.decode() for i in ids])
            engine.docker("network", "prune", "-f")
        engine.stop()
        _bridge_down(engine.bridge)
        subprocess.run(["rm", "-rf", str(engine.run_dir), str(engine.data_root)], check=False)
