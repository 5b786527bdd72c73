"""Which compose files devbox hands Compose: the ones Compose itself would pick."""

import os
from pathlib import Path

import pytest

from devbox.errors import DevboxError, ExitCode
from devbox.project.locate import (
    COMPOSE_FILE_NAMES,
    OVERRIDE_FILE_NAMES,
    default_compose_files,
    locate,
    require_compose,
)


@pytest.fixture(autouse=True)
def _no_compose_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COMPOSE_FILE", raising=False)
    monkeypatch.delenv("COMPOSE_PATH_SEPARATOR", raising=False)


def touch(folder: Path, *names: str) -> None:
    for name in names:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("services: {}\n")


@pytest.mark.parametrize("name", COMPOSE_FILE_NAMES)
def test_each_default_name_alone(tmp_path: Path, name: str) -> None:
    touch(tmp_path, name)
    assert locate(tmp_path).compose_files == (tmp_path / name,)


@pytest.mark.parametrize("name", OVERRIDE_FILE_NAMES)
def test_each_override_name_follows_the_main_file(tmp_path: Path, name: str) -> None:
    touch(tmp_path, "compose.yaml", name)
    paths = locate(tmp_path)
    assert paths.compose_files == (tmp_path / "compose.yaml", tmp_path / name)
    assert paths.compose_file == tmp_path / "compose.yaml"


def test_compose_go_preference_order(tmp_path: Path) -> None:
    touch(tmp_path, *COMPOSE_FILE_NAMES, *OVERRIDE_FILE_NAMES)
    assert default_compose_files(tmp_path) == (
        tmp_path / "compose.yaml",
        tmp_path / "compose.override.yml",
    )
    (tmp_path / "compose.yaml").unlink()
    (tmp_path / "compose.override.yml").unlink()
    assert default_compose_files(tmp_path) == (
        tmp_path / "compose.yml",
        tmp_path / "compose.override.yaml",
    )


def test_an_override_alone_is_no_compose_file(tmp_path: Path) -> None:
    touch(tmp_path, "compose.override.yaml", "pyproject.toml")
    paths = locate(tmp_path)
    assert (paths.dir, paths.compose_files) == (tmp_path, ())
    assert paths.compose_file == tmp_path / "compose.yaml"  # where init writes it


def test_found_from_a_subfolder_with_its_override(tmp_path: Path) -> None:
    touch(tmp_path, "docker-compose.yml", "docker-compose.override.yaml")
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    assert locate(tmp_path / "src" / "pkg").compose_files == (
        tmp_path / "docker-compose.yml",
        tmp_path / "docker-compose.override.yaml",
    )


def test_a_project_marker_stops_the_search(tmp_path: Path) -> None:
    touch(tmp_path, "compose.yaml", "app/pyproject.toml")
    paths = locate(tmp_path / "app")
    assert (paths.dir, paths.compose_files) == (tmp_path / "app", ())


def test_compose_file_with_every_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    touch(tmp_path, "compose.yaml", "compose.override.yaml", "base.yml", "extra/dev.yml")
    monkeypatch.setenv("COMPOSE_FILE", f"base.yml{os.pathsep}{tmp_path / 'extra' / 'dev.yml'}")
    paths = locate(tmp_path)
    # the default file and its override are not added to COMPOSE_FILE's list
    assert paths.compose_files == (tmp_path / "base.yml", tmp_path / "extra" / "dev.yml")
    assert paths.dir == tmp_path


def test_compose_path_separator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    touch(tmp_path, "a.yml", "b.yml", "c.yml")
    monkeypatch.setenv("COMPOSE_PATH_SEPARATOR", ",")
    monkeypatch.setenv("COMPOSE_FILE", "a.yml,b.yml,,c.yml")
    assert locate(tmp_path).compose_files == tuple(
        tmp_path / n for n in ("a.yml", "b.yml", "c.yml")
    )


def test_compose_file_entry_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    touch(tmp_path, "a.yml")
    monkeypatch.setenv("COMPOSE_FILE", f"a.yml{os.pathsep}nope.yml")
    with pytest.raises(DevboxError) as caught:
        locate(tmp_path)
    assert caught.value.code is ExitCode.CONFIG
    assert (
        caught.value.message
        == f"{tmp_path / 'nope.yml'}: not found (from COMPOSE_FILE); fix COMPOSE_FILE"
    )


def test_no_compose_file_says_run_init(tmp_path: Path) -> None:
    with pytest.raises(DevboxError) as caught:
        require_compose(locate(tmp_path))
    assert caught.value.message == (
        f"{tmp_path}: no compose.yaml here or in a parent folder; run `devbox init` first"
    )


def workspace(root: Path, members: str = '["packages/*"]', exclude: str = "[]") -> Path:
    """A uv workspace root with one member, `packages/foo`; returns the member."""
    (root / "pyproject.toml").write_text(
        '[project]\nname = "root"\nversion = "0"\n\n'
        f"[tool.uv.workspace]\nmembers = {members}\nexclude = {exclude}\n"
    )
    member = root / "packages" / "foo"
    (member / "src" / "foo").mkdir(parents=True)
    (member / "pyproject.toml").write_text('[project]\nname = "foo"\nversion = "0"\n')
    return member


def test_a_workspace_member_belongs_to_its_root(tmp_path: Path) -> None:
    member = workspace(tmp_path)
    touch(tmp_path, "compose.yaml", "compose.override.yaml")
    for start in (member, member / "src" / "foo"):
        paths = locate(start)
        assert paths.dir == tmp_path
        assert paths.compose_files == (
            tmp_path / "compose.yaml",
            tmp_path / "compose.override.yaml",
        )


def test_a_workspace_member_before_init_belongs_to_its_root(tmp_path: Path) -> None:
    member = workspace(tmp_path)
    paths = locate(member)
    assert (paths.dir, paths.compose_files) == (tmp_path, ())
    assert paths.compose_file == tmp_path / "compose.yaml"  # where init writes it


def test_a_member_listed_by_name_belongs_to_its_root(tmp_path: Path) -> None:
    member = workspace(tmp_path, members='["packages/foo"]')
    assert locate(member).dir == tmp_path


def test_an_excluded_member_is_its_own_project(tmp_path: Path) -> None:
    member = workspace(tmp_path, exclude='["packages/foo"]')
    touch(tmp_path, "compose.yaml")
    assert locate(member) == type(locate(member))(member, ())


def test_a_folder_the_members_do_not_name_is_its_own_project(tmp_path: Path) -> None:
    member = workspace(tmp_path, members='["libs/*"]')
    touch(tmp_path, "compose.yaml")
    assert locate(member).dir == member


def test_a_member_with_its_own_compose_file_is_its_own_project(tmp_path: Path) -> None:
    member = workspace(tmp_path)
    touch(tmp_path, "compose.yaml")
    touch(member, "compose.yaml")
    assert locate(member).compose_files == (member / "compose.yaml",)


def test_a_nested_workspace_root_is_its_own_root(tmp_path: Path) -> None:
    member = workspace(tmp_path)
    (member / "pyproject.toml").write_text(
        '[project]\nname = "foo"\nversion = "0"\n[tool.uv.workspace]\nmembers = []\n'
    )
    assert locate(member).dir == member


def test_an_unreadable_parent_pyproject_is_no_workspace(tmp_path: Path) -> None:
    member = workspace(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[tool.uv.workspace\n")
    assert locate(member).dir == member
