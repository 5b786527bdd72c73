"""`devbox init --fix`'s edit: the developed service builds `dev`, every other byte kept."""

import difflib

import pytest
import yaml

from devbox.errors import DevboxError, ExitCode
from devbox.project.merge import set_dev_target

COMMENTED = """\
# Our stack. Do not reorder.
name: shop
services:
  web:  # the app
    build:
      context: .   # the project
      target: prod  # by mistake
    ports:
      - "8000:8000"   # host:container
    environment:
      GREETING:   'hi'  # odd spacing, kept
    develop:
      watch:
        - {action: sync, path: ., target: /app}
  db:
    image: postgres:16
"""


def changed_lines(old: str, new: str) -> list[str]:
    """The lines of `new` that `old` does not have, in order (a diff's `+` lines)."""
    diff = difflib.ndiff(old.splitlines(keepends=True), new.splitlines(keepends=True))
    return [line[2:] for line in diff if line.startswith("+ ")]


def removed_lines(old: str, new: str) -> list[str]:
    diff = difflib.ndiff(old.splitlines(keepends=True), new.splitlines(keepends=True))
    return [line[2:] for line in diff if line.startswith("- ")]


def test_target_prod_becomes_dev_and_nothing_else_changes() -> None:
    fixed = set_dev_target(COMMENTED, file="compose.yaml", service="web")
    assert fixed.was == "prod"
    assert fixed.text == COMMENTED.replace("target: prod  # by", "target: dev  # by")


@pytest.mark.parametrize("quote", ['"', "'"])
def test_a_quoted_target_keeps_its_quotes(quote: str) -> None:
    text = COMMENTED.replace("target: prod", f"target: {quote}prod{quote}")
    fixed = set_dev_target(text, file="compose.yaml", service="web")
    assert fixed.text == text.replace(f"{quote}prod{quote}", f"{quote}dev{quote}")


def test_a_short_build_becomes_a_mapping_on_its_own_line() -> None:
    text = "services:\n  web:\n    build: .  # prod, by mistake\n    ports: [8000]\n"
    fixed = set_dev_target(text, file="compose.yaml", service="web")
    assert fixed.was is None
    assert fixed.text == (
        "services:\n  web:\n    build: {context: ., target: dev}  # prod, by mistake\n"
        "    ports: [8000]\n"
    )


def test_a_quoted_short_build_keeps_its_quotes() -> None:
    text = 'services:\n  web:\n    build: "./app"\n'
    fixed = set_dev_target(text, file="compose.yaml", service="web")
    assert fixed.text == 'services:\n  web:\n    build: {context: "./app", target: dev}\n'


def test_a_block_mapping_gets_one_line_after_its_last_plain_key() -> None:
    text = (
        "services:\n  web:\n    build:\n      context: .\n      dockerfile: Dockerfile  # ours\n"
        "      args:\n        A: 1\n    image: shop\n"
    )
    fixed = set_dev_target(text, file="compose.yaml", service="web")
    assert changed_lines(text, fixed.text) == ["      target: dev\n"]
    assert removed_lines(text, fixed.text) == []
    assert yaml.safe_load(fixed.text)["services"]["web"]["build"] == {
        "context": ".",
        "dockerfile": "Dockerfile",
        "args": {"A": 1},
        "target": "dev",
    }


def test_a_block_mapping_of_nested_values_only_gets_the_line_first() -> None:
    text = "services:\n  web:\n    build:\n      args:\n        A: 1\n"
    fixed = set_dev_target(text, file="compose.yaml", service="web")
    assert (
        fixed.text
        == "services:\n  web:\n    build:\n      target: dev\n      args:\n        A: 1\n"
    )


def test_a_flow_mapping_is_extended_in_place() -> None:
    text = "services:\n  web:\n    build: {context: ., dockerfile: D}   # flow\n"
    fixed = set_dev_target(text, file="compose.yaml", service="web")
    assert fixed.text == (
        "services:\n  web:\n    build: {context: ., dockerfile: D, target: dev}   # flow\n"
    )


def test_crlf_and_a_bom_are_kept_byte_for_byte() -> None:
    text = "\ufeff" + COMMENTED.replace("\n", "\r\n")
    fixed = set_dev_target(text, file="compose.yaml", service="web")
    assert fixed.text == text.replace("target: prod  # by", "target: dev  # by")
    block = "\ufeffservices:\r\n  web:\r\n    build:\r\n      context: .\r\n    image: x\r\n"
    fixed = set_dev_target(block, file="compose.yaml", service="web")
    assert fixed.text == block.replace("context: .\r\n", "context: .\r\n      target: dev\r\n")


def test_an_indent_of_four_is_followed() -> None:
    text = "services:\n    web:\n        build:\n            context: .\n"
    fixed = set_dev_target(text, file="compose.yaml", service="web")
    assert fixed.text == text + "            target: dev\n"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "x-b: &b\n  context: .\nservices:\n  web:\n    build: *b\n  api:\n    build: *b\n",
            "compose.yaml: services.web.build: is an anchor that other services share; "
            "set `target: dev` under services.web.build by hand (a copy of it)",
        ),
        (
            "x-b: &b\n  build: .\nservices:\n  web:\n    <<: *b\n",
            "compose.yaml: services.web.build: comes from an anchor that other services share "
            "(`<<:` or an alias); set `target: dev` under services.web.build by hand, in the "
            "service's own `build:`",
        ),
        (
            "services:\n  web:\n    image: x\n",
            "compose.yaml: services.web.build: missing; add `build: {context: ., target: dev}`",
        ),
    ],
)
def test_what_cannot_be_edited_in_place_is_one_line(text: str, problem: str) -> None:
    with pytest.raises(DevboxError) as caught:
        set_dev_target(text, file="compose.yaml", service="web")
    assert caught.value.code is ExitCode.CONFIG
    assert caught.value.message == problem
