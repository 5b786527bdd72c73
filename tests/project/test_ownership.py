import os
from pathlib import Path

import pytest

from devbox.project.ownership import keep_owners, owner_of


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
