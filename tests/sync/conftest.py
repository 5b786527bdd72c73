from pathlib import Path

import pytest

from tests.fakes import FakeEngine


@pytest.fixture
def engine(tmp_path: Path) -> FakeEngine:
    """The faked engine seam: records what devbox asked for."""
    return FakeEngine(tmp_path)
