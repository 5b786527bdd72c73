"""Which secrets the fallback hides in a bind-mounted container."""

from pathlib import Path

import pytest

from devbox.project.secrets import block_patterns
from devbox.sync.masks import Masks, secret_masks
from devbox.sync.rules import RuleSet, parse_watch_rules

SYNC_ALL = {"watch": [{"action": "sync", "path": ".", "target": "/app"}]}


def rules(project: Path, develop: object, dockerignore: list[str]) -> RuleSet:
    parsed = parse_watch_rules(
        develop, project_dir=project, compose_file=project / "compose.yaml", service="app"
    )
    return RuleSet(parsed, context_dir=project, dockerignore=dockerignore)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name in (".env", ".env.local", ".envrc", "app.py", ".gitignore"):
        (tmp_path / name).write_text("SECRET=1\n")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text("[core]\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / ".env").write_text("x")  # at any depth
    (tmp_path / ".env.link").symlink_to(tmp_path / ".env")
    return tmp_path


def test_what_the_dockerignore_excludes_is_masked(project: Path) -> None:
    masks = secret_masks(rules(project, SYNC_ALL, [".env", ".env.*"]), project)
    # .envrc and sub/.env are synced by this rule and .dockerignore, so a copy has them too
    assert masks == Masks(files=(".env", ".env.local"), folders=(".git",))
    assert masks.names == (".env", ".env.local", ".git")


def test_a_synced_env_file_stays_visible(project: Path) -> None:
    # The rules sync .env on purpose: the bind mount shows what a copy would.
    assert secret_masks(rules(project, SYNC_ALL, []), project) == Masks(folders=(".git",))


def test_a_rule_ignore_masks_too(project: Path) -> None:
    develop = {"watch": [{"action": "sync", "path": ".", "target": "/app", "ignore": [".env*"]}]}
    masks = secret_masks(rules(project, develop, []), project)
    assert masks.files == (".env", ".env.local", ".envrc")  # sub/.env is synced


def test_rules_watching_a_subfolder_mask_every_top_level_secret(project: Path) -> None:
    develop = {"watch": [{"action": "sync", "path": "./src", "target": "/app/src"}]}
    masks = secret_masks(rules(project, develop, []), project)
    assert masks == Masks(files=(".env", ".env.local", ".envrc", "sub/.env"), folders=(".git",))


def test_a_git_file_of_a_worktree_is_masked_as_a_file(tmp_path: Path) -> None:
    (tmp_path / ".git").write_text("gitdir: /elsewhere\n")
    assert secret_masks(rules(tmp_path, SYNC_ALL, []), tmp_path) == Masks(files=(".git",))


def seed(root: Path, names: list[str]) -> None:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("SECRET\n")


def test_the_generated_dockerignore_masks_every_secret_at_any_depth(tmp_path: Path) -> None:
    seed(tmp_path, [
        "app.py", "config/.env", "config/.env.example", "a/b/id_rsa", "a/b/server.pem",
        "certs/tls.key", ".aws/credentials", "deploy/secrets/token", "home/.npmrc",
        ".venv/lib/x.pem", "a/b/.pypirc", "a/.netrc",
    ])  # fmt: skip
    (tmp_path / "a" / "link.pem").symlink_to(tmp_path / "a" / "b" / "server.pem")
    masks = secret_masks(rules(tmp_path, SYNC_ALL, block_patterns()), tmp_path)
    assert masks == Masks(
        files=("a/.netrc", "a/b/.pypirc", "a/b/id_rsa", "a/b/server.pem",
               "certs/tls.key", "config/.env", "home/.npmrc"),
        folders=(".aws", "deploy/secrets"),
    )  # fmt: skip  # the example, the .venv (a volume of its own) and the link stay


def test_a_re_included_secret_stays_visible_and_its_folder_is_masked_file_by_file(
    tmp_path: Path,
) -> None:
    seed(tmp_path, ["certs/public.pem", "certs/private.pem", "secrets/ok.txt", "secrets/no"])
    ignore = [*block_patterns(), "!certs/public.pem", "!secrets/ok.txt"]
    masks = secret_masks(rules(tmp_path, SYNC_ALL, ignore), tmp_path)
    assert masks == Masks(files=("certs/private.pem", "secrets/no"))


def test_names_a_mount_spec_cannot_carry_are_left(tmp_path: Path) -> None:
    seed(tmp_path, ["a:b/.env", "c,d.pem", "ok/.env"])
    masks = secret_masks(rules(tmp_path, SYNC_ALL, block_patterns()), tmp_path)
    assert masks == Masks(files=("ok/.env",))


def test_dependency_folders_are_not_searched(tmp_path: Path) -> None:
    seed(tmp_path, ["node_modules/pkg/test/key.pem", "web/node_modules/x/.npmrc", "web/.npmrc"])
    masks = secret_masks(rules(tmp_path, SYNC_ALL, block_patterns()), tmp_path)
    assert masks == Masks(files=("web/.npmrc",))
