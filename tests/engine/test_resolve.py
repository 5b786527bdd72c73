"""The develop-free copy of a compose file that the fallback gives Compose."""

from pathlib import Path

import yaml

from devbox.engine.resolve import strip_develop


def test_old_compose_gets_the_short_form(tmp_path: Path) -> None:
    data = {
        "services": {
            "app": {
                "build": ".",
                "env_file": [{"path": ".env", "required": False}, "base.env"],
                "develop": {"watch": []},
            }
        }
    }
    assert yaml.safe_load(strip_develop(data, tmp_path))["services"]["app"] == {
        "build": ".",
        "env_file": ["base.env"],
    }
    (tmp_path / ".env").write_text("A=1\n")
    copy = yaml.safe_load(strip_develop(data, tmp_path))["services"]["app"]
    assert copy["env_file"] == [".env", "base.env"]
    only = {"services": {"app": {"env_file": [{"path": "x.env", "required": False}]}}}
    assert yaml.safe_load(strip_develop(only, tmp_path))["services"]["app"] == {}


def test_the_fallback_build_copy_gets_the_short_form_too(tmp_path: Path) -> None:
    from devbox.engine.container import compose_without_develop

    data = {"services": {"app": {"build": ".", "env_file": [{"path": ".env", "required": False}]}}}
    text = compose_without_develop(data, images={"app": "img:dev"}, folder=tmp_path)
    assert yaml.safe_load(text)["services"]["app"] == {"build": ".", "image": "img:dev"}
