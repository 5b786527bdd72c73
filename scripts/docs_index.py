"""docs/index.md is README.md with its links made relative to docs/ (the home page of
the mkdocs site): `uv run python scripts/docs_index.py` writes it, tests/test_docs.py
checks it is current."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def index_from_readme(readme: str) -> str:
    text = readme.replace("](docs/", "](")
    text = text.replace("The [docs](index.md) (`uv run mkdocs serve`)", "These pages")
    # files outside docs/ are named, not linked (the site has only docs/)
    return re.sub(r"\[([^\]]+)\]\((LICENSE|CHANGELOG\.md)\)", r"\1", text)


if __name__ == "__main__":
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    (REPO / "docs" / "index.md").write_text(index_from_readme(readme), encoding="utf-8")
