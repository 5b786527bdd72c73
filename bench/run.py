"""devbox beside Compose watch, against the real engine: one command, one table per scenario.

    uv run python bench/run.py [--quick] [--json] [--only SCENARIO,...] [--variants V,...]

(after scripts/provision-engine; scripts/provision-extra for the remote-engine variant).
Variants, in one run on one machine: Compose watch 2.40.3 (`docker compose watch`, the
dependency files on a rebuild rule as Compose users write them), devbox's fallback with a
bind mount, with copy sync, with copy sync against a second engine that cannot see the
project, and devbox on the watch path (Compose watch with devbox's sync+exec rules).
A probe in the container reads the file in a tight loop and prints when it changes; host
and container share one clock, so save -> visible is measured end to end.
Every wait has a timeout and says what it waits for. Project names are unique per run, so
two runs (or a run and the tests) never share a Compose project or a container.
Writes docs/benchmarks.md unless --no-write (or a filtered run); `--json` prints the figures.
"""

import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.report import (  # noqa: E402
    CLI_COMPOSE_EXEC,
    CLI_DOCKER_EXEC,
    CLI_HELP,
    CLI_SHELL,
    CLI_STATUS,
    GOALS,
    SCENARIOS,
    VARIANTS,
    Figures,
    Results,
    add_ratios,
    evaluate,
    longest_lag,
    longest_outage,
    markdown,
    summary,
)
from tests.support import NOT_OF_SAMPLE  # noqa: E402

DEVBOX = [sys.executable, "-m", "devbox"]
UV = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv") or "uv"
SERVICE = "sample-app"
NEW_DEPENDENCY = "six"  # pure Python, one small wheel, not in the sample's lock
BASE_IMAGES = ("python:3.13-slim-trixie", "ghcr.io/astral-sh/uv:0.13.9")
RUN_ID = f"b{os.getpid()}"
STARTED = time.monotonic()
# The burst comes last: the 2,000 files stay, and an inotify overflow it may cause cannot
# touch the other figures.
PER_VARIANT = ("watcher", "edit_latency", "continuous", "dependency_change", "writeback", "burst")
REMOTE_SCENARIOS = ("edit_latency", "writeback", "burst")
COPY_VARIANTS = ("copy", "copy_remote", "up_copy")  # where the container's writes come back
# In the container: `name token` writes /app/src/sample_app/<name> and prints its inode;
# `stat name` prints the inode again (a file devbox sent back in has a new one).
WRITER = r"""
import os, sys
for line in sys.stdin:
    verb, _, rest = line.strip().partition(' ')
    path = '/app/src/sample_app/' + (rest if verb == 'stat' else verb)
    if verb != 'stat':
        with open(path, 'w') as f:
            f.write(rest + '\n')
    print(os.stat(path).st_ino, flush=True)
"""
PROBE = r"""
import os, sys, time
path = sys.argv[1]
last = None
while True:
    try:
        with open(path) as f:
            data = f.readline().strip()
    except OSError:
        data = None
    if data != last:
        last = data
        print('%s %.6f' % (data, time.time()), flush=True)
    time.sleep(0.0002)
"""
BURST_CHECK = r"""
import glob, sys, time
n, deadline = int(sys.argv[1]), time.time() + float(sys.argv[2])
print('ready', flush=True)
while True:
    bad = n
    files = glob.glob('/app/src/burst/d*/f*.txt')
    if len(files) == n:
        bad = 0
        for f in files:
            try:
                if open(f).read() != 'v2 ' + f.rsplit('/f', 1)[1][:-4]:
                    bad += 1
            except OSError:
                bad += 1
    if bad == 0 or time.time() > deadline:
        print('%.6f %d %d' % (time.time(), bad, len(files)), flush=True)
        break
    time.sleep(0.005)
"""

T = TypeVar("T")


class BenchError(Exception):
    """A step failed or a wait timed out: the variant's scenario reports it and the run goes on."""


def log(what: str) -> None:
    print(f"[{time.monotonic() - STARTED:6.1f}s] {what}", file=sys.stderr, flush=True)


