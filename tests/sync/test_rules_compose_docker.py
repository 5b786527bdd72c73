"""The watch rules devbox applies are Compose's, with `include:` and `extends:` (issue #23
item 11), checked against the real Compose 2.40: its `config --format json` is the model
Compose watch runs, and devbox's rules (read without Compose, so the fallback has them
too) must equal its rules, path for path."""

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from devbox.project.compose import load_compose
from devbox.project.locate import locate
from devbox.sync.rules import load_rules

pytestmark = pytest.mark.docker


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def compose_rules(project: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Each service's watch rules as Compose resolves them."""
    result = subprocess.run(
        ["docker", "compose", "--project-directory", str(project), "config", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
        cwd=project,
    )
    model = json.loads(result.stdout)
    return {
        name: [
            (r["path"], r["action"], r.get("target"), tuple(r.get("ignore") or ()))
            for r in (svc.get("develop") or {}).get("watch", [])
        ]
        for name, svc in model["services"].items()
    }


def devbox_rules(project: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Each service's watch rules as devbox applies them."""
    model = load_compose(locate(project))
    return {
        name: [
            (str(r.path), r.action.value, r.target, r.ignore) for r in load_rules(model, svc).rules
        ]
        for name, svc in model.services.items()
    }


def contexts(project: Path) -> tuple[dict[str, str], dict[str, str]]:
    result = subprocess.run(
        ["docker", "compose", "config", "--format", "json"],
        capture_output=True, text=True, check=True, cwd=project,
    )  # fmt: skip
    services = json.loads(result.stdout)["services"].items()
    theirs = {n: s["build"]["context"] for n, s in services if "build" in s}
    ours = {
        n: str(s.context) for n, s in load_compose(locate(project)).services.items() if s.context
    }
    return theirs, ours


INCLUDED = """\
services:
  api:
    build: ./app
    develop:
      watch:
        - {action: sync, path: ./app, target: /app, ignore: [.venv/]}
        - {action: rebuild, path: ./app/uv.lock}
"""
BASE = """\
services:
  common:
    build: .
    develop:
      watch:
        - {action: sync, path: ./src, target: /src}
"""


@pytest.mark.parametrize(
    "files",
    [
        pytest.param(
            {
                "compose.yaml": "include:\n  - sub/compose.yaml\nservices:\n  db:\n    image: x\n",
                "sub/compose.yaml": INCLUDED,
            },
            id="include",
        ),
        pytest.param(
            {
                "compose.yaml": (
                    "include:\n  - path: [sub/compose.yaml, sub/more.yaml]\n"
                    "    project_directory: sub\n"
                    "services:\n  db:\n    image: x\n"
                ),
                "sub/compose.yaml": INCLUDED,
                "sub/more.yaml": (
                    "services:\n  api:\n    develop:\n      watch:\n"
                    "        - {action: sync+restart, path: ./conf, target: /etc/app}\n"
                ),
            },
            id="include-with-overrides",
        ),
        pytest.param(
            {
                "compose.yaml": (
                    "services:\n  web:\n    extends: {file: base/common.yaml, service: common}\n"
                    "    develop:\n      watch:\n        - {action: sync, path: ./web, target: /web}\n"
                ),
                "base/common.yaml": BASE,
            },
            id="extends-file",
        ),
        pytest.param(
            {
                "compose.yaml": (
                    "services:\n  base:\n    build: .\n    develop:\n      watch:\n"
                    "        - {action: sync, path: ./src, target: /app/src}\n"
                    "  web:\n    extends: base\n    build: {context: ., target: dev}\n"
                ),
            },
            id="extends-same-file",
        ),
        pytest.param(
            {
                "compose.yaml": (
                    "services:\n  web:\n    build: .\n    develop:\n      watch:\n"
                    "        - {action: sync, path: ./src, target: /app/src}\n"
                ),
                "compose.override.yaml": (
                    "services:\n  web:\n    develop:\n      watch:\n"
                    "        - {action: rebuild, path: ./uv.lock}\n"
                ),
            },
            id="override-appends",
        ),
        pytest.param(
            {
                "compose.yaml": "include:\n  - sub/compose.yaml\n",
                "sub/compose.yaml": (
                    "services:\n  api:\n    extends: {file: ../base/common.yaml, service: common}\n"
                ),
                "base/common.yaml": BASE,
            },
            id="include-of-extends",
        ),
    ],
)
def test_devbox_applies_the_rules_compose_resolves(
    tmp_path: Path, compose_2_40: str, files: dict[str, str]
) -> None:
    project = write(tmp_path / "proj", files)
    for folder in ("sub/app", "base", "."):
        (project / folder).mkdir(parents=True, exist_ok=True)
        (project / folder / "Dockerfile").write_text("FROM scratch\n")
    theirs = compose_rules(project)
    assert any(theirs.values()), theirs  # the case has rules to compare
    assert devbox_rules(project) == theirs
    built_theirs, built_ours = contexts(project)
    assert built_ours == built_theirs  # and the build contexts, which the ignore files are in
