import os
from pathlib import Path

import pytest

from devbox.project.ownership import keep_owners, owned_mount_point, owner_of


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give files away")
def test_keep_owners_gives_files_back(tmp_path: Path) -> None:
    """A file rewritten by root gets its owner back; a new one gets the folder's owner."""
    os.chown(tmp_path, 1000, 1000)
    kept, new = tmp_path / "pyproject.toml", tmp_path / "uv.lock"
    kept.write_text("a")
    os.chown(kept, 1001, 1002)
    before = {kept: owner_of(kept), new: owner_of(new)}
    kept.unlink()
    kept.write_text("b")  # as uv's atomic rename leaves it: root's
    new.write_text("c")
    assert owner_of(kept) == (0, 0)
    keep_owners([kept, new], before, tmp_path)
    assert owner_of(kept) == (1001, 1002)
    assert owner_of(new) == (1000, 1000)


def test_owner_of_a_missing_file(tmp_path: Path) -> None:
    assert owner_of(tmp_path / "nope") is None


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give files away")
def test_mount_point_belongs_to_the_folder_owner(tmp_path: Path) -> None:
    os.chown(tmp_path, 1000, 1000)
    owned_mount_point(tmp_path, ".venv")
    assert owner_of(tmp_path / ".venv") == (1000, 1000)
    (tmp_path / "other").symlink_to("nowhere")
    owned_mount_point(tmp_path, "other")  # a dangling link is left alone
    assert (tmp_path / "other").is_symlink()
