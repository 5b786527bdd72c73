"""Copy sync through one long-lived receiver in the container, fed by a single stream.

`docker cp` costs a new CLI process and an engine archive call per batch (~60 ms here);
a receiver started once per container (`docker exec -i <ctr> python3 -c RECEIVER`) takes
each batch as frames on its stdin and acknowledges it on stdout, in a few milliseconds.
The stream goes through the engine API, so it works with a remote engine too.

Frames: one type byte and a 4-byte big-endian length, then the payload.
- `T`: a chunk of the batch's tar (the tar is streamed, never built whole in memory);
  an empty `T` ends the tar;
- `D`: NUL-separated container paths to remove (`rm -rf`, as Compose);
- `E`: end of batch; the receiver answers `ok\\n` or `err <why>\\n`.
The receiver writes `ready\\n` once it runs. It extracts with Compose's `copyUIDGID`
semantics: entries belong to the user the receiver runs as (the container's USER), not
to the host's numeric ids. Files are written to a temporary name and renamed, so a
reader in the container never sees half a file.
"""

import contextlib
import struct
import time
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import IO, TypeVar

from devbox.runtime import process
from devbox.sync.archive import write_tar

Rule = TypeVar("Rule")

CHUNK = 1 << 16
_HEADER = struct.Struct(">cI")

# Runs inside the container under any python3 >= 3.6: keep it small and self-contained.
RECEIVER = r"""
import os, shutil, stat, struct, sys, tarfile
inp, out = sys.stdin.buffer, sys.stdout.buffer
def read(n):
    data = b''
    while len(data) < n:
        part = inp.read(n - len(data))
        if not part:
            raise EOFError
        data += part
    return data
class Chunks:
    def __init__(self):
        self.buf, self.done = b'', False
    def read(self, n=-1):
        while not self.done and (n < 0 or len(self.buf) < n):
            kind, size = struct.unpack('>cI', read(5))
            if size == 0:
                self.done = True
            else:
                self.buf += read(size)
        n = len(self.buf) if n < 0 else n
        data, self.buf = self.buf[:n], self.buf[n:]
        return data
def clear(path, keep_dir):
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        if not keep_dir:
            shutil.rmtree(path)
    else:
        os.unlink(path)
def own(path, mode, mtime):
    # Created by this process, an entry already belongs to the receiver's user (the
    # container's USER, as copyUIDGID): only its mode and mtime come from the tar.
    os.chmod(path, mode)
    os.utime(path, (mtime, mtime))
known = set()
def parent_dir(parent):
    if parent in known:
        return
    if not os.path.isdir(parent):
        clear(parent, False)
        os.makedirs(parent, exist_ok=True)
    known.add(parent)
def extract(tar):
    dirs = []
    for m in tar:
        path = '/' + m.name.lstrip('/')
        parent = os.path.dirname(path)
        parent_dir(parent)
        if m.isdir():
            clear(path, True)
            if not os.path.isdir(path):
                os.mkdir(path, 0o700)
            known.add(path)
            dirs.append(m)
            continue
        tmp = os.path.join(parent, '.devbox-sync-%d-%s' % (os.getpid(), os.path.basename(path)))
        if m.issym():
            os.symlink(m.linkname, tmp)
        elif m.isreg():
            src = tar.extractfile(m)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with open(fd, 'wb') as f:
                shutil.copyfileobj(src, f)
                os.fchmod(fd, m.mode)
                f.flush()
                os.utime(fd, (m.mtime, m.mtime))
        else:
            continue
        try:
            os.rename(tmp, path)
        except OSError:  # a folder where the file goes: the file replaces it
            shutil.rmtree(path)
            known.difference_update([k for k in known if k == path or k.startswith(path + '/')])
            os.rename(tmp, path)
    for m in reversed(dirs):
        own('/' + m.name.lstrip('/'), m.mode, m.mtime)
out.write(b'ready\n'); out.flush()
while True:
    try:
        kind, size = struct.unpack('>cI', read(5))
    except EOFError:
        break
    try:
        if kind == b'T':
            chunks = Chunks()
            if size:
                chunks.buf = read(size)
            else:
                chunks.done = True
            try:
                with tarfile.open(fileobj=chunks, mode='r|') as tar:
                    extract(tar)
            finally:
                while not chunks.done:
                    chunks.read(1 << 16)
        elif kind == b'D':
            known.clear()
            for path in read(size).split(b'\0'):
                if path:
                    clear(path.decode('utf-8', 'surrogateescape'), False)
        elif kind == b'E':
            known.clear()  # the container may change its files between batches
            out.write(b'ok\n')
            out.flush()
    except Exception as exc:
        out.write(('err %s\n' % exc).replace('\n', ' ').strip().encode() + b'\n')
        out.flush()
        # skip to the end of this batch
        while True:
            k, n = struct.unpack('>cI', read(5))
            read(n)
            if k == b'E':
                break
"""


class ReceiverError(Exception):
    """The receiver is gone or could not apply a batch."""


class _Framer:
    """A writer that wraps what is written into `T` frames of at most CHUNK bytes."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.pending = bytearray()

    def write(self, data: bytes) -> int:
        self.pending += data
        while len(self.pending) >= CHUNK:
            self._frame(bytes(self.pending[:CHUNK]))
            del self.pending[:CHUNK]
        return len(data)

    def flush(self) -> None:
        """Nothing to do: frames go out as they fill, the rest on `close`."""

    def close(self) -> None:
        if self.pending:
            self._frame(bytes(self.pending))
        self.pending.clear()
        self._frame(b"")

    def _frame(self, data: bytes) -> None:
        self.out.write(_HEADER.pack(b"T", len(data)) + data)


class Receiver:
    """One receiver process in one container; `send` applies a batch and waits for its ack."""

    def __init__(self, argv: list[str]) -> None:
        self.child = process.start(argv, stdin=process.PIPE, stdout=process.PIPE)
        self.written = 0.0  # when the last batch's stream was written (monotonic; telemetry)
        if self._line() != "ready":
            self.close()
            raise ReceiverError("the receiver did not start (no python3 in the image?)")

    def _line(self) -> str:
        assert self.child.stdout is not None
        return self.child.stdout.readline().decode(errors="replace").strip()

    def alive(self) -> bool:
        return self.child.poll() is None

    def send(
        self,
        copies: Mapping[str, tuple[Rule, Path]],
        keep: Callable[[Rule, Path], bool],
        deletes: Collection[str],
    ) -> None:
        stdin = self.child.stdin
        assert stdin is not None
        try:
            if copies:
                framer = _Framer(stdin)
                write_tar(copies, keep, framer)  # type: ignore[arg-type]
                framer.close()
            if deletes:
                payload = b"\0".join(p.encode(errors="surrogateescape") for p in sorted(deletes))
                stdin.write(_HEADER.pack(b"D", len(payload)) + payload)
            stdin.write(_HEADER.pack(b"E", 0))
            stdin.flush()
            self.written = time.monotonic()
        except (BrokenPipeError, OSError) as exc:
            raise ReceiverError(f"the receiver is gone ({exc})") from None
        answer = self._line()
        if answer != "ok":
            if not answer:
                raise ReceiverError("the receiver is gone (container restarted?)")
            raise ReceiverError(answer.removeprefix("err ").strip() or answer)

    def close(self) -> None:
        if self.child.stdin is not None:
            with contextlib.suppress(OSError):
                self.child.stdin.close()
        try:
            self.child.wait(timeout=2)
        except process.TimeoutExpired:
            process.stop(self.child, grace=1)
        if self.child.stdout is not None:
            self.child.stdout.close()
