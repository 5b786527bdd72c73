import os
from pathlib import Path

from devbox.project.compose import ComposeProject, Service
from devbox.sync.composed import compose_image, stale


def test_compose_names_the_image_after_project_and_service(tmp_path: Path) -> None:
    project = ComposeProject(files=(tmp_path / "compose.yaml",), project_dir=tmp_path, name="shop")
    assert compose_image(project, Service(name="web", context=tmp_path)) == "shop-web"
    named = Service(name="web", context=tmp_path, image="registry/web:dev")
    assert compose_image(project, named) == "registry/web:dev"


def test_an_image_is_stale_when_missing_or_older_than_an_input(tmp_path: Path) -> None:
    lock = tmp_path / "uv.lock"
    lock.write_text("")
    os.utime(lock, (1000, 1000))
    inputs = [lock, tmp_path / "absent"]
    assert stale(None, inputs)
    assert not stale(2000.0, inputs)
    assert stale(500.0, inputs)
    assert not stale(0.0, [tmp_path / "absent"])  # no input at all: nothing to rebuild for
