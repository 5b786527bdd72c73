"""devbox beside Compose watch, against the real engine: one command, one table.

    uv run python bench/run.py [--quick] [--json]      (after scripts/provision-engine)

Variants, in one run on one machine: Compose watch (`docker compose watch`), devbox's
fallback with a bind mount, devbox's fallback with copy sync, and devbox on the watch path.
A probe in the container reads the file in a tight loop and prints when it changes; host
and container share one clock, so save -> visible is measured end to end.
Writes docs/benchmarks.md (with the machine and the date); `--json` prints the figures.
"""

import argparse
import contextlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEVBOX = [sys.executable, "-m", "devbox"]
SERVICE = "sample-app"
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
    time.sleep(0.01)
"""

Figures = dict[str, Any]


def sh(
    argv: list[str], cwd: Path, *, check: bool = False, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=check, env=env)


def pct(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))]


def summary(ms: list[float]) -> Figures:
    if not ms:
        return {"p50_ms": None, "p95_ms": None, "max_ms": None, "n": 0}
    return {
        "p50_ms": round(statistics.median(ms), 1),
        "p95_ms": round(pct(ms, 0.95), 1),
        "max_ms": round(max(ms), 1),
        "n": len(ms),
    }


def atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.replace(path)


class Probe:
    """`docker exec -i <ctr> python3 -c PROBE <file>`: every change the container sees."""

    def __init__(self, container: str, path: str) -> None:
        self.seen: list[tuple[str, float]] = []
        self.child = subprocess.Popen(
            ["docker", "exec", "-i", container, "python3", "-u", "-c", PROBE, path],
            stdout=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
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


class Variant:
    """A running dev loop on its own copy of the sample project."""

    def __init__(self, key: str, label: str, root: Path) -> None:
        self.key, self.label = key, label
        self.project = root / f"bench-{key}"
        shutil.copytree(
            REPO / "sample_project",
            self.project,
            ignore=shutil.ignore_patterns(".venv", "Dockerfile", ".dockerignore", "compose.yaml"),
        )
        sh([*DEVBOX, "init"], self.project, check=True)
        compose = self.project / "compose.yaml"
        compose.write_text(compose.read_text().replace("127.0.0.1:8000:8000", "127.0.0.1::8000"))
        self.child: subprocess.Popen[bytes] | None = None
        self.container = ""

    def up(self) -> float:
        started = time.time()
        if self.key == "compose":
            self.child = subprocess.Popen(
                ["docker", "compose", "watch"],
                cwd=self.project,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        else:
            args = {
                "bind": ["--mode", "fallback", "--sync", "bind"],
                "copy": ["--mode", "fallback", "--sync", "copy"],
                "devbox_watch": ["--mode", "watch"],
            }[self.key]
            done = sh([*DEVBOX, "up", "--detach", *args], self.project)
            if done.returncode != 0:
                raise SystemExit(f"{self.label}: devbox up failed:\n{done.stdout}{done.stderr}")
        deadline = time.time() + 600
        while time.time() < deadline:
            found = sh(["docker", "compose", "ps", "-q", SERVICE], self.project).stdout.split()
            if not found:
                found = sh(
                    ["docker", "ps", "-q", "--filter", f"name=devbox-{self.project.name}"],
                    self.project,
                ).stdout.split()
            if found:
                self.container = found[0]
                break
            time.sleep(0.5)
        else:
            raise SystemExit(f"{self.label}: no container")
        time.sleep(3)  # let the watcher settle (Compose's initial sync, devbox's first scan)
        return time.time() - started

    def pid(self) -> int | None:
        if self.child is not None:
            return self.child.pid
        with contextlib.suppress(OSError, ValueError):
            return int(json.loads((self.project / ".devbox/state.json").read_text())["pid"])
        return None

    def batches(self) -> int | None:
        if self.key == "compose":
            return None
        with contextlib.suppress(OSError, ValueError):
            data = json.loads((self.project / ".devbox/state.json").read_text())
            return len(data.get("latencies", []))
        return None

    def down(self) -> None:
        if self.child is not None:
            self.child.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.child.wait(timeout=20)
            sh(["docker", "compose", "down", "--volumes", "--rmi", "local"], self.project)
        else:
            sh([*DEVBOX, "down"], self.project)


def edit_latency(v: Variant, saves: int, every: float) -> Figures:
    target = v.project / "src/sample_app/edited.py"
    atomic_write(target, "start\n")
    time.sleep(2)
    probe = Probe(v.container, "/app/src/sample_app/edited.py")
    ms = []
    try:
        for i in range(saves):
            token = f"save-{i}"
            saved = time.time()
            atomic_write(target, f"{token}\n# padding\n")
            time.sleep(every)
            seen = probe.first(token)
            if seen is not None:
                ms.append((seen - saved) * 1000)
        time.sleep(2)
    finally:
        probe.close()
    return {**summary(ms), "missed": saves - len(ms)}


def continuous(v: Variant, seconds: float) -> Figures:
    target = v.project / "src/sample_app/stream.py"
    atomic_write(target, "w--1\n")
    time.sleep(2)
    probe = Probe(v.container, "/app/src/sample_app/stream.py")
    writes: list[float] = []
    try:
        end = time.time() + seconds
        while time.time() < end:
            writes.append(time.time())
            atomic_write(target, f"w-{len(writes) - 1}\n")
            time.sleep(0.1)
        time.sleep(3.0)
    finally:
        probe.close()
    # The lag at write i: until the container shows version i or later.
    versions = [(int(t[2:]), at) for t, at in probe.seen if t.startswith("w-") and t != "w--1"]
    lags = []
    for i, wrote in enumerate(writes):
        shown = [at for n, at in versions if n >= i and at >= wrote]
        lags.append(((min(shown) if shown else time.time()) - wrote) * 1000)
    return {"max_lag_ms": round(max(lags), 1), "p50_lag_ms": round(statistics.median(lags), 1)}


def burst(v: Variant, files: int) -> Figures:
    root = v.project / "src/burst"
    before = v.batches() or 0
    check = subprocess.Popen(
        ["docker", "exec", v.container, "python3", "-c", BURST_CHECK, str(files), "120"],
        stdout=subprocess.PIPE,
        text=True,
    )
    time.sleep(1.5)
    started = time.time()
    for i in range(files):
        path = root / f"d{i // 10}" / f"f{i}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"v1 {i}")
    for i in range(files):
        (root / f"d{i // 10}" / f"f{i}.txt").write_text(f"v2 {i}")
    out, _ = check.communicate()
    done, bad, seen = out.split()
    time.sleep(1)
    after = v.batches()
    return {
        "seconds": round(float(done) - started, 2),
        "missed_or_stale": int(bad) if int(bad) else 0,
        "files_seen": int(seen),
        "batches": None if after is None else after - before,
    }


def cpu_idle(v: Variant, seconds: float) -> Figures:
    import psutil

    pid = v.pid()
    if pid is None:
        return {"idle_cpu_pct": None}
    procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]

    def total() -> float:
        cpu = 0.0
        for p in procs:
            with contextlib.suppress(psutil.Error):
                t = p.cpu_times()
                cpu += t.user + t.system
        return cpu

    first = total()
    time.sleep(seconds)
    rss = 0
    for p in procs:
        with contextlib.suppress(psutil.Error):
            rss += p.memory_info().rss
    return {
        "idle_cpu_pct": round((total() - first) / seconds * 100, 2),
        "rss_mb": round(rss / 2**20, 1),
    }


def timed(argv: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(argv, cwd=cwd, capture_output=True, check=False)
    return (time.perf_counter() - started) * 1000


def cli(v: Variant, runs: int) -> Figures:
    commands = {
        "devbox shell -- true": [*DEVBOX, "shell", "--", "true"],
        "docker compose exec -T": ["docker", "compose", "exec", "-T", SERVICE, "true"],
        "docker exec": ["docker", "exec", v.container, "true"],
        "devbox --help": [*DEVBOX, "--help"],
        "devbox status": [*DEVBOX, "status"],
    }
    times: dict[str, list[float]] = {k: [] for k in commands}
    for _ in range(runs):  # interleaved: every command sees the same load
        for key, argv in commands.items():
            times[key].append(timed(argv, v.project))
    figures: Figures = {k: round(statistics.median(t), 1) for k, t in times.items()}
    compose_exec = figures["docker compose exec -T"]
    figures["shell_to_compose_exec"] = round(figures["devbox shell -- true"] / compose_exec, 2)
    return figures


def big_tree(root: Path, folders: int, per: int) -> Figures:
    """Start-up time and memory of devbox's watcher on a large project, in a fresh process."""
    tree = root / "bigtree"
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
    out = sh([sys.executable, "-c", script, str(tree)], REPO).stdout.split()
    shutil.rmtree(tree)
    if len(out) < 3:
        return {"start_s": None, "rss_mb": None}
    return {
        "files": folders * per,
        "start_s": round(float(out[0]), 2),
        "rss_mb": round(float(out[1]), 1),
        "folders": int(out[2]),
    }


