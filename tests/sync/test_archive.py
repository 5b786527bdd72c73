"""Archives of real files that change while they are archived."""

import io
import os
import tarfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from devbox.sync.archive import RACY_NS, Sent, make_tar, write_tar


def _keep_all(rule: str, path: Path) -> bool:
    return True


def _members(data: bytes) -> dict[str, tuple[tarfile.TarInfo, bytes]]:
    found = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for member in tar.getmembers():
            extracted = tar.extractfile(member) if member.isreg() else None
            found[member.name] = (member, extracted.read() if extracted else b"")
    return found


def _after_lstat(monkeypatch: pytest.MonkeyPatch, name: str, act: Callable[[], object]) -> None:
    """Run `act` once, right after the archiver lstats a path ending in `name`."""
    real = os.lstat
    done: list[bool] = []

    def lstat(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        result = real(path, *args, **kwargs)
        if not done and os.fspath(path).endswith(name):
            done.append(True)
            act()
        return result

    monkeypatch.setattr(os, "lstat", lstat)


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("TOP SECRET " * 10)
    return outside / "secret"


def test_file_swapped_for_a_symlink_is_not_followed(
    tmp_path: Path, secret: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "a.py").write_text("mine")

    def swap() -> None:
        (project / "a.py").unlink()
        (project / "a.py").symlink_to(secret)

    _after_lstat(monkeypatch, "a.py", swap)
    data = make_tar({"/app/a.py": ("rule", project / "a.py")}, keep=_keep_all)
    assert b"SECRET" not in data
    assert "app/a.py" not in _members(data)  # skipped: the swap's own event syncs the link


def test_folder_swapped_for_a_symlink_is_not_entered(
    tmp_path: Path, secret: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    (project / "pkg").mkdir(parents=True)
    (project / "pkg" / "secret").write_text("mine")

    def swap() -> None:
        (project / "pkg" / "secret").unlink()
        (project / "pkg").rmdir()
        (project / "pkg").symlink_to(secret.parent)

    _after_lstat(monkeypatch, "pkg", swap)
    data = make_tar({"/app/pkg": ("rule", project / "pkg")}, keep=_keep_all)
    assert b"SECRET" not in data


def test_file_truncated_while_archived_keeps_the_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "big.txt").write_bytes(b"x" * 100_000)
    (tmp_path / "b.py").write_text("b")
    _after_lstat(monkeypatch, "big.txt", lambda: (tmp_path / "big.txt").write_bytes(b"short"))
    data = make_tar(
        {"/app/big.txt": ("rule", tmp_path / "big.txt"), "/app/b.py": ("rule", tmp_path / "b.py")},
        keep=_keep_all,
    )
    members = _members(data)
    assert members["app/big.txt"][1] == b"short"  # what the file held when it was read
    assert members["app/b.py"][1] == b"b"


def test_symlink_out_of_the_project_is_copied_as_a_link(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "etc").symlink_to("/etc")
    (tmp_path / "pkg" / "passwd").symlink_to("/etc/passwd")
    (tmp_path / "pkg" / "a.py").write_text("a")
    data = make_tar(
        {
            "/app/pkg": ("rule", tmp_path / "pkg"),
            "/app/pkg/etc/passwd": ("rule", tmp_path / "pkg" / "etc" / "passwd"),
        },
        keep=_keep_all,
    )
    members = _members(data)
    assert sorted(members) == ["app/pkg", "app/pkg/a.py", "app/pkg/etc", "app/pkg/passwd"]
    assert members["app/pkg/etc"][0].issym()
    assert members["app/pkg/etc"][0].linkname == "/etc"
    assert members["app/pkg/passwd"][0].issym()
    assert b"root:" not in data


def test_tar_is_streamed_to_a_non_seekable_writer(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("a" * 5000)
    chunks: list[bytes] = []

    class Pipe(io.RawIOBase):
        def writable(self) -> bool:
            return True

        def write(self, data: Any) -> int:
            chunks.append(bytes(data))
            return len(data)

    with io.BufferedWriter(Pipe()) as out:
        write_tar({"/app/a.py": ("rule", tmp_path / "a.py")}, keep=_keep_all, out=out)
    assert _members(b"".join(chunks))["app/a.py"][1] == b"a" * 5000


def test_fifo_is_not_synced(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    assert _members(make_tar({"/app/fifo": ("rule", tmp_path / "fifo")}, keep=_keep_all)) == {}


def _names(copies: dict[str, tuple[str, Path]], sent: Sent) -> list[str]:
    out = io.BytesIO()
    write_tar(copies, _keep_all, out, sent)
    return sorted(_members(out.getvalue()))


def _settled(path: Path) -> None:
    """Make `path` look written a while ago (its ctime is what the racy rule looks at)."""
    past = time.time() - 10
    os.utime(path, (past, past))  # moves ctime to now...
    time.sleep(RACY_NS / 1e9 + 0.02)  # ...so wait until now is no longer racy


def test_an_unchanged_file_is_not_sent_again_once_acknowledged(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("one")
    _settled(tmp_path / "a.py")
    copies = {"/app/a.py": ("r", tmp_path / "a.py")}
    sent = Sent()
    assert _names(copies, sent) == ["app/a.py"]
    assert _names(copies, sent) == ["app/a.py"]  # not acknowledged yet: sent again
    sent.done(applied=True)
    assert _names(copies, sent) == []  # the burst's second event for the same content
    sent.done(applied=True)
    (tmp_path / "a.py").write_text("two")  # same size, maybe the same mtime tick
    assert _names(copies, sent) == ["app/a.py"]


def test_a_file_read_right_after_a_write_is_sent_again(tmp_path: Path) -> None:
    """Two writes within one timestamp tick look alike: a racily read file is not trusted."""
    (tmp_path / "a.py").write_text("one")
    copies = {"/app/a.py": ("r", tmp_path / "a.py")}
    sent = Sent()
    assert _names(copies, sent) == ["app/a.py"]
    sent.done(applied=True)
    assert _names(copies, sent) == ["app/a.py"]


def test_a_failed_batch_or_a_delete_forgets_what_was_sent(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("one")
    _settled(tmp_path / "pkg" / "a.py")
    copies = {"/app/pkg/a.py": ("r", tmp_path / "pkg" / "a.py")}
    sent = Sent()
    _names(copies, sent)
    sent.done(applied=False)  # the container may hold anything now
    assert _names(copies, sent) == ["app/pkg/a.py"]
    sent.done(applied=True)
    assert _names(copies, sent) == []
    sent.forget(["/app/pkg"])  # `rm -rf /app/pkg` in the container
    sent.done(applied=True)
    assert _names(copies, sent) == ["app/pkg/a.py"]


def test_a_file_under_a_synced_folder_is_written_once(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("one")
    copies = {
        "/app/pkg": ("r", tmp_path / "pkg"),
        "/app/pkg/a.py": ("r", tmp_path / "pkg" / "a.py"),
    }
    out = io.BytesIO()
    write_tar(copies, _keep_all, out)
    with tarfile.open(fileobj=io.BytesIO(out.getvalue())) as tar:
        assert [m.name for m in tar.getmembers()] == ["app/pkg", "app/pkg/a.py"]


def test_headers_devbox_writes_read_back_as_written(tmp_path: Path) -> None:
    """The ustar fast path and the PAX fallback (long and non-ASCII names) both read back
    with tarfile as what was on disk."""
    long = "x" * 120
    for name in ("plain.py", long, "café.py"):
        (tmp_path / name).write_text(name)
    (tmp_path / "plain.py").chmod(0o640)
    os.utime(tmp_path / "plain.py", (1_600_000_000, 1_600_000_000))
    copies = {f"/app/{n}": ("r", tmp_path / n) for n in ("plain.py", long, "café.py")}
    members = _members(make_tar(copies, _keep_all))
    assert {n: data for n, (_, data) in members.items()} == {
        f"app/{n}": n.encode() for n in ("plain.py", long, "café.py")
    }
    info = members["app/plain.py"][0]
    assert (info.mode, info.mtime, info.uid) == (0o640, 1_600_000_000, os.getuid())


def test_sub_second_mtimes_survive(tmp_path: Path) -> None:
    """Two saves within one second must differ in the container: a reloader comparing
    mtimes would miss the second otherwise (ustar holds whole seconds; PAX carries the
    rest)."""
    import os
    import tarfile

    for name, mtime in (("a.py", 1_700_000_000.25), ("b.py", 1_700_000_000.0)):
        (tmp_path / name).write_text(name)
        os.utime(tmp_path / name, (mtime, mtime))
    copies = {f"/app/{n}": ("rule", tmp_path / n) for n in ("a.py", "b.py")}
    with tarfile.open(fileobj=io.BytesIO(make_tar(copies, _keep_all))) as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert members["app/a.py"].mtime == 1_700_000_000.25
        assert members["app/b.py"].mtime == 1_700_000_000
        assert tar.extractfile(members["app/a.py"]).read() == b"a.py"  # type: ignore[union-attr]
