"""The docs cannot drift: docs/index.md is generated from the README, and dev-loop.md's
settings table from devbox/engine/applied.py (both by scripts/docs_generate.py)."""

import importlib.util
from types import ModuleType

from tests.conftest import REPO

FIX = "run `uv run python scripts/docs_generate.py`"


def _generator() -> ModuleType:
    path = REPO / "scripts" / "docs_generate.py"
    spec = importlib.util.spec_from_file_location("docs_generate", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_index_is_the_readme() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    index = (REPO / "docs" / "index.md").read_text(encoding="utf-8")
    assert index == _generator().index_from_readme(readme), FIX


def test_dev_loop_page_holds_the_settings_table_of_the_code() -> None:
    page = (REPO / "docs" / "dev-loop.md").read_text(encoding="utf-8")
    assert page == _generator().with_settings_table(page), FIX


def test_readme_is_short_and_every_page_is_in_the_site() -> None:
    assert len((REPO / "README.md").read_text().splitlines()) <= 150
    nav = (REPO / "mkdocs.yml").read_text()
    for page in sorted((REPO / "docs").glob("*.md")):
        assert f": {page.name}" in nav, f"{page.name} is not in mkdocs.yml's nav"
