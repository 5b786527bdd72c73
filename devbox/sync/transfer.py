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
from devbox.sync.archive import Sent, write_tar

Rule = TypeVar("Rule")

CHUNK = 1 << 16
_HEADER = struct.Struct(">cI")

# Runs inside the container under any python3 >= 3.6: keep it small and self-contained.
RECEIVER = r"""
import os, shutil, stat, struct, sys
inp, out = sys.stdin.buffer, sys.stdout.buffer
os.umask(0)  # modes come from the tar, exactly
def read(n):
    data = inp.read(n)
    while len(data) < n:
        part = inp.read(n - len(data))
        if not part:
            raise EOFError
        data += part
    return data
class Tar:
    # The tar's bytes, out of its T frames; an empty frame ends it.
    def __init__(self, first):
        self.buf, self.done = bytearray(first), not first
    def read(self, n):
        while len(self.buf) < n and not self.done:
            kind, size = struct.unpack('>cI', read(5))
            if size:
                self.buf += read(size)
            else:
                self.done = True
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data
    def drain(self):
        while not self.done:
            self.read(1 << 16)
            self.buf.clear()
def octal(field):
    field = field.rstrip(b'\0 ').strip()
    return int(field, 8) if field else 0
def members(tar):
    # (name, type, mode, mtime, size, linkname) of each entry: ustar, with PAX overrides.
    extra = {}
    while True:
        block = tar.read(512)
        if len(block) < 512 or block == bytes(512):
            return
        size = octal(block[124:136])
        kind = block[156:157]
        body_size = size + (-size % 512)
        if kind in (b'x', b'g'):
            data = tar.read(body_size)[:size]
            while data and kind == b'x':
                length = int(data.split(b' ', 1)[0])
                record, data = data[:length], data[length:]
                key, _, value = record.split(b' ', 1)[1][:-1].partition(b'=')
                extra[key] = value
            continue
        name = block[:100].split(b'\0', 1)[0]
        if block[257:262] == b'ustar':
            prefix = block[345:500].split(b'\0', 1)[0]
            if prefix:
                name = prefix + b'/' + name
        link = block[157:257].split(b'\0', 1)[0]
        name, link = extra.get(b'path', name), extra.get(b'linkpath', link)
        size = int(extra.get(b'size', size))
        mtime = float(extra.get(b'mtime', octal(block[136:148])))
        extra = {}
        yield (os.fsdecode(name), kind, octal(block[100:108]), mtime, size,
               os.fsdecode(link))
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
known = set()
class Failed(Exception):
    pass
def parent_dir(parent):
    if parent in known:
        return
    if not os.path.isdir(parent):
        clear(parent, False)
        os.makedirs(parent, 0o755, exist_ok=True)
    known.add(parent)
def extract(tar):
    # Entries belong to the receiver's user (the container's USER, as copyUIDGID): only
    # their mode and mtime come from the tar.
    dirs = []
    for name, kind, mode, mtime, size, link in members(tar):
        path = '/' + name.lstrip('/')
        parent = os.path.dirname(path)
        parent_dir(parent)
        padded = size + (-size % 512)
        if kind == b'5':
            clear(path, True)
            if not os.path.isdir(path):
                os.mkdir(path, 0o700)
            known.add(path)
            dirs.append((path, mode, mtime))
            continue
        tmp = os.path.join(parent, '.devbox-sync-%d-%s' % (os.getpid(), os.path.basename(path)))
        try:
            if kind == b'2':
                tar.read(padded)
                os.symlink(link, tmp)
            elif kind in (b'0', b'\0', b'7'):
                flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
                try:
                    fd = os.open(tmp, flags, mode & 0o7777)
                except FileExistsError:  # left by a receiver that died: its mode is not ours
                    os.unlink(tmp)
                    fd = os.open(tmp, flags, mode & 0o7777)
                try:
                    left = size
                    while left > 0:
                        data = tar.read(min(left, 1 << 20))
                        if not data:
                            raise EOFError
                        left -= len(data)
                        while data:  # a short write must not lose the rest
                            data = data[os.write(fd, data):]
                    tar.read(padded - size)
                    os.utime(fd, (mtime, mtime))
                finally:
                    os.close(fd)
            else:
                tar.read(padded)
                continue
            try:
                os.rename(tmp, path)
            except OSError:  # a folder where the file goes: the file replaces it
                shutil.rmtree(path)
                known.difference_update([k for k in known if k == path or k.startswith(path + '/')])
                os.rename(tmp, path)
        except OSError as exc:
            # a full disk must not stay full of our half-written file; say which file
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise Failed('%s: %s' % (path, exc.strerror or exc))
    for path, mode, mtime in reversed(dirs):
        os.chmod(path, mode)
        os.utime(path, (mtime, mtime))
out.write(b'ready\n'); out.flush()
while True:
    try:
        kind, size = struct.unpack('>cI', read(5))
    except EOFError:
        break
    try:
        if kind == b'T':
            tar = Tar(read(size) if size else b'')
            try:
                extract(tar)
            finally:
                tar.drain()
        elif kind == b'D':
            known.clear()
            for path in read(size).split(b'\0'):
                if path:
                    clear(os.fsdecode(path), False)
        elif kind == b'E':
            known.clear()  # the container may change its files between batches
            out.write(b'ok\n')
            out.flush()
    except Exception as exc:
        why = str(exc) if isinstance(exc, Failed) else '%s: %s' % (type(exc).__name__, exc)
        out.write(('err %s\n' % why).replace('\n', ' ').strip().encode() + b'\n')
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


class BatchRejected(ReceiverError):
    """The receiver runs but could not apply a batch (a full disk, a read-only target):
    `docker cp` would fail the same way, or worse, write under a tmpfs unseen."""


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
        self.sent = Sent()  # what this container has: an unchanged file is not sent again
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
                write_tar(copies, keep, framer, self.sent)  # type: ignore[arg-type]
                framer.close()
            if deletes:
                self.sent.forget(deletes)
                payload = b"\0".join(p.encode(errors="surrogateescape") for p in sorted(deletes))
                stdin.write(_HEADER.pack(b"D", len(payload)) + payload)
            stdin.write(_HEADER.pack(b"E", 0))
            stdin.flush()
            self.written = time.monotonic()
        except (BrokenPipeError, OSError) as exc:
            raise ReceiverError(f"the receiver is gone ({exc})") from None
        answer = self._line()
        self.sent.done(applied=answer == "ok")
        if answer != "ok":
            if not answer:
                raise ReceiverError("the receiver is gone (container restarted?)")
            raise BatchRejected(answer.removeprefix("err ").strip() or answer)

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
