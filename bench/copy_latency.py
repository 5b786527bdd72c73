"""Copy sync's latency alone: `devbox up --sync copy` on a copy of sample_project.

    uv run python bench/copy_latency.py [--saves 30] [--seconds 10] [--files 2000] [--json]

A probe in the container reads a file in a tight loop and prints each change with the
time (host and container share one clock), so save -> visible is end to end. The session
runs with DEVBOX_SYNC_TRACE, so each scenario also reports its batches and where their
time went (first event -> flushed -> planned -> stream written -> acked, medians in ms).
"""

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.report import percentile as pct  # noqa: E402
from bench.run import BURST_CHECK, PROBE, atomic_write  # noqa: E402 (bench/run.py's probes)
from tests.support import NOT_OF_SAMPLE  # noqa: E402

DEVBOX = [sys.executable, "-m", "devbox"]


def sh(argv: list[str], cwd: Path, **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False, **kw)


class Probe:
    def __init__(self, container: str, path: str) -> None:
        self.seen: list[tuple[str, float]] = []
        self.child = subprocess.Popen(
            ["docker", "exec", "-i", container, "python3", "-u", "-c", PROBE, path],
            stdout=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.time() + 20
        while not self.seen and time.time() < deadline:
            time.sleep(0.02)

    def _read(self) -> None:
        assert self.child.stdout is not None
        for line in self.child.stdout:
            token, _, at = line.strip().rpartition(" ")
            self.seen.append((token, float(at)))

    def first(self, token: str) -> float | None:
        return next((at for t, at in self.seen if t == token), None)

    def close(self) -> None:
        self.child.kill()
        self.child.wait()


class Trace:
    """The session's DEVBOX_SYNC_TRACE lines, read per scenario."""

    def __init__(self, path: Path) -> None:
        self.path, self.offset = path, 0

    def since_last(self) -> dict[str, Any]:
        text = self.path.read_text() if self.path.exists() else ""
        lines = [json.loads(x) for x in text[self.offset :].splitlines() if x.strip()]
        self.offset = len(text)
        phases: dict[str, list[float]] = {"wait": [], "plan": [], "stream": [], "ack": []}
        for b in lines:
            if b.get("first") is None:
                continue
            phases["wait"].append((b["taken"] - b["first"]) * 1000)
            phases["plan"].append((b["planned"] - b["taken"]) * 1000)
            if b.get("written"):
                phases["stream"].append((b["written"] - b["planned"]) * 1000)
                phases["ack"].append((b["acked"] - b["written"]) * 1000)
        per_batch = [
            [b["paths"]]
            + [
                round((b[end] - b[start]) * 1000)
                for start, end in (("first", "taken"), ("taken", "planned"))
            ]
            + (
                [
                    round((b["written"] - b["planned"]) * 1000),
                    round((b["acked"] - b["written"]) * 1000),
                ]
                if b.get("written")
                else []
            )
            for b in lines
            if b.get("first") is not None
        ]
        return {
            "per_batch_paths_wait_plan_stream_ack_ms": per_batch[:10],
            "batches": len(lines),
            "largest": max((b["paths"] for b in lines), default=0),
            **{f"{k}_p50_ms": round(statistics.median(v), 1) for k, v in phases.items() if v},
            **{f"{k}_max_ms": round(max(v), 1) for k, v in phases.items() if v},
        }


def edit_latency(project: Path, container: str, saves: int, every: float) -> dict[str, Any]:
    target = project / "src/sample_app/edited.py"
    atomic_write(target, "start\n")
    time.sleep(1)
    probe = Probe(container, "/app/src/sample_app/edited.py")
    saved: list[float] = []
    try:
        for i in range(saves):
            saved.append(time.time())
            atomic_write(target, f"save-{i}\n# padding\n")
            time.sleep(every)
        time.sleep(2)
    finally:
        probe.close()
    ms = []
    for i, at in enumerate(saved):
        seen = probe.first(f"save-{i}")
        if seen is not None:
            ms.append((seen - at) * 1000)
    return {
        "p50_ms": round(statistics.median(ms), 1) if ms else None,
        "p95_ms": round(pct(ms, 0.95), 1) if ms else None,
        "max_ms": round(max(ms), 1) if ms else None,
        "missed": saves - len(ms),
    }


def continuous(project: Path, container: str, seconds: float) -> dict[str, Any]:
    target = project / "src/sample_app/stream.py"
    atomic_write(target, "w--1\n")
    time.sleep(1)
    probe = Probe(container, "/app/src/sample_app/stream.py")
    writes: list[float] = []
    try:
        end = time.time() + seconds
        while time.time() < end:
            writes.append(time.time())
            atomic_write(target, f"w-{len(writes) - 1}\n")
            time.sleep(0.1)
        time.sleep(2)
    finally:
        probe.close()
    versions = [(int(t[2:]), at) for t, at in probe.seen if t.startswith("w-") and t != "w--1"]
    lags = []
    for i, wrote in enumerate(writes):
        shown = [at for n, at in versions if n >= i and at >= wrote]
        lags.append(((min(shown) if shown else time.time()) - wrote) * 1000)
    return {"max_lag_ms": round(max(lags), 1), "p50_lag_ms": round(statistics.median(lags), 1)}


def burst(project: Path, container: str, files: int) -> dict[str, Any]:
    root = project / "src/burst"
    check = subprocess.Popen(
        ["docker", "exec", container, "python3", "-u", "-c", BURST_CHECK, str(files), "120"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert check.stdout is not None
    check.stdout.readline()  # ready
    started = time.time()
    for i in range(files):
        path = root / f"d{i // 10}" / f"f{i}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"v1 {i}")
    for i in range(files):
        (root / f"d{i // 10}" / f"f{i}.txt").write_text(f"v2 {i}")
    written = time.time()
    out, _ = check.communicate()
    done, bad, seen = out.split()
    time.sleep(1)
    return {
        "seconds": round(float(done) - started, 3),
        "host_writes_s": round(written - started, 3),
        "missed_or_stale": int(bad),
        "files_seen": int(seen),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=30)
    parser.add_argument("--every", type=float, default=0.5)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--only", default="edit,continuous,burst")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--compose", action="store_true", help="measure Compose watch instead")
    args = parser.parse_args()
    results: dict[str, Any] = {"load_average": [round(x, 2) for x in os.getloadavg()]}
    with tempfile.TemporaryDirectory(prefix="devbox-copylat-") as tmp:
        project = Path(tmp) / f"copylat{os.getpid()}"  # a Compose project name of its own
        shutil.copytree(REPO / "sample_project", project, ignore=NOT_OF_SAMPLE)
        sh([*DEVBOX, "init"], project)
        compose = project / "compose.yaml"
        compose.write_text(compose.read_text().replace("127.0.0.1:8000:8000", "127.0.0.1::8000"))
        trace = Trace(Path(tmp) / "trace.jsonl")
        env = {**os.environ, "DEVBOX_SYNC_TRACE": str(trace.path)}
        watch: subprocess.Popen[bytes] | None = None
        if args.compose:  # the same scenarios against `docker compose watch`, for the ratio
            watch = subprocess.Popen(
                ["docker", "compose", "watch"],
                cwd=project,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        else:
            argv = [*DEVBOX, "up", "--detach", "--mode", "fallback", "--sync", "copy"]
            up = sh(argv, project, env=env)
            if up.returncode != 0:
                raise SystemExit(f"devbox up failed:\n{up.stdout}{up.stderr}")
        try:
            container = ""
            deadline = time.time() + 600
            while not container and time.time() < deadline:
                if watch is None:
                    container = json.loads((project / ".devbox/state.json").read_text())[
                        "container"
                    ]
                else:
                    ps = sh(["docker", "compose", "ps", "-q", "sample-app"], project)
                    container = ps.stdout.strip()
                    time.sleep(0.5)
            time.sleep(2)
            trace.since_last()
            for scenario in args.only.split(","):
                print(f"[{scenario}]", file=sys.stderr, flush=True)
                if scenario == "edit":
                    figures = edit_latency(project, container, args.saves, args.every)
                elif scenario == "continuous":
                    figures = continuous(project, container, args.seconds)
                else:
                    figures = burst(project, container, args.files)
                results[scenario] = (
                    figures if args.compose else {**figures, "trace": trace.since_last()}
                )
                if not args.json:
                    print(scenario, json.dumps(results[scenario]), flush=True)
        finally:
            if watch is None:
                sh([*DEVBOX, "down"], project)
            else:
                os.killpg(watch.pid, signal.SIGINT)
                try:
                    watch.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(watch.pid, signal.SIGKILL)
                sh(["docker", "compose", "down", "--volumes", "--rmi", "local"], project)
    results["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(results, indent=2) if args.json else results["load_average_after"])


if __name__ == "__main__":
    main()
