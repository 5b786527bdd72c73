"""The docs cannot drift from the README: docs/index.md is generated from it."""

import importlib.util

from tests.conftest import REPO


def test_docs_index_is_the_readme() -> None:
    spec = importlib.util.spec_from_file_location("docs_index", REPO / "scripts" / "docs_index.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    index = (REPO / "docs" / "index.md").read_text(encoding="utf-8")
    assert index == module.index_from_readme(readme), "run `uv run python scripts/docs_index.py`"


def test_readme_is_short_and_every_page_is_in_the_site() -> None:
    assert len((REPO / "README.md").read_text().splitlines()) <= 150
    nav = (REPO / "mkdocs.yml").read_text()
    for page in sorted((REPO / "docs").glob("*.md")):
        assert f": {page.name}" in nav, f"{page.name} is not in mkdocs.yml's nav"
