"""`devbox init`'s own lines, without an engine."""

from pathlib import Path

from devbox.commands.init import _env_file_note
from devbox.engine.versions import Version
from devbox.project.locate import locate


def test_init_says_what_to_add_when_compose_cannot_skip_a_missing_file(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  shop:\n    build: .\n")
    paths = locate(tmp_path)
    why = "pydantic-settings in the dependencies"
    assert _env_file_note(paths, "shop", why, Version(2, 21, 0)) == [
        "compose.yaml: the app reads .env (pydantic-settings in the dependencies), which stays "
        "out of the image; Compose 2.21.0 cannot skip a missing env_file (2.24.0 can): add "
        "`env_file: .env` under services.shop once the file exists"
    ]
    (tmp_path / "compose.yaml").write_text(
        "services:\n  shop:\n    build: .\n    env_file: [{path: .env, required: false}]\n"
    )
    assert _env_file_note(paths, "shop", why, None) == [
        "compose.yaml: services.shop reads .env through env_file (pydantic-settings in the "
        "dependencies): the app sees its settings, while .env stays out of the image"
    ]
