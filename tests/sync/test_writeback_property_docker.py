"""Random interleavings of host and container writes, renames and deletes on a small tree,
in copy sync with `writes-back = "all"`, against the real engine: however they
interleave, host and container end equal, every conflict devbox reported is kept beside
its file, and nothing is echoed into a loop.

Five seeded rounds of 200 operations each (1,000 in all) share one session; the
container's side runs through one long-lived `docker exec` so that both sides write as
fast as a tool would."""

import json
import random
import subprocess
import time
from pathlib import Path

import pytest

from tests.support import interrupt, start_devbox, wait_for

pytestmark = pytest.mark.docker

NAMES = ["a.txt", "b.txt", "c.txt", "sub/d.txt", "sub/e.txt"]
ROUNDS, OPS = 5, 200

# Runs in the container: one JSON operation per line, "done" after each.
WORKER = r"""
import json, os, sys
for line in sys.stdin:
    op = json.loads(line)
    path = '/app/data/' + op['path']
    try:
        if op['op'] == 'write':
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, 'w') as f:
                f.write(op['data'])
        elif op['op'] == 'delete':
            os.unlink(path)
        elif op['op'] == 'rename':
            os.makedirs(os.path.dirname('/app/data/' + op['to']), exist_ok=True)
            os.rename(path, '/app/data/' + op['to'])
    except OSError:
        pass
    print('done', flush=True)
"""


def tree(files: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in files.items() if ".devbox-sync-" not in k}


def host_tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): p.read_text(errors="replace")
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.endswith(".devbox")
    }


def container_tree(container: str) -> dict[str, str]:
    script = (
        "import json, os\nout = {}\n"
        "for d, _, fs in os.walk('/app/data'):\n"
        "    for f in fs:\n"
        "        p = os.path.join(d, f)\n"
        "        out[os.path.relpath(p, '/app/data')] = open(p, errors='replace').read()\n"
        "print(json.dumps(out))\n"
    )
    result = subprocess.run(
        ["docker", "exec", container, "python3", "-c", script],
        capture_output=True,
        text=True,
        check=True,
    )
    return tree(json.loads(result.stdout))


def host_op(root: Path, op: dict[str, str]) -> None:
    path = root / op["path"]
    try:
        if op["op"] == "write":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(op["data"])
        elif op["op"] == "delete":
            path.unlink()
        else:
            (root / op["to"]).parent.mkdir(parents=True, exist_ok=True)
            path.rename(root / op["to"])
    except OSError:
        pass


def test_random_interleavings_converge(
    initialized_sample: tuple[Path, int], compose_2_40: str, tmp_path: Path
) -> None:
    project, _ = initialized_sample
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text()
    pyproject.write_text(text.replace("[tool.devbox]\n", '[tool.devbox]\nwrites-back = "all"\n'))
    data = project / "data"
    data.mkdir()
    container = f"{project.name}-sample-app-1"
    log_path = tmp_path / "up.log"
    with log_path.open("wb") as log:
        up = start_devbox(["up", "--sync", "copy", "-C", str(project)], log=log)
    worker: subprocess.Popen[str] | None = None
    try:
        wait_for(lambda: "watching " in log_path.read_text(), timeout=180, what="the session")
        worker = subprocess.Popen(
            ["docker", "exec", "-i", container, "python3", "-u", "-c", WORKER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert worker.stdin is not None and worker.stdout is not None
        for seed in range(ROUNDS):
            rng = random.Random(seed)  # noqa: S311 (a test's reproducible sequence)
            for i in range(OPS):
                kind = rng.choice(["write", "write", "write", "delete", "rename"])
                op = {"op": kind, "path": rng.choice(NAMES), "data": f"{seed}-{i}\n"}
                if kind == "rename":
                    op["to"] = rng.choice(NAMES)
                if rng.random() < 0.5:
                    host_op(data, op)
                else:
                    worker.stdin.write(json.dumps(op) + "\n")
                    worker.stdin.flush()
                    assert worker.stdout.readline().strip() == "done"
                time.sleep(rng.choice([0, 0, 0.002, 0.01, 0.05]))

            def converged() -> bool:
                first = host_tree(data)
                time.sleep(0.5)  # nothing in flight: the same twice, and the same inside
                return first == host_tree(data) == container_tree(container)

            try:
                wait_for(converged, timeout=30, what=f"equal trees after round {seed}")
            except AssertionError:
                host, inside = host_tree(data), container_tree(container)
                differ = {k: (host.get(k), inside.get(k)) for k in {*host, *inside}}
                differ = {k: v for k, v in differ.items() if v[0] != v[1]}
                raise AssertionError(f"round {seed}: (host, container) differ: {differ}") from None
    finally:
        if worker is not None:
            worker.kill()
        code = interrupt(up)
    output = log_path.read_text()
    assert code == 130, output
    assert "Traceback" not in output
    assert "could not bring back" not in output, output
    # every conflict reported is kept beside its file (on the host, and synced in)
    reported = [line for line in output.splitlines() if "the container's is in " in line]
    for line in reported:
        kept = line.rsplit("the container's is in ", 1)[1].strip()
        assert (project / kept).is_file(), line