def sh(
    argv: list[str],
    cwd: Path,
    *,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    check: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run a command to completion within `timeout` seconds (a hung client is an error)."""
    try:
        done = subprocess.run(
            argv, cwd=cwd, capture_output=True, text=True, env=env, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"`{' '.join(argv[:4])} ...` took over {timeout:.0f} s") from exc
    if check and done.returncode != 0:
        tail = (done.stdout + done.stderr).strip().splitlines()[-5:]
        raise BenchError(f"`{' '.join(argv[:4])} ...` failed: " + " / ".join(tail))
    return done


def wait_for(
    what: str,
    check: Callable[[], T | None],
    *,
    timeout: float,
    interval: float = 0.25,
    alive: Callable[[], str | None] = lambda: None,
) -> T:
    """Poll `check` until it returns a value; say what is awaited, and give up loudly."""
    log(f"  waiting (up to {timeout:.0f} s) for {what}")
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found is not None and found is not False:
            return found
        dead = alive()
        if dead:
            raise BenchError(f"gave up waiting for {what}: {dead}")
        if time.monotonic() > deadline:
            raise BenchError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.replace(path)


def http_ok(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Probe:
    """`docker exec -i <ctr> python3 -c PROBE <file>`: every change the container sees."""

    def __init__(self, v: "Variant", path: str) -> None:
        self.seen: list[tuple[str, float]] = []
        self.child = subprocess.Popen(
            ["docker", "exec", "-i", v.container, "python3", "-u", "-c", PROBE, path],
            stdout=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
            env=v.env,
        )
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        wait_for(
            f"the probe in {v.container} to read {path}",
            lambda: bool(self.seen),
            timeout=30,
            interval=0.02,
            alive=lambda: None if self.child.poll() is None else "the probe exited",
        )

    def _read(self) -> None:
        assert self.child.stdout is not None
        for line in self.child.stdout:
            token, _, at = line.strip().rpartition(" ")
            with contextlib.suppress(ValueError):
                self.seen.append((token, float(at)))

    def first(self, token: str) -> float | None:
        return next((at for t, at in self.seen if t == token), None)

    def close(self) -> None:
        self.child.kill()
        self.child.wait(timeout=10)


class Variant:
    """A dev loop on its own copy of the sample project, under a name unique to this run."""

    def __init__(self, key: str, root: Path, prepared: "Dependency | None") -> None:
        self.key, self.label = key, VARIANTS.get(key, key)
        self.name = f"{RUN_ID}-{key.replace('_', '-')}"
        self.project = root / self.name
        self.env = dict(os.environ)
        if key == "copy_remote":
            host = os.environ.get("DEVBOX_REMOTE_DOCKER_HOST", "unix:///var/run/docker-remote.sock")
            self.env.update(DOCKER_HOST=host, DOCKER_CONTEXT="")
        self.env["DOCKER_BUILDKIT"] = "1"
        self.env["XDG_STATE_HOME"] = str(root / "state")  # detached logs go with the run
        self.port = free_port()
        self.log_path = root / f"{self.name}.log"
        self.child: subprocess.Popen[bytes] | None = None
        self.container = ""
        self.up_s = 0.0
        self.prepared = prepared
        shutil.copytree(REPO / "sample_project", self.project, ignore=NOT_OF_SAMPLE)
        self.devbox("init", check=True)
        compose = self.project / "compose.yaml"
        text = compose.read_text().replace("127.0.0.1:8000:8000", f"127.0.0.1:{self.port}:8000")
        if key == "compose":
            text = compose_users_rules(text)
        compose.write_text(text)

    def devbox(self, *args: str, check: bool = False, timeout: float = 120) -> Any:
        return sh([*DEVBOX, *args], self.project, env=self.env, timeout=timeout, check=check)

    def docker(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return sh(["docker", *args], self.project, env=self.env, timeout=timeout)

    def child_died(self) -> str | None:
        if self.child is None or self.child.poll() is None:
            return None
        return f"`docker compose watch` exited with {self.child.returncode}: " + self.log_tail()

    def log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return " / ".join(self.log_path.read_text(errors="replace").splitlines()[-5:])
        return "(no output)"

    def find_container(self) -> str | None:
        """The running container of the service (Compose's labels, or devbox's)."""
        for label in (f"com.docker.compose.project={self.name}", f"dev.devbox.project={self.name}"):
            found = self.docker(
                "ps", "-q", "--filter", f"label={label}", "--filter", f"name={SERVICE}"
            ).stdout.split()
            if found:
                return found[0]
        return None

    def up(self) -> float:
        started = time.monotonic()
        if self.key == "compose":
            with self.log_path.open("wb") as out:
                self.child = subprocess.Popen(
                    ["docker", "compose", "watch"],
                    cwd=self.project,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    env=self.env,
                    start_new_session=True,
                )
        else:
            mode = {
                "bind": ["--mode", "fallback", "--sync", "bind"],
                "copy": ["--mode", "fallback", "--sync", "copy"],
                "copy_remote": ["--mode", "fallback", "--sync", "copy"],
                "devbox_watch": ["--mode", "watch"],
                "up_bind": ["--sync", "bind"],  # plain `devbox up`: compose mode
                "up_copy": ["--sync", "copy"],
            }[self.key]
            log(f"  devbox up --detach {' '.join(mode)} (up to 600 s)")
            done = self.devbox("up", "--detach", *mode, timeout=600)
            self.log_path.write_text(done.stdout + done.stderr)
            if done.returncode != 0:
                raise BenchError(f"devbox up failed: {self.log_tail()}")
        self.container = wait_for(
            f"the {SERVICE} container of {self.name}",
            self.find_container,
            timeout=600,
            interval=0.5,
            alive=self.child_died,
        )
        wait_for(
            f"the app on 127.0.0.1:{self.port}/health",
            lambda: http_ok(self.port),
            timeout=120,
            alive=self.child_died,
        )
        # The watcher is live once an edit arrives (Compose's initial sync, devbox's first scan).
        marker = self.project / "src/sample_app/ready.txt"
        token = f"ready-{time.time()}"
        atomic_write(marker, token + "\n")
        wait_for(
            "a first edit to reach the container (the watcher is live)",
            lambda: (
                token
                in self.docker(
                    "exec", self.container, "cat", "/app/src/sample_app/ready.txt"
                ).stdout
            ),
            timeout=60,
            interval=0.5,
            alive=self.child_died,
        )
        return time.monotonic() - started

    def watcher_pids(self) -> list[int]:
        """The watching process and its children (Compose's, or devbox's recorded session)."""
        import psutil

        pid: int | None = None
        if self.child is not None:
            pid = self.child.pid
        else:
            with contextlib.suppress(OSError, ValueError, KeyError):
                pid = int(json.loads((self.project / ".devbox/state.json").read_text())["pid"])
        if pid is None:
            return []
        with contextlib.suppress(psutil.Error):
            root = psutil.Process(pid)
            return [pid, *(p.pid for p in root.children(recursive=True))]
        return []

    def batches(self) -> int | None:
        """Batches devbox applied, from its own telemetry (the session record that `devbox
        status --json` reports, read directly: status asks the engine several questions,
        which takes seconds on a loaded machine). None on the watch path and for Compose,
        where Compose does the syncing."""
        from devbox.runtime import state

        if self.key in ("compose", "devbox_watch"):
            return None
        record = state.load(self.project)
        return None if record is None else record.batches

    def down(self) -> None:
        log(f"[{self.label}] down")
        if self.child is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.child.pid, signal.SIGTERM)  # the docker CLI and its plugin
            try:
                self.child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.child.pid, signal.SIGKILL)
                self.child.wait(timeout=10)
        else:
            with contextlib.suppress(BenchError):
                self.devbox("down", "--volumes", timeout=120)  # uv's cache volume too
        with contextlib.suppress(BenchError):
            if self.key in ("compose", "devbox_watch"):
                sh(
                    ["docker", "compose", "down", "--volumes", "--rmi", "local", "--timeout", "3"],
                    self.project,
                    env=self.env,
                    timeout=120,
                )
            else:
                self.docker("image", "rm", "--force", f"devbox-{self.name}-{SERVICE}:dev")


def compose_users_rules(text: str) -> str:
    """Compose's own answer to a dependency change: a rebuild rule (uv's Docker guide),
    not the sync+exec rules devbox writes."""
    lines, out, skip = text.splitlines(), [], False
    for line in lines:
        stripped = line.strip()
        if stripped == "- action: sync+exec":
            out.append(line.replace("sync+exec", "rebuild"))
            skip = False
            continue
        if stripped.startswith(("target: /app/pyproject.toml", "target: /app/uv.lock")):
            continue
        if stripped == "exec:":
            skip = True
            continue
        if skip and (stripped.startswith(("command:", "user:"))):
            continue
        skip = False
        out.append(line)
    return "\n".join(out) + "\n"


class Dependency:
    """pyproject.toml and uv.lock with one more dependency, locked once per run on the host
    (so resolving is not part of any variant's figure)."""

    def __init__(self, root: Path) -> None:
        scratch = root / f"{RUN_ID}-lock"
        shutil.copytree(REPO / "sample_project", scratch, ignore=shutil.ignore_patterns(".venv"))
        pyproject = scratch / "pyproject.toml"
        old = 'dependencies = ["bottle>=0.13"]'
        text = pyproject.read_text()
        if old not in text:
            raise BenchError(f"sample_project/pyproject.toml no longer has {old}")
        pyproject.write_text(
            text.replace(old, f'dependencies = ["bottle>=0.13", "{NEW_DEPENDENCY}"]')
        )
        log(f"uv lock with {NEW_DEPENDENCY} added (up to 120 s)")
        sh([UV, "lock", "--quiet", "--python", sys.executable], scratch, timeout=120, check=True)
        self.pyproject = pyproject.read_text()
        self.lock = (scratch / "uv.lock").read_text()
        if f'name = "{NEW_DEPENDENCY}"' not in self.lock:
            raise BenchError(f"uv lock did not add {NEW_DEPENDENCY}")

    def apply(self, project: Path) -> None:
        atomic_write(project / "pyproject.toml", self.pyproject)
        atomic_write(project / "uv.lock", self.lock)


# --- scenarios --------------------------------------------------------------------------


def edit_latency(v: Variant, saves: int, every: float) -> Figures:
    """Per save, the time until the container shows it or a later save (a watcher that
    debounces past the next save still counts, with its full delay); `superseded` counts
    the saves the container never showed themselves."""
    target = v.project / "src/sample_app/edited.py"
    atomic_write(target, "start\n")
    time.sleep(1)
    probe = Probe(v, "/app/src/sample_app/edited.py")
    saved: list[float] = []
    try:
        for i in range(saves):
            saved.append(time.time())
            atomic_write(target, f"save-{i}\n# padding\n")
            time.sleep(every)
        with contextlib.suppress(BenchError):
            last = f"save-{saves - 1}"
            wait_for("the last save in the container", lambda: probe.first(last), timeout=30)
    finally:
        probe.close()
    seen = [(int(t[5:]), at) for t, at in probe.seen if t.startswith("save-")]
    shown = {n for n, _ in seen}
    lags = longest_lag(saved, seen, time.time())
    return {**summary(lags), "superseded": saves - len(shown)}


def continuous(v: Variant, seconds: float) -> Figures:
    target = v.project / "src/sample_app/stream.py"
    atomic_write(target, "w--1\n")
    time.sleep(1)
    probe = Probe(v, "/app/src/sample_app/stream.py")
    writes: list[float] = []
    try:
        end = time.time() + seconds
        while time.time() < end:
            writes.append(time.time())
            atomic_write(target, f"w-{len(writes) - 1}\n")
            time.sleep(0.1)
        last = f"w-{len(writes) - 1}"
        with contextlib.suppress(BenchError):
            wait_for("the last write in the container", lambda: probe.first(last), timeout=30)
    finally:
        probe.close()
    seen = [(int(t[2:]), at) for t, at in probe.seen if t.startswith("w-") and t != "w--1"]
    lags = longest_lag(writes, seen, time.time())
    return {
        "writes": len(writes),
        "max_lag_ms": round(max(lags), 1),
        "p50_lag_ms": round(statistics.median(lags), 1),
    }


def cpu_seconds(pids: list[int]) -> float:
    import psutil

    total = 0.0
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            t = psutil.Process(pid).cpu_times()
            total += t.user + t.system
    return total


def burst(v: Variant, files: int) -> Figures:
    root = v.project / "src/burst"
    before = v.batches()
    check = subprocess.Popen(
        ["docker", "exec", v.container, "python3", "-u", "-c", BURST_CHECK, str(files), "150"],
        stdout=subprocess.PIPE,
        text=True,
        env=v.env,
    )
    assert check.stdout is not None
    if check.stdout.readline().strip() != "ready":  # the check runs before the first write
        check.kill()
        raise BenchError("the burst check in the container did not start")
    pids = v.watcher_pids()
    cpu_before = cpu_seconds(pids)
    log(f"  writing {files} files twice; the container checks for up to 150 s")
    started = time.time()
    for i in range(files):
        path = root / f"d{i // 10}" / f"f{i}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"v1 {i}")
    for i in range(files):
        (root / f"d{i // 10}" / f"f{i}.txt").write_text(f"v2 {i}")
    try:
        out, _ = check.communicate(timeout=180)
    except subprocess.TimeoutExpired as exc:
        check.kill()
        raise BenchError("the burst check in the container did not answer in 180 s") from exc
    parts = out.split()
    if len(parts) != 3:
        raise BenchError(f"the burst check printed {out!r}")
    done, bad, seen = parts
    cpu = cpu_seconds(pids) - cpu_before
    time.sleep(1)  # the last batch is recorded after its files are in
    after = v.batches()
    figures = {
        "files": files,
        "seconds": round(float(done) - started, 2),
        "missed_or_stale": int(bad),
        "files_seen": int(seen),
        "batches": None if before is None or after is None else after - before,
        "watcher_cpu_s": round(cpu, 2),
    }
    return figures


def dependency_change(
    v: Variant, prepared: Dependency, timeout: float, reload_window: float
) -> Figures:
    """Seconds from saving the new pyproject.toml and uv.lock to a successful import of the
    new package in the running container (the `docker exec` check's own time included), and
    the longest the app did not answer meanwhile, beside its own reload after a source edit."""
    script = f"import {NEW_DEPENDENCY}"
    if v.docker("exec", v.container, "python", "-c", script).returncode == 0:
        raise BenchError(f"{NEW_DEPENDENCY} is importable before the change")
    samples: list[tuple[float, bool]] = []
    stop = threading.Event()

    def watch_app() -> None:
        while not stop.is_set():
            samples.append((time.monotonic(), http_ok(v.port)))
            time.sleep(0.05)

    # The app's own reload: one source edit, the outage it causes.
    watcher = threading.Thread(target=watch_app, daemon=True)
    watcher.start()
    app_py = v.project / "src/sample_app/app.py"
    atomic_write(app_py, app_py.read_text() + f"\n# touched {time.time()}\n")
    deadline = time.monotonic() + reload_window
    while time.monotonic() < deadline:  # until an outage is over, or the window ends
        time.sleep(0.25)
        failed = [at for at, ok in samples if not ok]
        if (
            failed
            and all(ok for at, ok in samples if at > failed[-1])
            and samples[-1][0] > failed[-1] + 0.5
        ):
            break
    stop.set()
    watcher.join()
    reload_down = longest_outage(samples)
    with contextlib.suppress(BenchError):
        wait_for("the app after its reload", lambda: http_ok(v.port), timeout=60)

    samples.clear()
    stop.clear()
    watcher = threading.Thread(target=watch_app, daemon=True)
    watcher.start()
    before = v.container
    started = time.monotonic()
    prepared.apply(v.project)

    def importable() -> bool:
        ctr = v.container
        if v.docker("exec", ctr, "python", "-c", script).returncode == 0:
            return True
        found = v.find_container()  # a rebuild replaces the container
        if found:
            v.container = found
        return False

    try:
        wait_for(
            f"import {NEW_DEPENDENCY} in the container",
            importable,
            timeout=timeout,
            interval=0.1,
            alive=v.child_died,
        )
        seconds = time.monotonic() - started
        with contextlib.suppress(BenchError):
            wait_for("the app after the change", lambda: http_ok(v.port), timeout=60)
        time.sleep(1)
    finally:
        stop.set()
        watcher.join()
    return {
        "seconds": round(seconds, 2),
        "container_replaced": v.container != before,
        "app_down_s": longest_outage(samples),
        "reload_down_s": reload_down,
    }


def write_back(v: Variant, writes: int) -> Figures:
    """Files written in the container (through one long-lived exec, as an app or a shell
    command writes them) until each is on the host; `echoes`: files devbox then copied
    back into the container (their inode changed)."""
    writer = subprocess.Popen(
        ["docker", "exec", "-i", v.container, "python3", "-u", "-c", WRITER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=v.env,
    )
    assert writer.stdin is not None and writer.stdout is not None
    lags: list[float] = []
    inodes: dict[str, str] = {}
    try:
        for i in range(writes):
            name, token = f"written_{i}.py", f"W{i}-{time.time()}"
            host = v.project / "src/sample_app" / name
            started = time.monotonic()
            writer.stdin.write(f"{name} {token}\n")
            writer.stdin.flush()
            inodes[name] = writer.stdout.readline().strip()

            def arrived(host: Path = host, token: str = token) -> bool:
                with contextlib.suppress(OSError):
                    return host.read_text().strip() == token
                return False

            wait_for(f"{name} on the host", arrived, timeout=10, interval=0.001)
            lags.append((time.monotonic() - started) * 1000)
            time.sleep(0.2)
        time.sleep(1)
        echoes = 0
        for name, inode in inodes.items():
            writer.stdin.write(f"stat {name}\n")
            writer.stdin.flush()
            echoes += writer.stdout.readline().strip() != inode
    finally:
        writer.kill()
        writer.wait()
    return {**summary(lags), "echoes": echoes}


def idle_cost(v: Variant, seconds: float) -> Figures:
    import psutil

    pids = v.watcher_pids()
    if not pids:
        return {"idle_cpu_pct": None, "rss_mb": None}
    first = cpu_seconds(pids)
    time.sleep(seconds)
    rss = 0
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            rss += psutil.Process(pid).memory_info().rss
    return {
        "idle_cpu_pct": round((cpu_seconds(pids) - first) / seconds * 100, 2),
        "rss_mb": round(rss / 2**20, 1),
    }


def timed(argv: list[str], v: Variant) -> float | None:
    started = time.perf_counter()
    try:
        done = subprocess.run(
            argv, cwd=v.project, env=v.env, capture_output=True, timeout=60, check=False
        )
    except subprocess.TimeoutExpired:
        return None
    took = (time.perf_counter() - started) * 1000
    return took if done.returncode == 0 else None


def cli(v: Variant, runs: int) -> dict[str, Figures]:
    """Medians of interleaved runs (every command sees the same load); a failed run is
    counted, never timed."""
    commands = {
        CLI_SHELL: [*DEVBOX, "shell", "--", "true"],
        CLI_COMPOSE_EXEC: ["docker", "compose", "exec", "-T", SERVICE, "true"],
        CLI_DOCKER_EXEC: ["docker", "exec", v.container, "true"],
        CLI_HELP: [*DEVBOX, "--help"],
        CLI_STATUS: [*DEVBOX, "status"],
    }
    times: dict[str, list[float]] = {k: [] for k in commands}
    failed = dict.fromkeys(commands, 0)
    for _ in range(runs):
        for key, argv in commands.items():
            took = timed(argv, v)
            if took is None:
                failed[key] += 1
            else:
                times[key].append(took)
    return {
        key: {
            "median_ms": round(statistics.median(t), 1) if t else None,
            "runs": len(t),
            "failed": failed[key],
        }
        for key, t in times.items()
    }


def big_tree(root: Path, folders: int, per: int) -> Figures:
    """Start-up time and memory of devbox's watcher on a large project, in a fresh process."""
    tree = root / f"{RUN_ID}-bigtree"
    for d in range(folders):
        sub = tree / f"pkg{d // 100}" / f"mod{d}"
        sub.mkdir(parents=True)
        for f in range(per):
            (sub / f"f{f}.py").write_text("x = 1\n")
    script = (
        "import time, resource, sys\n"
        "from pathlib import Path\n"
        "from devbox.sync.batcher import Batcher\n"
        "from devbox.sync.watcher import ProjectWatcher\n"
        "t = time.perf_counter()\n"
        "with ProjectWatcher(Path(sys.argv[1]), skip=lambda p: False, batcher=Batcher(),"
        " on_warning=print) as w:\n"
        "    took = time.perf_counter() - t\n"
        "    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "    print(took, rss, w.watched_folders)\n"
    )
    try:
        out = sh([sys.executable, "-c", script, str(tree)], REPO, timeout=120).stdout.split()
    finally:
        shutil.rmtree(tree)
    if len(out) < 3:
        return {"files": folders * per, "start_s": None, "rss_mb": None}
    return {
        "files": folders * per,
        "start_s": round(float(out[-3]), 2),
        "rss_mb": round(float(out[-2]), 1),
        "folders": int(out[-1]),
    }


def images(root: Path, prepared: Dependency | None) -> Figures:
    """Dev and prod sizes; dev rebuilds after a source edit and after a dependency change."""
    v = Variant("images", root, None)
    dev, prod = f"{v.name}-{SERVICE}", f"{v.name}-prod"

    def build(what: str) -> float:
        log(f"  docker compose build {SERVICE} ({what}; up to 600 s)")
        started = time.monotonic()
        sh(["docker", "compose", "build", SERVICE], v.project, env=v.env, timeout=600, check=True)
        return round(time.monotonic() - started, 1)

    def size(tag: str) -> float | None:
        out = v.docker("image", "inspect", "-f", "{{.Size}}", tag).stdout.strip()
        return round(int(out) / 1e6, 1) if out.isdigit() else None

    try:
        first = build("first build, warm cache")
        (v.project / "src/sample_app/touched.py").write_text(f"# {time.time()}\n")
        source = build("after a source-only edit")
        log("  docker build --target prod (up to 600 s)")
        sh(
            ["docker", "build", "--target", "prod", "-t", prod, "."],
            v.project,
            env=v.env,
            timeout=600,
            check=True,
        )
        figures: Figures = {
            "dev_mb": size(dev),
            "prod_mb": size(prod),
            "first_build_s": first,
            "rebuild_after_source_edit_s": source,
            "rebuild_after_dependency_change_s": None,
        }
        if prepared is not None:
            prepared.apply(v.project)
            figures["rebuild_after_dependency_change_s"] = build(f"after adding {NEW_DEPENDENCY}")
        return figures
    finally:
        v.docker("image", "rm", "--force", dev, prod)


# --- the run ----------------------------------------------------------------------------


def remote_ready(env: dict[str, str]) -> str | None:
    """None when the second engine answers and has the base images (loaded like
    scripts/provision-extra does); else why the variant is skipped."""
    host = env.get("DOCKER_HOST", "")
    try:
        if sh(["docker", "info"], REPO, env=env, timeout=15).returncode != 0:
            return f"the second engine at {host} does not answer (run scripts/provision-extra)"
        for image in BASE_IMAGES:
            if sh(["docker", "image", "inspect", image], REPO, env=env, timeout=30).returncode == 0:
                continue
            log(f"  loading {image} into the second engine (up to 300 s)")
            save = subprocess.Popen(["docker", "save", image], stdout=subprocess.PIPE)
            load = subprocess.run(
                ["docker", "load", "-q"],
                stdin=save.stdout,
                env=env,
                capture_output=True,
                timeout=300,
                check=False,
            )
            save.wait(timeout=60)
            if load.returncode != 0:
                return f"could not load {image} into {host}"
    except (BenchError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    return None


@dataclass(frozen=True)
class Sizes:
    """How much of each scenario a run does (`--quick` is a reduced run)."""

    quick: bool
    saves: int
    every: float
    stream_s: float
    burst_files: int
    idle_s: float
    cli_runs: int
    dependency_timeout: float

    @classmethod
    def of(cls, quick: bool) -> "Sizes":
        if quick:
            return cls(True, 6, 1.0, 3.0, 500, 3.0, 3, 240)
        return cls(False, 30, 1.0, 10.0, 2000, 60.0, 10, 600)


def scenarios_of(key: str, scenarios: list[str], sizes: Sizes) -> list[str]:
    """The scenarios a variant runs: the remote engine serves edit latency (and the burst in
    a full run); the CLI is measured on the watch path only."""
    wanted = [s for s in scenarios if s in PER_VARIANT]
    if key not in COPY_VARIANTS:
        wanted = [s for s in wanted if s != "writeback"]
    if key == "copy_remote":
        wanted = [s for s in wanted if s in REMOTE_SCENARIOS and (s != "burst" or not sizes.quick)]
    if key == "devbox_watch" and "cli" in scenarios:
        wanted.append("cli")
    return wanted


def start_variant(
    key: str, root: Path, scenarios: list[str], prepared: Dependency | None, results: Results
) -> Variant | None:
    """A variant up and watching, or None (its scenarios then report why)."""
    label = VARIANTS[key]
    v: Variant | None = None
    try:
        if key == "copy_remote":
            host = os.environ.get("DEVBOX_REMOTE_DOCKER_HOST", "unix:///var/run/docker-remote.sock")
            why = remote_ready({**os.environ, "DOCKER_HOST": host, "DOCKER_CONTEXT": ""})
            if why:
                raise BenchError(f"skipped: {why}")
        log(f"[{label}] starting")
        v = Variant(key, root, prepared)
        v.up_s = v.up()
        log(f"[{label}] up in {v.up_s:.1f} s")
        return v
    except BenchError as exc:
        log(f"[{label}] failed: {exc}")
        for s in scenarios:
            if s != "cli":
                results[s][key] = {"error": str(exc)}
        if v is not None:
            v.down()
        return None


def measure_variant(
    v: Variant, scenarios: list[str], sizes: Sizes, prepared: Dependency | None, results: Results
) -> None:
    key, label = v.key, v.label
    steps: dict[str, Callable[[], Figures]] = {
        "watcher": lambda: {"up_s": round(v.up_s, 1), **idle_cost(v, sizes.idle_s)},
        "edit_latency": lambda: edit_latency(v, sizes.saves, sizes.every),
        "continuous": lambda: continuous(v, sizes.stream_s),
        "burst": lambda: burst(v, sizes.burst_files),
        "writeback": lambda: write_back(v, sizes.saves),
    }
    if prepared is not None:
        steps["dependency_change"] = lambda: dependency_change(
            v, prepared, sizes.dependency_timeout, 3.0 if sizes.quick else 6.0
        )
    for scenario in PER_VARIANT:
        if scenario not in scenarios:
            continue
        log(f"[{label}] {scenario}")
        step = steps.get(scenario)
        try:
            v.container = v.find_container() or v.container  # a rebuild replaces it
            if step is None:
                raise BenchError("no lock with the new dependency (see the log)")
            figures = step()
        except BenchError as exc:
            log(f"[{label}] {scenario} failed: {exc}")
            figures = {"error": str(exc)}
        results[scenario].setdefault(key, {}).update(figures)
    burst_cpu = results.get("burst", {}).get(key, {}).get("watcher_cpu_s")
    if burst_cpu is not None and key in results.get("watcher", {}):
        results["watcher"][key]["burst_cpu_s"] = burst_cpu
    if "cli" in scenarios:
        log(f"[{label}] cli ({sizes.cli_runs} interleaved runs)")
        results["cli"].update(cli(v, sizes.cli_runs))


def run(sizes: Sizes, scenarios: list[str], variants: list[str]) -> Results:
    """Every chosen variant through its scenarios, one variant measured at a time.

    A full run starts, measures and stops one variant after the other. `--quick` starts
    them side by side and stops them side by side (their builds overlap), and still
    measures one at a time while the others sit idle.
    """
    results: Results = {s: {} for s in SCENARIOS if s in scenarios}
    with tempfile.TemporaryDirectory(prefix="devbox-bench-") as tmp:
        root = Path(tmp)
        prepared: Dependency | None = None
        if "dependency_change" in scenarios or "images" in scenarios:
            try:
                prepared = Dependency(root)
            except BenchError as exc:
                log(f"dependency change not measured: {exc}")
        plans = {k: w for k in variants if (w := scenarios_of(k, scenarios, sizes))}
        if "cli" in scenarios and "devbox_watch" not in plans:
            plans["devbox_watch"] = ["cli"]  # the CLI needs a session on the watch path
        if sizes.quick:
            with ThreadPoolExecutor(max_workers=len(plans) or 1) as pool:
                started = dict(
                    zip(
                        plans,
                        pool.map(
                            lambda k: start_variant(k, root, plans[k], prepared, results), plans
                        ),
                        strict=True,
                    )
                )
            try:
                for key, v in started.items():
                    if v is not None:
                        measure_variant(v, plans[key], sizes, prepared, results)
            finally:
                with ThreadPoolExecutor(max_workers=len(plans) or 1) as pool:
                    list(pool.map(lambda v: v.down(), [v for v in started.values() if v]))
        else:
            for key, wanted in plans.items():
                v = start_variant(key, root, wanted, prepared, results)
                if v is None:
                    continue
                try:
                    measure_variant(v, wanted, sizes, prepared, results)
                finally:
                    v.down()
        if "watcher" in scenarios:
            log("[devbox watcher, 20,000 files] start-up and memory")
            try:
                results["watcher"]["devbox_20000_files"] = big_tree(root, 2000, 10)
            except BenchError as exc:
                results["watcher"]["devbox_20000_files"] = {"error": str(exc)}
        if "images" in scenarios:
            log("[images] sizes and rebuilds")
            try:
                results["images"]["sample"] = images(root, prepared)
            except BenchError as exc:
                results["images"]["sample"] = {"error": str(exc)}
    add_ratios(results)
    return results


def with_bytecode() -> None:
    """devbox runs as an installed tool does, from compiled bytecode: without it (a
    PYTHONDONTWRITEBYTECODE environment, a fresh `uv sync`) every start compiles typer and
    click again, which no user's second run pays."""
    import compileall

    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    for folder in {str(Path(p)) for p in sys.path if p.endswith("site-packages")} | {
        str(REPO / "devbox")
    }:
        compileall.compile_dir(folder, quiet=2)


def machine() -> str:
    def out(*argv: str) -> str:
        with contextlib.suppress(BenchError):
            return sh(list(argv), REPO, timeout=30).stdout.strip()
        return "?"

    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "?"
    with contextlib.suppress(OSError, ValueError, IndexError):
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kb / 2**20:.1f} GiB RAM"
    return (
        f"{platform.system()} {platform.release()}, {os.cpu_count()} CPUs ({cpu}), {memory}, "
        f"Docker engine {out('docker', 'version', '-f', '{{.Server.Version}}')}, "
        f"Compose {out('docker', 'compose', 'version', '--short')}, "
        f"Python {platform.python_version()} (devbox from compiled bytecode)"
    )


def split(value: str, known: dict[str, str], what: str) -> list[str]:
    chosen = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [v for v in chosen if v not in known]
    if unknown:
        raise SystemExit(
            f"bench/run.py: unknown {what} {', '.join(unknown)}; choose from {', '.join(known)}"
        )
    return [k for k in known if k in chosen]  # the run's own order


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # a `timeout` or a kill: the finally blocks stop every variant


def main() -> None:
    signal.signal(signal.SIGTERM, _interrupted)
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a reduced run, under 3 minutes")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--only",
        default=",".join(SCENARIOS),
        help="scenarios, comma-separated: " + ", ".join(SCENARIOS),
    )
    parser.add_argument(
        "--variants", default=",".join(VARIANTS), help="comma-separated: " + ", ".join(VARIANTS)
    )
    parser.add_argument("--no-write", action="store_true", help="leave docs/benchmarks.md as it is")
    args = parser.parse_args()
    with_bytecode()
    scenarios = split(args.only, SCENARIOS, "scenario")
    variants = split(args.variants, VARIANTS, "variant")
    if args.quick and args.only == parser.get_default("only"):
        scenarios = [s for s in scenarios if s != "images"]  # minutes of builds: ask with --only
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    described = machine()
    date = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    results = run(Sizes.of(args.quick), scenarios, variants)
    command = "uv run python bench/run.py" + "".join(
        f" {a}" for a in sys.argv[1:] if a not in ("--json", "--no-write")
    )
    meta = {
        "date": date,
        "kind": "`--quick`" if args.quick else "full",
        "wall": f"{time.monotonic() - STARTED:.0f} s",
        "machine": described,
        "load": f"{load} (1, 5, 15 min)",
        "command": command,
    }
    goals = evaluate(tuple(g for g in GOALS if g.scenario in results), results)
    text = markdown(results, meta, goals)
    if not args.no_write:
        (REPO / "docs/benchmarks.md").write_text(text)
        log("wrote docs/benchmarks.md")
    log(f"done in {time.monotonic() - STARTED:.0f} s")
    print(json.dumps(results, indent=2) if args.json else text)


if __name__ == "__main__":
    main()
