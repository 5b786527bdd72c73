"""The copy sync's receiver against the real engine: edits, deletes, nested folders, a
file replaced by a folder (and back), a 2,000-file burst, ownership as Compose's
copyUIDGID, and a new receiver after the container restarts. Correctness only."""

import dataclasses
import hashlib
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from devbox.engine.client import Engine
from devbox.project.compose import load_compose
from devbox.project.locate import locate
from devbox.runtime import process, state
from devbox.sync.batcher import Batcher
from devbox.sync.bind_or_copy import SyncMode
from devbox.sync.copy_stream import CopyStream
from devbox.sync.plan import current_copies
from devbox.sync.rules import WatchRule
from devbox.sync.service import DevService
from devbox.sync.transfer import RECEIVER, Receiver
from devbox.sync.watcher import ProjectWatcher
from tests.fakes import Said, session_record

pytestmark = pytest.mark.docker

IMAGE = "python:3.13-slim-trixie"
COMPOSE = """\
services:
  app:
    build: .
    develop:
      watch:
        - {action: sync, path: ./src, target: /app/src}
"""


def docker(*args: str) -> str:
    done = subprocess.run(["docker", *args], check=True, capture_output=True, text=True)
    return done.stdout


@pytest.fixture
def container() -> Iterator[str]:
    name = f"devbox-test-transfer-{uuid.uuid4().hex[:8]}"
    docker("run", "-d", "--name", name, "--user", "1000:1000", "--pull", "never", IMAGE,
           "sleep", "infinity")  # fmt: skip
    try:
        yield name
    finally:
        subprocess.run(["docker", "rm", "-f", name], check=False, capture_output=True)


@pytest.fixture
def session(tmp_path: Path, container: str) -> Iterator[DevService]:
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    (tmp_path / "src").mkdir()
    project = load_compose(locate(tmp_path))
    fallback = DevService(
        engine=Engine(project_dir=tmp_path, project_name=project.name),
        project=project,
        service=project.services["app"],
        compose_v2=True,
        sync=SyncMode.COPY,
        recorder=state.Recorder(tmp_path, session_record(os.getpid(), compose_project="t")),
        echo=Said(),
    )
    fallback.keeper.spec = dataclasses.replace(fallback.spec, name=container)
    docker(
        "exec", "-u", "0", container, "sh", "-c", "mkdir -p /app/src && chown 1000 /app /app/src"
    )
    try:
        yield fallback
    finally:
        assert fallback.stream is not None
        fallback.stream.close()


def stream(service: DevService) -> CopyStream:
    assert service.stream is not None  # copy sync
    return service.stream


def sync_all(session: DevService) -> None:
    session.copy(current_copies(session.rules))


def listing(container: str) -> str:
    script = (
        "import os\n"
        "for d, ds, fs in sorted(os.walk('/app/src')):\n"
        "    for f in sorted(fs):\n"
        "        p = os.path.join(d, f); st = os.lstat(p)\n"
        "        print(p, st.st_uid, open(p).read().strip() if not os.path.islink(p) else '->')\n"
        "    for x in sorted(ds):\n"
        "        print(os.path.join(d, x) + '/')\n"
    )
    return docker("exec", container, "python3", "-c", script)


def test_edits_deletes_nested_folders_and_type_changes(
    tmp_path: Path, session: DevService, container: str
) -> None:
    src = tmp_path / "src"
    (src / "pkg" / "deep").mkdir(parents=True)
    (src / "a.py").write_text("a1")
    (src / "pkg" / "deep" / "b.py").write_text("b1")
    (src / "thing").write_text("file")
    sync_all(session)
    (src / "a.py").write_text("a2")
    (src / "thing").unlink()
    (src / "thing").mkdir()
    (src / "thing" / "c.py").write_text("c1")
    (src / "pkg" / "deep" / "b.py").unlink()
    session.copy(
        {
            "/app/src/a.py": (session.rules.rules[0], src / "a.py"),
            "/app/src/thing": (session.rules.rules[0], src / "thing"),
        },
        {"/app/src/pkg/deep/b.py"},
    )
    assert listing(container).splitlines() == [
        "/app/src/a.py 1000 a2",
        "/app/src/pkg/",
        "/app/src/thing/",
        "/app/src/pkg/deep/",
        "/app/src/thing/c.py 1000 c1",
    ]
    # and a folder replaced by a file
    (src / "thing" / "c.py").unlink()
    (src / "thing").rmdir()
    (src / "thing").write_text("file again")
    session.copy({"/app/src/thing": (session.rules.rules[0], src / "thing")})
    assert "/app/src/thing 1000 file again" in listing(container).splitlines()
    assert stream(session).receiver is not None  # it all went through the stream, not docker cp
    assert not session.echo


