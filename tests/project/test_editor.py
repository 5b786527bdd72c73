"""The editor's files init writes (pure renders, and plans over files in tmp_path)."""

import json
from pathlib import Path
from typing import Any

import yaml

from devbox.project.editor import (
    add_attach,
    attach_configuration,
    editor_facts,
    plan_editor,
    plan_kept,
    plan_launch,
    render_devcontainer,
    render_override,
)
from devbox.project.scaffold import FileOutcome


def _jsonc(text: str) -> Any:
    return json.loads(
        "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("//"))
    )


def test_devcontainer_points_at_the_projects_compose_files_and_service(tmp_path: Path) -> None:
    files = [tmp_path / "compose.yaml", tmp_path / "compose.override.yaml"]
    facts = editor_facts(tmp_path, "web", files)
    data = _jsonc(render_devcontainer("shop", facts))
    assert data["dockerComposeFile"] == [
        "../compose.yaml",
        "../compose.override.yaml",
        "compose.devcontainer.yaml",
    ]
    assert data["service"] == "web"
    assert data["runServices"] == ["web"]
    assert data["workspaceFolder"] == "/app"
    assert data["shutdownAction"] == "stopCompose"
    assert data["customizations"] == {
        "vscode": {
            "settings": {"python.defaultInterpreterPath": "/app/.venv/bin/python"},
            "extensions": ["ms-python.python", "ms-python.debugpy"],
        }
    }


def test_the_override_binds_the_project_and_keeps_the_images_venv(tmp_path: Path) -> None:
    facts = editor_facts(tmp_path, "web", [tmp_path / "compose.yaml"])
    data = yaml.safe_load(render_override(facts))
    assert data == {
        "services": {
            "web": {
                "volumes": [
                    {"type": "bind", "source": ".", "target": "/app"},
                    {"type": "volume", "target": "/app/.venv"},
                ]
            }
        }
    }


def test_pycharm_steps_name_the_values_devbox_chose(tmp_path: Path) -> None:
    (tmp_path / ".devcontainer").mkdir()
    (tmp_path / ".devcontainer" / "compose.devcontainer.yaml").write_text("services: {}\n")
    facts = editor_facts(tmp_path, "web", [tmp_path / "compose.yaml"])
    steps = facts.pycharm_steps()
    assert len(steps) == 4
    assert "On Docker Compose" in steps[0]
    assert "compose.yaml, .devcontainer/compose.devcontainer.yaml; Service: web" in steps[1]
    assert "/app/.venv/bin/python" in steps[2]
    assert "-> /app" in steps[3]


def test_a_missing_launch_json_gets_the_attach_configuration(tmp_path: Path) -> None:
    result = plan_launch(tmp_path / ".vscode" / "launch.json", "web")
    assert result.outcome is FileOutcome.CREATED
    assert result.content is not None
    config = json.loads(result.content)["configurations"][0]
    assert config == attach_configuration("web")
    assert config["pathMappings"] == [{"localRoot": "${workspaceFolder}", "remoteRoot": "/app"}]
    assert config["connect"] == {"host": "127.0.0.1", "port": 5678}


def test_an_existing_launch_json_gets_it_inserted_every_byte_kept() -> None:
    old = (
        '{\n  // mine\n  "version": "0.2.0",\n  "configurations": [\n'
        '    {"name": "tests", "type": "debugpy", "request": "launch"}\n  ]\n}\n'
    )
    new = add_attach(old, "web")
    assert new is not None
    assert "// mine" in new
    assert new.replace(new[new.index("[") + 1 : new.index('    {"name": "tests"')], "\n") == old
    data = _jsonc(new)
    assert [c["name"] for c in data["configurations"]] == ["devbox: attach to web", "tests"]
    empty = add_attach('{"version": "0.2.0", "configurations": []}', "web")
    assert empty is not None
    assert [c["name"] for c in json.loads(empty)["configurations"]] == ["devbox: attach to web"]


def test_launch_json_devbox_cannot_place_it_in_is_kept_with_a_note(tmp_path: Path) -> None:
    path = tmp_path / "launch.json"
    path.write_text('{"version": "0.2.0"}\n')
    result = plan_launch(path, "web")
    assert result.outcome is FileOutcome.KEPT
    assert result.content is None
    assert '"remoteRoot": "/app"' in result.message
    path.write_text(json.dumps({"configurations": [attach_configuration("web")]}))
    again = plan_launch(path, "web")
    assert again.outcome is FileOutcome.KEPT
    assert again.content is None


def test_an_existing_devcontainer_is_never_replaced(tmp_path: Path) -> None:
    path = tmp_path / "devcontainer.json"
    path.write_text("{}  // mine\n")
    result = plan_kept(path, "{}\n")
    assert result.outcome is FileOutcome.KEPT
    assert result.content is None
    assert result.backup is None
    path.write_text("{}\n")
    assert plan_kept(path, "{}\n").outcome is FileOutcome.UNCHANGED


def test_plan_editor_plans_the_three_files(tmp_path: Path) -> None:
    facts = editor_facts(tmp_path, "web", [tmp_path / "compose.yaml"])
    results = plan_editor(tmp_path, "shop", facts)
    assert [r.path.relative_to(tmp_path).as_posix() for r in results] == [
        ".devcontainer/devcontainer.json",
        ".devcontainer/compose.devcontainer.yaml",
        ".vscode/launch.json",
    ]
    assert all(r.outcome is FileOutcome.CREATED for r in results)
