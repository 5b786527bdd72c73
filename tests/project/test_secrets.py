"""Which files count as secrets, what a .dockerignore lets a build copy of them, and the
findings `init --check` and `doctor` give."""

from pathlib import Path

import pytest

from devbox.commands.init import init_project
from devbox.project.check import check_dockerignore, check_project_dockerignore
from devbox.project.dockerignore import BuildIgnore, parse_ignore_text
from devbox.project.secrets import (
    SECRET_PATTERNS,
    Exposure,
    block_lines,
    block_patterns,
    copied_secrets,
    exposure,
    is_secret,
    shipped_on_purpose,
    walk_secrets,
)

SEEDED = (
    "app.py", ".env", "config/.env", "config/.env.production", "config/.env.example",
    ".env.sample", "deploy/.env.template", ".envrc", "a/b/c/id_rsa", "a/b/c/id_ed25519.pub",
    "keys/server.pem", "keys/tls.key", "keys/store.p12", "certs/ca.pfx", ".aws/credentials",
    "a/.aws/config", "home/.ssh/known_hosts", "web/.npmrc", ".pypirc", "x/.netrc",
    ".git-credentials", "db/.pgpass", "deploy/secrets/token", "secrets/db.txt",
    "gcp/credentials.json", "gcp/client_secret_123.json", "home/.kube/config",
    "home/.docker/config.json", "home/.config/gcloud/adc.json", "src/keyboard.py",
    "src/monkey.py", "docs/secrets.md", "src/pem.txt",
)  # fmt: skip
NOT_SECRETS = {
    "app.py", "config/.env.example", ".env.sample", "deploy/.env.template",
    "src/keyboard.py", "src/monkey.py", "docs/secrets.md", "src/pem.txt",
}  # fmt: skip


def seed(root: Path, names: tuple[str, ...] = SEEDED) -> Path:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("SECRET\n")
    return root


@pytest.mark.parametrize("name", SEEDED)
def test_secret_names_at_any_depth(name: str) -> None:
    assert is_secret(name) == (name not in NOT_SECRETS)


def test_the_block_keeps_every_secret_out_of_a_build_at_any_depth(tmp_path: Path) -> None:
    seed(tmp_path)
    assert copied_secrets(tmp_path, block_patterns()) == []
    assert exposure(block_patterns()) == Exposure(patterns=(), files=())


def test_the_generated_dockerignore_is_clean_on_a_seeded_project(sample_copy: Path) -> None:
    seed(sample_copy)
    init_project(project_dir=sample_copy)
    text = (sample_copy / ".dockerignore").read_text()
    assert "\n".join(block_lines()) in text
    assert copied_secrets(sample_copy, parse_ignore_text(text)) == []
    assert check_project_dockerignore(sample_copy) == []


def test_the_old_generated_dockerignore_lets_nested_secrets_in(tmp_path: Path) -> None:
    seed(tmp_path)
    copied = copied_secrets(tmp_path, [".venv", ".env", ".env.*"])
    assert ".env" not in copied and "config/.env" in copied
    assert set(copied) == {n for n in SEEDED if n not in NOT_SECRETS and n not in (".env",)} - {
        ".env"
    }
    assert set(exposure([".env", ".env.*"]).patterns) == set(SECRET_PATTERNS)  # all, by depth


def test_a_dot_line_ignores_nothing_in_a_build(tmp_path: Path) -> None:
    seed(tmp_path, (".env", ".venv/pyvenv.cfg", "app.py"))
    findings = check_dockerignore(".\n", found=copied_secrets(tmp_path, ["."]))
    problems = [f.problem for f in findings]
    assert problems[0] == ".venv is not ignored"
    assert problems[1] == "a build copies these secrets into the image: .env"
    assert problems[2].startswith("secrets at any depth are not ignored: **/.env, **/.env.*")