def images(v: Variant) -> Figures:
    def size(tag: str) -> float | None:
        out = sh(["docker", "image", "inspect", "-f", "{{.Size}}", tag], v.project).stdout.strip()
        return round(int(out) / 1e6, 1) if out.isdigit() else None

    dev = f"{v.project.name}-{SERVICE}"
    (v.project / "src/sample_app/touched.py").write_text(f"# {time.time()}\n")
    started = time.time()
    buildkit = {**os.environ, "DOCKER_BUILDKIT": "1"}
    sh(["docker", "compose", "build", SERVICE], v.project, env=buildkit)
    rebuild = time.time() - started
    prod = f"devbox-bench-prod-{os.getpid()}"
    sh(
        ["docker", "build", "--target", "prod", "-t", prod, "."],
        v.project,
        env={**os.environ, "DOCKER_BUILDKIT": "1"},
    )
    figures = {
        "dev_mb": size(dev),
        "prod_mb": size(prod),
        "rebuild_after_source_edit_s": round(rebuild, 1),
        "rebuild_after_dependency_change_s": "not measured",
    }
    sh(["docker", "image", "rm", prod], v.project)
    return figures


VARIANTS = {
    "compose": "Compose watch 2.40.3",
    "bind": "devbox fallback bind",
    "copy": "devbox fallback copy",
    "devbox_watch": "devbox on the watch path",
}


