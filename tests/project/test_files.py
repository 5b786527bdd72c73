"""Writing the project's files: atomic, all or nothing, never through a link."""

import hashlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from devbox.commands.init import init_project
from devbox.errors import ConfigError
from devbox.project.files import read_requirements, read_text, write_all
from tests.conftest import COMMENTED_COMPOSE

PYPROJECT = '[project]\nname = "shop"\nversion = "0"\n[project.scripts]\nshop = "shop:main"\n'


def checksums(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def project(folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "pyproject.toml").write_text(PYPROJECT)
    (folder / "uv.lock").write_text("version = 1\n")
    (folder / "compose.yaml").write_text(COMMENTED_COMPOSE)
    return folder


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs: a real 'No space left on device'."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_a_full_disk_changes_nothing(small_disk: Path) -> None:
    folder = project(small_disk / "shop")
    filler = small_disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:  # fill the disk, then free a little: the first temp file fits, not the others
        while True:
            os.write(fd, b"x" * 512)
    except OSError:
        pass
    finally:
        os.close(fd)
    os.truncate(filler, filler.stat().st_size - 4096)
    before = checksums(folder)
    with pytest.raises(ConfigError) as caught:
        init_project(project_dir=folder)
    assert "cannot write (No space left on device); nothing was changed" in caught.value.message
    assert checksums(folder) == before  # compose.yaml intact, comments and all
    assert [p.name for p in folder.iterdir() if "devbox-tmp" in p.name] == []


def test_a_failed_rename_puts_back_what_was_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_text("old a")
    calls = []
    real = Path.replace

    def replace(self: Path, target: Path) -> Path:  # the second rename fails
        calls.append(target)
        if len(calls) == 2:
            raise OSError(28, "No space left on device", str(target))
        return real(self, target)

    monkeypatch.setattr(Path, "replace", replace)
    with pytest.raises(ConfigError):
        write_all([(a, "new a"), (b, "new b")])
    assert a.read_text() == "old a" and not b.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a"]


def test_permissions_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "compose.yaml"
    path.write_text("old")
    path.chmod(0o640)
    write_all([(path, "new")])
    assert (path.read_text(), path.stat().st_mode & 0o777) == ("new", 0o640)


def test_a_compose_file_linked_outside_is_not_written(tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text(COMMENTED_COMPOSE)
    folder = project(tmp_path / "shop")
    (folder / "compose.yaml").unlink()
    (folder / "compose.yaml").symlink_to(outside)
    with pytest.raises(ConfigError) as caught:
        init_project(project_dir=folder)
    assert caught.value.message == (
        f"{folder / 'compose.yaml'}: is a symbolic link; devbox does not write through links "
        "(the file may be outside the project); replace it with a regular file"
    )
    assert outside.read_text() == COMMENTED_COMPOSE
    assert not (folder / "Dockerfile").exists()  # nothing written at all


def test_a_dangling_dockerfile_link_creates_nothing_outside(tmp_path: Path) -> None:
    folder = project(tmp_path / "shop")
    (folder / "Dockerfile").symlink_to(tmp_path / "elsewhere" / "Dockerfile")
    with pytest.raises(ConfigError):
        init_project(project_dir=folder)
    assert not (tmp_path / "elsewhere").exists()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.mkdir(), "is a folder, not a file; move it away"),
        (lambda p: p.write_bytes(b"\xff\xfe bad"), "not UTF-8 text; save it as UTF-8"),
    ],
)
def test_unreadable_files_are_one_line_errors(tmp_path: Path, make: object, message: str) -> None:
    path = tmp_path / "Dockerfile"
    make(path)  # type: ignore[operator]
    with pytest.raises(ConfigError) as caught:
        read_text(path)
    assert caught.value.message == f"{path}: {message}"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-be", "utf-32"])
def test_requirements_are_read_as_pip_reads_them(tmp_path: Path, encoding: str) -> None:
    """oattao123/djrepo: `pip freeze > requirements.txt` in Windows PowerShell writes UTF-16
    with a byte-order mark and CRLF lines; pip and uv read it, so devbox does too."""
    path = tmp_path / "requirements.txt"
    text = "django==6.0.2\r\npython-dotenv==1.0\r\n"
    data = text.encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    path.write_bytes(data)
    assert read_requirements(path) == "django==6.0.2\npython-dotenv==1.0"
    path.write_bytes(b"\xff\xfed\x00j")  # a UTF-16 mark, then an odd byte count
    with pytest.raises(ConfigError, match=r"requirements.txt: not UTF-16 text; save it as UTF-8"):
        read_requirements(path)