def test_a_re_included_secret_after_the_block_is_the_users(tmp_path: Path) -> None:
    seed(tmp_path, ("certs/public.pem", "certs/private.pem", "secrets/ok.txt"))
    ignore = [*block_patterns(), "!certs/public.pem", "!secrets/ok.txt"]
    build = BuildIgnore(parse_ignore_text("\n".join(ignore)))
    assert shipped_on_purpose(build, "certs/public.pem")
    assert not shipped_on_purpose(build, "certs/private.pem")
    matching = [build.patterns[i] for i in build.lines_matching("secrets/ok.txt")]
    assert matching == ["**/secrets", "!secrets/ok.txt"]
    assert copied_secrets(tmp_path, ignore) == ["certs/public.pem", "secrets/ok.txt"]
    assert exposure(ignore, copied_secrets(tmp_path, ignore)) == exposure(ignore)
    assert check_dockerignore("\n".join(ignore) + "\n.venv\n") == []


def test_an_allow_list_lets_the_secrets_of_what_it_allows_in(tmp_path: Path) -> None:
    seed(tmp_path, ("src/app.py", "src/.env", "src/keys/a.pem", "other/.env"))
    ignore = ["*", "!src"]
    assert copied_secrets(tmp_path, ignore) == ["src/.env", "src/keys/a.pem"]
    findings = check_dockerignore("*\n!src\n", found=copied_secrets(tmp_path, ignore))
    assert (
        findings[0].problem
        == "a build copies these secrets into the image: src/.env, src/keys/a.pem"
    )
    assert findings[0].fix.startswith("run devbox init to add its secrets block")
    # the block appended after the allow-list wins
    assert copied_secrets(tmp_path, [*ignore, *block_patterns()]) == []


def test_many_copied_secrets_are_counted(tmp_path: Path) -> None:
    seed(tmp_path, tuple(f"k{i}.pem" for i in range(8)))
    [finding, _] = check_dockerignore(".venv\n", found=copied_secrets(tmp_path, [".venv"]))
    assert finding.problem.endswith("k4.pem and 3 more")


def test_the_walk_never_follows_a_symlink_nor_enters_the_venv(tmp_path: Path) -> None:
    seed(tmp_path, (".venv/lib/x.pem", ".git/x.pem", "real/x.pem"))
    (tmp_path / "link").symlink_to(tmp_path / "real")
    (tmp_path / "y.pem").symlink_to(tmp_path / "real" / "x.pem")
    assert list(walk_secrets(tmp_path)) == [("real/x.pem", False)]


def test_check_of_a_project_reads_its_files(tmp_path: Path) -> None:
    assert check_project_dockerignore(tmp_path)[0].problem.startswith("missing")
    seed(tmp_path, ("deep/er/id_rsa",))
    (tmp_path / ".dockerignore").write_text("\n".join([".venv", *block_patterns()]) + "\n")
    assert check_project_dockerignore(tmp_path) == []
    (tmp_path / ".dockerignore").write_text(".venv\n.env\n")
    problems = [f.problem for f in check_project_dockerignore(tmp_path)]
    assert problems[0] == "a build copies these secrets into the image: deep/er/id_rsa"


def test_a_dockerfile_specific_ignore_file_is_the_one_judged_and_merged(
    sample_copy: Path,
) -> None:
    seed(sample_copy, ("config/.env",))
    (sample_copy / "Dockerfile.dockerignore").write_text(".venv\n")
    problems = [str(f) for f in check_project_dockerignore(sample_copy)]
    assert problems[0].startswith(
        "Dockerfile.dockerignore: a build copies these secrets into the image: config/.env"
    )
    init_project(project_dir=sample_copy)
    assert "\n".join(block_lines()) in (sample_copy / "Dockerfile.dockerignore").read_text()
    assert check_project_dockerignore(sample_copy) == []


def test_an_allow_list_misses_every_secret_pattern_under_what_it_allows() -> None:
    assert exposure(["*", "!src"]).patterns == SECRET_PATTERNS
    assert exposure(["*", "!src", *block_patterns()]).patterns == ()
    assert exposure(["*", "!src/**/*.py"]).patterns == ()  # only sources get in
