"""One tar stream for a batch of copies, as Compose sends to the engine's archive API.

The project changes while a batch is archived, so every entry is what its path held at one
moment, and nothing is ever read through a symlink:
- folders are opened with O_NOFOLLOW and their entries reached from the folder's descriptor,
  so a folder swapped for a link to `/etc` is not entered;
- files are opened with O_NOFOLLOW (one swapped for a link since it was listed is skipped;
  its event syncs it again) and described by `fstat` of the opened descriptor;
- a file's content is copied before its header is written, so a file truncated or extended
  while it is read gives an entry of the size read instead of aborting the batch;
- symlinks are stored as links, and nothing is archived beneath one, so extracting the tar
  cannot write through a link.
The tar is written as a stream (`write_tar`), with at most `SPOOL_LIMIT` bytes of one file
in memory. Plain entries (short ASCII names, small ids) get a ustar header written here,
a few microseconds each; others go through `tarfile`'s PAX headers. A path also reached
through a folder of the same batch is written once.
"""

import io
import os
import shutil
import stat
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import IO, TypeVar

Rule = TypeVar("Rule")

SPOOL_LIMIT = 1 << 20  # bytes of one file kept in memory; larger ones spill to a temp file

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK  # a FIFO swapped in cannot block


def make_tar(copies: Mapping[str, tuple[Rule, Path]], keep: Callable[[Rule, Path], bool]) -> bytes:
    """The tar of `write_tar` in memory."""
    buffer = io.BytesIO()
    write_tar(copies, keep, buffer)
    return buffer.getvalue()


def write_tar(
    copies: Mapping[str, tuple[Rule, Path]],
    keep: Callable[[Rule, Path], bool],
    out: IO[bytes],
    sent: "Sent | None" = None,
) -> None:
    """Write a tar of host paths at their container paths, each copied under its rule, to `out`
    (which need not be seekable).

    Folders are added with their contents, filtered through `keep(rule, path)` (devbox
    applies the rule's ignores inside new folders; Compose copies them whole). Paths gone
    or unreadable since the batch was planned are left out: their next event retries.
    With `sent`, a file the container already has as it is now is left out.
    """
    archive = _Archive(out, sent)
    for target, (rule, source) in sorted(copies.items(), key=lambda item: item[0]):
        archive.add(None, str(source), source, target.strip("/"), rule, keep)
    out.write(bytes(2 * BLOCK))  # the end-of-archive marker


BLOCK = 512
_USTAR_MAX_ID = 0o7777777


def _ustar(info: tarfile.TarInfo) -> bytes | None:
    """A ustar header for plain entries; None when `tarfile` must write it (PAX)."""
    name, link = info.name, info.linkname
    if (
        len(name) > 100
        or len(link) > 100
        or not (name + link).isascii()
        or not 0 <= info.uid <= _USTAR_MAX_ID
        or not 0 <= info.gid <= _USTAR_MAX_ID
        or not 0 <= info.mtime < 8**11
        or info.size >= 8**11
    ):
        return None
    header = bytearray(
        name.encode().ljust(100, b"\0")
        + b"%07o\0" % info.mode
        + b"%07o\0" % info.uid
        + b"%07o\0" % info.gid
        + b"%011o\0" % info.size
        + b"%011o\0" % int(info.mtime)
        + b" " * 8
        + info.type
        + link.encode().ljust(100, b"\0")
        + b"ustar\x0000"
    )
    header += bytes(BLOCK - len(header))
    header[148:156] = b"%06o\0 " % sum(header)
    return _pax_mtime(info.mtime) + bytes(header)


def _pax_mtime(mtime: float) -> bytes:
    """A PAX header carrying the sub-second part of `mtime` (ustar holds whole seconds): two
    saves within one second must still differ in the container, or a reloader that compares
    mtimes (Django's, Werkzeug's, Bottle's) misses the second. Empty for a whole second."""
    if mtime == int(mtime):
        return b""
    body = b" mtime=%s\n" % repr(mtime).encode()
    total = len(body) + len(str(len(body)))
    total += len(str(total)) - len(str(len(body)))  # the length counts its own digits
    record = b"%d%s" % (total, body)
    header = bytearray(
        b"././@PaxHeader".ljust(100, b"\0")
        + b"%07o\0" % 0o644
        + b"%07o\0" % 0
        + b"%07o\0" % 0
        + b"%011o\0" % len(record)
        + b"%011o\0" % int(mtime)
        + b" " * 8
        + b"x"
        + bytes(100)
        + b"ustar\x0000"
    )
    header += bytes(BLOCK - len(header))
    header[148:156] = b"%06o\0 " % sum(header)
    return bytes(header) + record + bytes(-len(record) % BLOCK)


_Key = tuple[int, int, int, int, int, int]
RACY_NS = 50_000_000  # a file changed this recently may change again within one timestamp tick


