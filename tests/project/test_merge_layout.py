"""Merging into a user's compose file changes only the lines devbox adds: the file's own
indentation, list style, line endings, BOM, anchors and merge keys stay as they were."""

import difflib
from typing import Any

import pytest
import yaml

from devbox.errors import DevboxError
from devbox.project.merge import Layout, add_watch, detect_layout

WATCH: list[dict[str, Any]] = [
    {"action": "sync", "path": ".", "target": "/app", "ignore": [".venv/"]},
    {"action": "rebuild", "path": "./uv.lock"},
]
FOUR = (
    "# my services\n"
    "services:\n"
    "    app:\n"
    "        build: .\n"
    "        ports:\n"
    '            - "8000:8000"   # the API\n'
    "        environment:\n"
    "            A: '1'\n"
    "    db:\n"
    "        image: postgres:17\n"
)
CRLF = (
    "services:\r\n"
    "  app:\r\n"
    "    build: .  # here\r\n"
    "    ports:\r\n"
    "      - 8000:8000\r\n"
    "  db:\r\n"
    "    image: postgres:17\r\n"
)
BOM = "\ufeffservices:\n  app:\n    build: .\n    command: [app, --reload]\n"
SEQ0 = (
    "services:\n"
    "  app:\n"
    "    build: .\n"
    "    ports:\n"
    "    - 8000:8000\n"
    "    command:\n"
    "    - app\n"
    "    - --reload\n"
)
ANCHORS = (
    "x-common: &common\n"
    "  build: .\n"
    "  develop:\n"
    "    x-note: shared\n"
    "  environment:\n"
    "    LOG: debug\n"
    "services:\n"
    "  app:\n"
    "    <<: *common\n"
    "    ports:\n"
    '      - "8000:8000"\n'
    "  worker:\n"
    "    <<: *common\n"
    '    command: ["worker"]\n'
)


def only_additions(before: str, after: str) -> list[str]:
    """The lines `after` adds to `before`; fails when any line of `before` changed."""
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    added: list[str] = []
    for tag, _, _, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        assert tag in ("equal", "insert"), "".join(difflib.unified_diff(old, new))
        if tag == "insert":
            added += new[j1:j2]
    return added


@pytest.mark.parametrize(
    ("text", "layout", "first_added"),
    [
        (FOUR, Layout(4, 6, 4), "        develop:\n"),
        (CRLF, Layout(2, 4, 2, "\r\n"), "    develop:\r\n"),
        (BOM, Layout(2, 4, 2, bom=True), "    develop:\n"),
        (SEQ0, Layout(2, 2, 0), "    develop:\n"),
        (ANCHORS, Layout(2, 4, 2), "    develop:\n"),
    ],
    ids=["four-spaces", "crlf", "bom", "sequence-indent-0", "anchors-merge-keys"],
)
def test_merge_only_adds_lines_in_the_files_own_layout(
    text: str, layout: Layout, first_added: str
) -> None:
    assert detect_layout(text) == layout
    merged = add_watch(text, file="compose.yaml", service="app", watch=WATCH)
    assert merged is not None
    added = only_additions(text, merged.text)
    assert added[0] == first_added
    assert all(line.endswith(layout.newline) for line in added)
    assert merged.text.startswith("\ufeff") == layout.bom
    if layout.newline == "\n":
        assert "\r" not in merged.text
    watch = next(i for i, line in enumerate(added) if line.strip() == "watch:")
    rule = added[watch + 1].rstrip("\r\n")  # the first rule's dash, as the file's lists
    assert rule == " " * (len(first_added) - len(first_added.lstrip()) + layout.mapping) + (
        " " * layout.offset + "- action: sync"
    )


def test_a_merge_keyed_service_gets_its_own_develop_and_build() -> None:
    merged = add_watch(
        ANCHORS,
        file="compose.yaml",
        service="app",
        watch=WATCH,
        has_dev_stage=lambda context, dockerfile: True,
    )
    assert merged is not None and merged.added_target
    data = yaml.safe_load(merged.text)
    assert data["x-common"] == yaml.safe_load(ANCHORS)["x-common"]  # the anchor is untouched
    worker, app = data["services"]["worker"], data["services"]["app"]
    assert worker["develop"] == {"x-note": "shared"}
    assert worker["build"] == "."
    assert app["develop"] == {"x-note": "shared", "watch": WATCH}  # Compose's shallow merge
    assert app["build"] == {"context": ".", "target": "dev"}
    assert app["environment"] == {"LOG": "debug"}


def test_a_shared_build_mapping_is_copied_not_changed() -> None:
    text = "x-b: &b\n  context: .\nservices:\n  app:\n    build: *b\n  worker:\n    build: *b\n"
    merged = add_watch(
        text, file="c.yaml", service="app", watch=WATCH, has_dev_stage=lambda c, d: True
    )
    assert merged is not None
    data = yaml.safe_load(merged.text)
    assert data["services"]["worker"]["build"] == {"context": "."}
    assert data["services"]["app"]["build"] == {"context": ".", "target": "dev"}
    assert "develop" not in data["services"]["worker"]


@pytest.mark.parametrize(
    ("text", "anchor"),
    [
        ("x-base: &base\n  build: .\nservices:\n  app: *base\n  worker: *base\n", "base"),
        ("services:\n  app: &app\n    build: .\n  worker: *app\n", "app"),
    ],
)
def test_an_aliased_service_is_refused(text: str, anchor: str) -> None:
    with pytest.raises(DevboxError) as caught:
        add_watch(text, file="compose.yaml", service="app", watch=WATCH)
    assert caught.value.message == (
        f"compose.yaml: services.app: is the node &{anchor} that other keys share, so its "
        f"watch rules would be theirs; expand the alias: write `<<: *{anchor}` under "
        "services.app, then run init again"
    )
