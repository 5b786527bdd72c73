"""Archives of real files that change while they are archived."""

import io
import os
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from devbox.sync.archive import make_tar, write_tar


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
