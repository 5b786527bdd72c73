"""CLI overhead: `devbox shell -- true` beside `docker compose exec -T <service> true`.

Runs the sample project detached under Compose watch, times each command N times in one
run (interleaved, so both see the same machine load) and prints medians and their ratio.
Usage: uv run python bench/cli_overhead.py [-n 10]   (after scripts/provision-engine)
"""

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def timed(argv: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(argv, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=10)
    runs = parser.parse_args().n
    devbox = [sys.executable, "-m", "devbox"]
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "bench-cli"
        shutil.copytree(
            REPO / "sample_project",
            project,
            ignore=shutil.ignore_patterns(".venv", "Dockerfile", ".dockerignore", "compose.yaml"),
        )
        subprocess.run([*devbox, "init"], cwd=project, check=True, capture_output=True)
        compose = project / "compose.yaml"
        compose.write_text(compose.read_text().replace("127.0.0.1:8000:8000", "127.0.0.1::8000"))
        subprocess.run([*devbox, "up", "--detach"], cwd=project, check=True, capture_output=True)
        try:
            ours, theirs = [], []
            for _ in range(runs):
                ours.append(timed([*devbox, "shell", "--", "true"], project))
                theirs.append(
                    timed(["docker", "compose", "exec", "-T", "sample-app", "true"], project)
                )
        finally:
            subprocess.run([*devbox, "down"], cwd=project, check=False, capture_output=True)
    a, b = statistics.median(ours), statistics.median(theirs)
    print(f"devbox shell -- true              median {a * 1000:6.0f} ms over {runs}")
    print(f"docker compose exec -T svc true   median {b * 1000:6.0f} ms over {runs}")
    print(f"ratio devbox/compose              {a / b:6.2f}")


if __name__ == "__main__":
    main()
