from pathlib import Path

from devbox.commands.target import name_clash, other_folders
from devbox.engine.answers import ContainerInfo
from devbox.project.compose import load_compose
from devbox.project.locate import locate


def container(name: str, folder: str | None) -> ContainerInfo:
    return ContainerInfo(name, "app", "running", True, None, (), "img", folder=folder)


def test_containers_of_another_folder_with_the_same_project_name(tmp_path: Path) -> None:
    here = tmp_path / "b" / "proj"
    here.mkdir(parents=True)
    ours, unknown = container("ours", str(here)), container("old", None)
    theirs = container("theirs", str(tmp_path / "a" / "proj"))
    assert other_folders([ours, unknown, theirs], here) == [theirs]
    (here / "compose.yaml").write_text("services:\n  app:\n    image: x\n")
    project = load_compose(locate(here))
    assert name_clash(project, [ours, unknown]) is None
    clash = name_clash(project, [ours, theirs])
    assert clash is not None and clash.code == 3
    assert clash.message == (
        f"{here}/compose.yaml: name: the Compose project name 'proj' is already used by "
        f"{tmp_path}/a/proj (container theirs); give this project its own: set `name:` at the "
        f"top of compose.yaml (or COMPOSE_PROJECT_NAME), or run `devbox down` in {tmp_path}/a/proj"
    )
