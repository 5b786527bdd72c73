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
in memory.
"""

import io
import os
import shutil
import stat
import tarfile
import tempfile
from collections.abc import Callable, Mapping
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
) -> None:
    """Write a tar of host paths at their container paths, each copied under its rule, to `out`
    (which need not be seekable).

    Folders are added with their contents, filtered through `keep(rule, path)` (devbox
    applies the rule's ignores inside new folders; Compose copies them whole). Paths gone
    or unreadable since the batch was planned are left out: their next event retries.
    """
    with tarfile.open(fileobj=out, mode="w|") as tar:
        archive = _Archive(tar)
        for target, (rule, source) in sorted(copies.items(), key=lambda item: item[0]):
            archive.add(None, str(source), source, target.strip("/"), rule, keep)


class _Archive:
    def __init__(self, tar: tarfile.TarFile) -> None:
        self.tar = tar
        self._links: set[str] = set()  # names of the symlinks written so far

    def _beneath_link(self, name: str) -> bool:
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
        if not name or ".." in name.split("/") or self._beneath_link(name):
            return  # extracting it would write outside its place or through a link
        try:
            st = os.lstat(entry, dir_fd=dir_fd)
            if stat.S_ISLNK(st.st_mode):
                info = _info(name, st, tarfile.SYMTYPE)
                info.linkname = os.readlink(entry, dir_fd=dir_fd)
                self.tar.addfile(info)
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
            self.tar.addfile(_info(name, os.fstat(fd), tarfile.DIRTYPE))
            for child in sorted(os.listdir(fd)):  # noqa: PTH208 (a descriptor, not a path)
                if keep(rule, source / child):
                    self.add(fd, child, source / child, f"{name}/{child}", rule, keep)
        finally:
            os.close(fd)

    def _add_file(self, dir_fd: int | None, entry: str, name: str) -> None:
        fd = os.open(entry, _FILE_FLAGS, dir_fd=dir_fd)
        with os.fdopen(fd, "rb") as file, tempfile.SpooledTemporaryFile(SPOOL_LIMIT) as spool:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                return  # swapped for something else since the lstat
            shutil.copyfileobj(file, spool)
            info = _info(name, st, tarfile.REGTYPE)
            info.size = spool.tell()
            spool.seek(0)
            self.tar.addfile(info, spool)


def _info(name: str, st: os.stat_result, kind: bytes) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = stat.S_IMODE(st.st_mode)
    info.mtime = int(st.st_mtime)
    info.uid, info.gid = st.st_uid, st.st_gid
    return info