def ratios(results: dict[str, dict[str, Figures]]) -> None:
    """Each variant's figures divided by Compose watch's, beside them."""
    for scenario in results.values():
        base = scenario.get("compose")
        if not isinstance(base, dict):
            continue
        for variant in scenario.values():
            if not isinstance(variant, dict):
                continue
            variant["ratio_to_compose"] = {
                k: round(variant[k] / base[k], 3)
                for k in variant
                if k in base and _number(variant[k]) and _number(base[k]) and base[k] > 0
                if k not in ("n", "missed", "files", "folders", "files_seen", "missed_or_stale")
            }


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def run(quick: bool, only: list[str]) -> dict[str, Any]:
    results: dict[str, dict[str, Figures]] = {
        k: {}
        for k in ("edit_latency", "burst", "continuous", "dependency_change", "cli", "watcher")
    }
    results["images"] = {}
    saves, every = (10, 0.5) if quick else (30, 1.0)
    seconds = 4.0 if quick else 10.0
    files = 2000
    idle = 10.0 if quick else 60.0
    with tempfile.TemporaryDirectory(prefix="devbox-bench-") as tmp:
        for key in only:
            v = Variant(key, VARIANTS[key], Path(tmp))
            print(f"[{VARIANTS[key]}] starting", file=sys.stderr, flush=True)
            try:
                start = v.up()
                results["watcher"][key] = {"up_s": round(start, 1), **cpu_idle(v, idle)}
                print(f"[{VARIANTS[key]}] edit latency", file=sys.stderr, flush=True)
                results["edit_latency"][key] = edit_latency(v, saves, every)
                print(f"[{VARIANTS[key]}] continuous", file=sys.stderr, flush=True)
                results["continuous"][key] = continuous(v, seconds)
                print(f"[{VARIANTS[key]}] burst", file=sys.stderr, flush=True)
                results["burst"][key] = burst(v, files)
                results["dependency_change"][key] = {"status": "not measured"}
                if key in ("compose", "copy"):
                    results["cli"][key] = cli(v, 3 if quick else 10)
                if key == "compose" and not quick:
                    results["images"]["sample"] = images(v)
            finally:
                v.down()
        results["watcher"]["devbox_20000_files"] = big_tree(Path(tmp), 2000, 10)
    ratios(results)
    if quick:
        results["images"].setdefault("sample", {"status": "not measured in --quick"})
    return results


def machine() -> str:
    cpus = os.cpu_count()
    docker = subprocess.run(
        ["docker", "version", "-f", "{{.Server.Version}}"], capture_output=True, text=True
    ).stdout.strip()
    compose = subprocess.run(
        ["docker", "compose", "version", "--short"], capture_output=True, text=True
    ).stdout.strip()
    load = os.getloadavg()[0]
    return (
        f"{platform.system()} {platform.release()}, {cpus} CPUs, Docker engine {docker}, "
        f"Compose {compose}, Python {platform.python_version()}, load average {load:.1f} at start"
    )


def markdown(results: dict[str, Any], quick: bool, described: str) -> str:
    lines = [
        "# Benchmarks: devbox beside Compose watch",
        "",
        f"Run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {'`--quick`' if quick else 'full'} run. ",
        f"Machine: {described}.",
        "",
        "Reproduce: `uv run python bench/run.py` (`--quick` for a reduced run, `--json` for "
        "the figures). Ratios are to Compose watch (lower is better).",
        "",
    ]
    for scenario, variants in results.items():
        lines += [f"## {scenario.replace('_', ' ')}", ""]
        for key, figures in variants.items():
            label = VARIANTS.get(key, key)
            if not isinstance(figures, dict):
                continue
            shown = ", ".join(f"{k} {v}" for k, v in figures.items() if k != "ratio_to_compose")
            ratio = figures.get("ratio_to_compose")
            extra = (
                f" — ratio to Compose: {', '.join(f'{k} {r}' for k, r in ratio.items())}"
                if ratio and key != "compose"
                else ""
            )
            lines.append(f"- **{label}**: {shown}{extra}")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a reduced run, under 3 minutes")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated")
    parser.add_argument("--no-write", action="store_true", help="leave docs/benchmarks.md")
    args = parser.parse_args()
    described = machine()
    results = run(args.quick, [v for v in args.variants.split(",") if v])
    if not args.no_write:
        (REPO / "docs/benchmarks.md").write_text(markdown(results, args.quick, described))
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(markdown(results, args.quick, described))


if __name__ == "__main__":
    main()