def _key(st: os.stat_result) -> _Key:
    return (st.st_dev, st.st_ino, st.st_mode, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class Sent:
    """What one container was sent of each file, so a file named again by a later event
    but unchanged since (a burst writes a file, then rewrites it before its first batch is
    read) is not written again.

    A file counts as unchanged only if its inode, mode, size, mtime and ctime are all the
    same (every write moves ctime, which no one can set), and only if it had not changed for
    `RACY_NS` when it was read: two writes within one timestamp tick look the same, so a
    file read that soon after a write is sent again next time (git's "racily clean" rule).
    Entries join only once the container acknowledged their batch.
    """

    LIMIT = 200_000  # files remembered; past it, the memory starts afresh

    def __init__(self) -> None:
        self._known: dict[str, _Key] = {}
        self._batch: dict[str, _Key | None] = {}
        self._gone: set[str] = set()

    def unchanged(self, name: str, st: os.stat_result) -> bool:
        return self._known.get(name) == _key(st)

    def sending(self, name: str, st: os.stat_result, read_ns: int) -> None:
        """`st` (taken before the read at `read_ns`, wall clock) is what `name` is sent as."""
        settled = st.st_ctime_ns < read_ns - RACY_NS
        self._batch[name] = _key(st) if settled else None

    def remember(self, name: str, st: os.stat_result) -> None:
        """The container has `name` as the host has it now (written back from it)."""
        self._known[name] = _key(st)

    def drop(self, name: str) -> None:
        """The container no longer has `name` (it removed it)."""
        self._known.pop(name, None)

    def forget(self, names: Iterable[str]) -> None:
        """Paths this batch deletes (`rm -rf`, after its copies) in the container."""
        self._gone.update(n.strip("/") for n in names)

    def done(self, *, applied: bool) -> None:
        """The batch was acknowledged (or failed: what it sent is unknown in the container)."""
        for name, key in self._batch.items():
            if applied and key is not None:
                self._known[name] = key
            else:
                self._known.pop(name, None)
        gone = self._gone
        if gone:  # neither they nor anything under them is known any more
            self._known = {k: v for k, v in self._known.items() if not _under(k, gone)}
        self._batch, self._gone = {}, set()
        if len(self._known) > self.LIMIT:
            self._known.clear()


def _under(name: str, folders: set[str]) -> bool:
    """Whether `name` or one of its parents is in `folders`."""
    end = len(name)
    while end > 0:
        if name[:end] in folders:
            return True
        end = name.rfind("/", 0, end)
    return False


class _Archive:
    def __init__(self, out: IO[bytes], sent: Sent | None = None) -> None:
        self.out = out
        self.sent = sent
        self._links: set[str] = set()  # names of the symlinks written so far
        self._written: set[str] = set()  # every name written: a later copy of one is skipped

    def _header(self, info: tarfile.TarInfo) -> None:
        header = _ustar(info)
        if header is None:
            header = info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
        self.out.write(header)
        self._written.add(info.name)

    def _beneath_link(self, name: str) -> bool:
        if not self._links:
            return False
        parts = name.split("/")
        return any("/".join(parts[:i]) in self._links for i in range(1, len(parts)))

    def add(
        self,
        dir_fd: int | None,
        entry: str,
        source: Path,
        name: str,
        rule: Rule,
        keep: Callable[[Rule, Path], bool],
    ) -> None:
        """Add `entry` (relative to `dir_fd`, or a path without one) as `name`."""
        if not name or name in self._written or ".." in name.split("/"):
            return  # written already, or extracting it would write outside its place
        if self._beneath_link(name):
            return  # extracting it would write through a link
        try:
            st = os.lstat(entry, dir_fd=dir_fd)
            if stat.S_ISLNK(st.st_mode):
                info = _info(name, st, tarfile.SYMTYPE)
                info.linkname = os.readlink(entry, dir_fd=dir_fd)
                self._header(info)
                self._links.add(name)
            elif stat.S_ISDIR(st.st_mode):
                self._add_dir(dir_fd, entry, source, name, rule, keep)
            elif stat.S_ISREG(st.st_mode):
                self._add_file(dir_fd, entry, name)
            # sockets, FIFOs and devices are not synced
        except OSError:
            return  # gone (FileNotFoundError), unreadable, or swapped for a link (ELOOP)

    def _add_dir(
        self,
        dir_fd: int | None,
        entry: str,
        source: Path,
        name: str,
        rule: Rule,
        keep: Callable[[Rule, Path], bool],
    ) -> None:
        fd = os.open(entry, _DIR_FLAGS, dir_fd=dir_fd)
        try:
            self._header(_info(name, os.fstat(fd), tarfile.DIRTYPE))
            for child in sorted(os.listdir(fd)):  # noqa: PTH208 (a descriptor, not a path)
                if keep(rule, source / child):
                    self.add(fd, child, source / child, f"{name}/{child}", rule, keep)
        finally:
            os.close(fd)

    def _add_file(self, dir_fd: int | None, entry: str, name: str) -> None:
        fd = os.open(entry, _FILE_FLAGS, dir_fd=dir_fd)
        with os.fdopen(fd, "rb") as file:
            read_ns = time.time_ns()
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                return  # swapped for something else since the lstat
            if self.sent is not None:
                if self.sent.unchanged(name, st):
                    return  # the container has it as it is
                self.sent.sending(name, st, read_ns)
            data = file.read(SPOOL_LIMIT + 1)  # most files: one read, no temp file
            if len(data) <= SPOOL_LIMIT:
                self._file(_info(name, st, tarfile.REGTYPE), data)
                return
            with tempfile.SpooledTemporaryFile(SPOOL_LIMIT) as spool:
                spool.write(data)
                shutil.copyfileobj(file, spool)
                info = _info(name, st, tarfile.REGTYPE)
                info.size = spool.tell()
                spool.seek(0)
                self._header(info)
                shutil.copyfileobj(spool, self.out)
                self.out.write(bytes(-info.size % BLOCK))

    def _file(self, info: tarfile.TarInfo, data: bytes) -> None:
        info.size = len(data)
        self._header(info)
        self.out.write(data + bytes(-len(data) % BLOCK))


def _info(name: str, st: os.stat_result, kind: bytes) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = stat.S_IMODE(st.st_mode)
    info.mtime = st.st_mtime
    info.uid, info.gid = st.st_uid, st.st_gid
    return info
