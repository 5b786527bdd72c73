"""Which `[tool.devbox]` keys `devbox init` chose, and which the user set.

init marks each value it chooses with a trailing comment holding a fingerprint of that
value (`port = 8000  # by devbox init [3e2f1a]`). A marked key whose value still matches
its fingerprint is init's: the next init chooses it again from what the project says
now. Any other key is the user's and is kept: one without the mark, and one whose value
the user edited (the fingerprint no longer matches), mark or not. The values of options
passed to init (`--command`, `--python-image`, ...) are the user's and carry no mark.
"""

import hashlib
import json
import re
from typing import Any

MARK = "by devbox init"
_MARKED = re.compile(rf"#\s*{MARK} \[(?P<digest>[0-9a-f]{{6}})\]\s*$")


def fingerprint(value: object) -> str:
    """Six hex digits that change when the value does."""
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:6]


def mark(value: object) -> str:
    """The trailing comment (without `#`) init writes after a value it chose."""
    return f"{MARK} [{fingerprint(value)}]"


def is_chosen(comment: str, value: object) -> bool:
    """Whether a key with this trailing comment and value is still init's choice."""
    found = _MARKED.search(comment)
    return found is not None and found["digest"] == fingerprint(value)


def devbox_table(document: Any) -> Any | None:
    """The `[tool.devbox]` table of a tomlkit document, or None."""
    tool = document.get("tool")
    table = tool.get("devbox") if hasattr(tool, "get") else None
    return table if hasattr(table, "item") else None


def chosen_keys(text: str) -> set[str]:
    """The `[tool.devbox]` keys in `text` that init chose and the user has not edited."""
    import tomlkit  # only init and its checks read the marks
    from tomlkit.exceptions import TOMLKitError

    try:
        table = devbox_table(tomlkit.parse(text))
    except TOMLKitError:
        return set()  # the settings reader reports the file
    if table is None:
        return set()
    return {
        key for key in table if is_chosen(table.item(key).trivia.comment, table.item(key).unwrap())
    }