def test_a_burst_of_2000_files_arrives_whole(
    tmp_path: Path, session: DevService, container: str
) -> None:
    rule: WatchRule = session.rules.rules[0]
    copies = {}
    for i in range(2000):
        path = tmp_path / "src" / f"d{i % 20}" / f"f{i}.txt"
        path.parent.mkdir(exist_ok=True)
        path.write_text(f"content {i}\n" * 20)
        copies[f"/app/src/d{i % 20}/f{i}.txt"] = (rule, path)
    session.copy(copies)
    check = (
        "import glob\n"
        "files = glob.glob('/app/src/d*/f*.txt')\n"
        "bad = [f for f in files if open(f).read() != "
        "'content %s\\n' % f.split('/f')[-1][:-4] * 20]\n"
        "print(len(files), len(bad))\n"
    )
    assert docker("exec", container, "python3", "-c", check).split() == ["2000", "0"]


def test_a_new_receiver_after_the_container_restarts(
    tmp_path: Path, session: DevService, container: str
) -> None:
    (tmp_path / "src" / "a.py").write_text("one")
    sync_all(session)
    first = stream(session).receiver
    docker("restart", "-t", "0", container)
    (tmp_path / "src" / "a.py").write_text("two")
    sync_all(session)
    assert stream(session).receiver is not None and stream(session).receiver is not first
    assert "/app/src/a.py 1000 two" in listing(container).splitlines()
    assert not session.echo


def test_without_python3_no_receiver_starts(tmp_path: Path) -> None:
    """An image without python3: the receiver says so instead of hanging."""
    name = f"devbox-test-transfer-{uuid.uuid4().hex[:8]}"
    engine = Engine(project_dir=tmp_path, project_name="t")
    docker("run", "-d", "--name", name, "--pull", "never", IMAGE, "sleep", "infinity")
    try:
        argv = engine.exec_cmd(name, ["no-such-python3", "-u", "-c", RECEIVER], ["-i"])
        with pytest.raises(Exception, match="did not start"):
            Receiver(process.start(argv, stdin=process.PIPE, stdout=process.PIPE))
    finally:
        subprocess.run(["docker", "rm", "-f", name], check=False, capture_output=True)


def test_a_write_right_after_the_receiver_starts_comes_back(tmp_path: Path, container: str) -> None:
    """The receiver returns once the container's watches are set, so a file written the
    moment the session says it watches (a shell's migration, in a new folder) comes back
    (it could be missed under load while the watches were still being set)."""
    docker("exec", "-u", "0", container, "sh", "-c",
           "mkdir -p /app/src/a/b/c && chown -R 1000 /app")  # fmt: skip
    engine = Engine(project_dir=tmp_path, project_name="t")
    came: list[str] = []
    argv = engine.exec_cmd(container, ["python3", "-u", "-c", RECEIVER], ["-i"])
    child = process.start(argv, stdin=process.PIPE, stdout=process.PIPE)
    receiver = Receiver(child, watch={"/app/src"}, on_file=lambda name, *_: came.append(name))
    try:
        assert receiver.watching
        docker("exec", container, "sh", "-c",
               "mkdir /app/src/a/b/c/new && echo x > /app/src/a/b/c/new/m.py")  # fmt: skip
        deadline = time.monotonic() + 20
        while "/app/src/a/b/c/new/m.py" not in came and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "/app/src/a/b/c/new/m.py" in came
    finally:
        receiver.close()


