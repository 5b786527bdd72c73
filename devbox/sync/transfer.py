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
import queue
import struct
import threading
import time
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import IO, TypeVar

from devbox.runtime import process
from devbox.sync.archive import Sent, write_tar

Rule = TypeVar("Rule")

CHUNK = 1 << 16
START_TIMEOUT = 30.0  # seconds for the receiver to say it runs
_HEADER = struct.Struct(">cI")

# Runs inside the container under any python3 >= 3.6: keep it small and self-contained.
RECEIVER = r"""
import os, shutil, stat, struct, sys, threading
inp, out = sys.stdin.buffer, sys.stdout.buffer
os.umask(0)  # modes come from the tar, exactly
lock = threading.Lock()  # stdout is shared by the acks and the write-back watcher
mine = {}  # path -> (inode, size, mtime_ns) of what this receiver wrote: not sent back
gone_mine = set()  # paths this receiver removed: their deletion is not sent back
def say(data):
    with lock:
        out.write(data)
        out.flush()
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
            gone_mine.add(path)  # what this receiver removes is not a deletion to send back
            shutil.rmtree(path)
    else:
        gone_mine.add(path)
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
                    st = os.fstat(fd)
                    mine[path] = (st.st_ino, st.st_size, st.st_mtime_ns)
                finally:
                    os.close(fd)
            else:
                tar.read(padded)
                continue
            try:
                os.rename(tmp, path)
            except OSError:  # a folder where the file goes: the file replaces it
                shutil.rmtree(path)
                gone_mine.add(path)
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
SKIP = {'__pycache__', '.venv', '.git', 'node_modules', '.mypy_cache', '.pytest_cache',
        '.ruff_cache'}
LIMIT = 64 << 20  # larger files the container writes are not brought back
def watch(targets):
    # Files the container writes under the sync targets, sent back as `F`/`X` frames on
    # stdout (inotify through libc; no inotify, no write-back: said once).
    import ctypes, select
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fd = libc.inotify_init1(0o2000000)
    except Exception:
        fd = -1
    if fd < 0:
        say(b'nowatch\n')
        return
    mask = 0x8 | 0x40 | 0x80 | 0x100 | 0x200  # close-write, moved from/to, create, delete
    wds, pending = {}, {}
    def add(top, scan):
        for root, dirs, files in os.walk(top):
            dirs[:] = [d for d in dirs if d not in SKIP]
            wd = libc.inotify_add_watch(fd, os.fsencode(root), mask)
            if wd >= 0:
                wds[wd] = root
            if scan:  # a new folder: what was written in it before its watch
                for name in files:
                    pending[os.path.join(root, name)] = 'w'
    for target in targets:
        if os.path.isdir(target):
            add(target, False)
    say(b'watching\n')  # what the container writes from now on comes back
    while True:
        ready = select.select([fd], [], [], 0.02 if pending else None)[0]
        if ready:
            buf, i = os.read(fd, 1 << 16), 0
            while i + 16 <= len(buf):
                wd, m, _, n = struct.unpack_from('iIII', buf, i)
                name = buf[i + 16:i + 16 + n].split(b'\0', 1)[0]
                i += 16 + n
                if m & 0x8000:
                    wds.pop(wd, None)
                if name.startswith(b'.devbox-sync-'):  # this receiver's temporary files
                    continue
                base = wds.get(wd)
                if base is None or not name:
                    continue
                path = os.path.join(base, os.fsdecode(name))
                if os.path.basename(path) in SKIP:
                    continue
                if m & 0x40000000:
                    if m & 0x180:
                        add(path, True)
                    else:
                        pending[path] = 'd'
                elif m & 0x240:
                    pending[path] = 'd'
                elif m & 0x88:
                    pending[path] = 'w'
            continue
        for path, what in sorted(pending.items()):
            send_back(path)
        pending.clear()
        gone_mine.clear()
def send_back(path):
    try:
        st = os.lstat(path)
    except OSError:
        st = None
    raw = os.fsencode(path)
    if st is None:
        mine.pop(path, None)
        if not any(path == g or path.startswith(g + '/') for g in gone_mine):
            say(b'X %d 0 0 0\n' % len(raw) + raw)
        return
    if not stat.S_ISREG(st.st_mode) or st.st_size > LIMIT:
        return
    if mine.pop(path, None) == (st.st_ino, st.st_size, st.st_mtime_ns):
        return
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError:
        return
    head = b'F %d %d %d %d\n' % (len(raw), len(data), st.st_mode & 0o7777, st.st_mtime_ns)
    say(head + raw + data)
say(b'ready\n')
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
                    gone_mine.add(os.fsdecode(path))
                    clear(os.fsdecode(path), False)
        elif kind == b'W':
            targets = [os.fsdecode(t) for t in read(size).split(b'\0') if t]
            threading.Thread(target=watch, args=(targets,), daemon=True).start()
        elif kind == b'E':
            known.clear()  # the container may change its files between batches
            say(b'ok\n')
    except Exception as exc:
        why = str(exc) if isinstance(exc, Failed) else '%s: %s' % (type(exc).__name__, exc)
        say(('err %s\n' % why).replace('\n', ' ').strip().encode() + b'\n')
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


# A file the container wrote (`data`), or removed (`data` None), under a watched target.
OnContainerFile = Callable[[str, bytes | None, int, int], None]


class Receiver:
    """One receiver process in one container; `send` applies a batch and waits for its ack.

    With `watch` targets and `on_file`, the receiver also watches them in the container
    and sends back what the container writes there (`F`/`X` frames between the acks on
    its stdout): one reader thread takes the acks to `send` and the files to `on_file`.
    """

    def __init__(
        self,
        child: process.Child,
        *,
        watch: Collection[str] = (),
        on_file: OnContainerFile | None = None,
    ) -> None:
        """`child`: the receiver script running in the container, on pipes
        (`Engine.open_receiver`)."""
        self.child = child
        self.written = 0.0  # when the last batch's stream was written (monotonic; telemetry)
        self.sent = Sent()  # what this container has: an unchanged file is not sent again
        self.lock = threading.Lock()  # `sent` is shared with the write-back
        self.watching = False  # the container reports what it writes
        self.on_file = on_file
        self._answers: queue.Queue[str] = queue.Queue()
        self._watch_said = threading.Event()  # the container said `watching` or `nowatch`
        threading.Thread(target=self._read, daemon=True).start()
        if self._answer(START_TIMEOUT) != "ready":
            self.close()
            raise ReceiverError("the receiver did not start (no python3 in the image?)")
        if watch and on_file is not None:
            payload = b"\0".join(t.encode(errors="surrogateescape") for t in sorted(watch))
            assert self.child.stdin is not None
            try:
                self.child.stdin.write(_HEADER.pack(b"W", len(payload)) + payload)
                self.child.stdin.flush()
            except OSError:
                return
            # Its watches are set before this returns: a file the container writes once
            # the session says it is watching (a shell's migration) is never missed.
            self._watch_said.wait(START_TIMEOUT)

    def _read(self) -> None:
        """Every line of the receiver's stdout: acks to `send`, files to `on_file`."""
        out = self.child.stdout
        assert out is not None
        try:
            for raw in out:
                line = raw.decode(errors="replace").strip()
                if line.startswith(("F ", "X ")):
                    self._container_file(out, line)
                elif line in ("watching", "nowatch"):
                    self.watching = line == "watching"
                    self._watch_said.set()
                else:
                    self._answers.put(line)
        except (OSError, ValueError):
            pass
        self._answers.put("")  # gone
        self._watch_said.set()

    def _container_file(self, out: IO[bytes], line: str) -> None:
        kind, *numbers = line.split()
        name_len, data_len, mode, mtime_ns = (int(n) for n in numbers)
        name = out.read(name_len).decode(errors="surrogateescape")
        data = out.read(data_len) if kind == "F" else None
        if self.on_file is not None:
            self.on_file(name, data, mode, mtime_ns)

    def _answer(self, timeout: float | None = None) -> str:
        try:
            return self._answers.get(timeout=timeout)
        except queue.Empty:
            return ""

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
            with self.lock:
                if copies:
                    framer = _Framer(stdin)
                    write_tar(copies, keep, framer, self.sent)  # type: ignore[arg-type]
                    framer.close()
                if deletes:
                    self.sent.forget(deletes)
                    payload = b"\0".join(
                        p.encode(errors="surrogateescape") for p in sorted(deletes)
                    )
                    stdin.write(_HEADER.pack(b"D", len(payload)) + payload)
                stdin.write(_HEADER.pack(b"E", 0))
                stdin.flush()
            self.written = time.monotonic()
        except (BrokenPipeError, OSError) as exc:
            raise ReceiverError(f"the receiver is gone ({exc})") from None
        answer = self._answer()
        with self.lock:
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