def test_modes_times_links_long_and_non_ascii_names_and_a_big_file(
    tmp_path: Path, session: DevService, container: str
) -> None:
    """Entries the receiver's own tar reader must get right: a ustar header written by
    devbox, PAX headers (a long name, a non-ASCII one, a sub-second mtime), a link, a file
    over the spool limit."""
    src = tmp_path / "src"
    long_dir = src / ("d" * 60) / ("e" * 60)
    long_dir.mkdir(parents=True)
    (long_dir / "long.py").write_text("long")
    (src / "café.py").write_text("accent")
    (src / "run.sh").write_text("#!/bin/sh\n")
    (src / "run.sh").chmod(0o751)
    os.utime(src / "run.sh", (1_600_000_000, 1_600_000_000))
    (src / "fine.py").write_text("fine")  # two saves within a second must still differ
    os.utime(src / "fine.py", (1_600_000_000.25, 1_600_000_000.25))
    (src / "link").symlink_to("run.sh")
    big = os.urandom(3 << 20)
    (src / "big.bin").write_bytes(big)
    sync_all(session)
    script = (
        "import hashlib, os\n"
        "st = os.stat('/app/src/run.sh')\n"
        "print(oct(st.st_mode & 0o7777), int(st.st_mtime), os.readlink('/app/src/link'))\n"
        "print(os.stat('/app/src/fine.py').st_mtime)\n"
        f"print(open('/app/src/{'d' * 60}/{'e' * 60}/long.py').read())\n"
        "print(open('/app/src/café.py').read())\n"
        "print(hashlib.sha256(open('/app/src/big.bin', 'rb').read()).hexdigest())\n"
        "print(sorted(f for f in os.listdir('/app/src') if f.startswith('.devbox-sync')))\n"
    )
    assert docker("exec", container, "python3", "-c", script).splitlines() == [
        "0o751 1600000000 run.sh",
        "1600000000.25",
        "long",
        "accent",
        hashlib.sha256(big).hexdigest(),
        "[]",
    ]
    assert stream(session).receiver is not None
    assert not session.echo


BURST_STATE = """
import glob, os
files = glob.glob('/app/src/burst/d*/f*.txt')
bad = [f for f in files if open(f).read() != 'v2 ' + f.rsplit('/f', 1)[1][:-4]]
dirs = sorted(os.path.basename(d) for d in glob.glob('/app/src/burst/d*'))
print(len(files), len(bad), len(dirs), 'd0' in dirs)
"""


def test_a_burst_through_the_watcher_arrives_complete_and_current(
    tmp_path: Path, session: DevService, container: str
) -> None:
    """`git checkout`-like: 2,000 files created, all rewritten, then 100 of them and their
    folders deleted, watched and batched for real: every file ends with its last content,
    the deleted ones are gone, all through the one stream. (How many batches it takes
    depends on the machine: not asserted.)"""
    burst = tmp_path / "src" / "burst"
    batcher = Batcher(quiet=0.005, max_wait=0.2)
    with ProjectWatcher(tmp_path, skip=lambda d: False, batcher=batcher) as watcher:
        for i in range(2000):
            path = burst / f"d{i // 10}" / f"f{i}.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"v1 {i}")
        for i in range(2000):
            (burst / f"d{i // 10}" / f"f{i}.txt").write_text(f"v2 {i}")
        for i in range(100):
            (burst / f"d{i // 10}" / f"f{i}.txt").unlink()
        for d in range(10):
            (burst / f"d{d}").rmdir()
        deadline = time.monotonic() + 120
        found = ""
        for batch in watcher.batches(idle=0.5):
            if batch:
                session.handle(batch, first_event=batcher.taken_first)
            elif batcher.pending == 0:  # quiet: everything seen has been applied
                found = docker("exec", container, "python3", "-c", BURST_STATE).strip()
                if found == "1900 0 190 False" or time.monotonic() > deadline:
                    break
    assert found == "1900 0 190 False"
    assert stream(session).receiver is not None  # all through the stream, not docker cp
    assert isinstance(session.echo, Said)
    assert not [m for m, error in session.echo if error]
    assert len(session.recorder.record.latencies) >= 1  # each batch's save->applied recorded
