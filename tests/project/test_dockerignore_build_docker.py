"""Pin `BuildIgnore` to BuildKit itself (real engine): for each `.dockerignore`, what a build
copies (`COPY . /ctx` into a scratch stage, exported or listed) is what devbox predicts.

`docker build` is what the fallback runs; `docker compose build` what watch mode runs."""

import io
import random
import subprocess
import tarfile
import uuid
from pathlib import Path

import pytest

from devbox.project.dockerignore import BuildIgnore, Walk, build_ignore_path, parse_ignore_text
from devbox.project.secrets import block_patterns

pytestmark = pytest.mark.docker

TREE = (
    ".env", ".env.local", ".env.example", ".envrc", "app.py", "weird name.txt",
    "config/.env", "config/.env.example", "config/settings.py",
    "a/keep.pem", "a/b/server.pem", "a/b/.netrc", "a/b/c/id_rsa", "a/b/c/id_rsa.pub",
    "certs/tls.key", "certs/public.crt", ".aws/credentials", ".aws/config",
    "deploy/secrets/token", "deploy/secrets/ok.txt", "secrets/x", "secrets/sub/y",
    "home/.npmrc", ".pypirc", ".venv/pyvenv.cfg", ".venv/bin/python",
    "src/pkg/__init__.py", "src/pkg/.env", "src/pkg/sub/.env.example", ".git/config",
    "node_modules/x/.env", "build/out.txt", "dir.with.dots/f",
)  # fmt: skip

CASES: list[list[str]] = [
    [],
    ["."],
    [".", ".env", "!."],
    ["/"],
    ["./.env", "a/../.aws", "/config/"],
    block_patterns(),
    [*block_patterns(), "!a/keep.pem", "!deploy/secrets/ok.txt", "!src/pkg/.env"],
    ["secrets", "!secrets/sub/y"],
    ["secrets", "!**/y"],  # BuildKit never enters `secrets/` for this `!`
    ["*", "!src"],
    ["*", "!src", *block_patterns()],
    ["**/.env*", "!**/.env.example"],
    ["a", "!a/b/server.pem"],
    ["a/b", "!a/b/c", "a/b/c/id_rsa.pub"],
    ["**", "!**/*.py"],
    ["**", "!src", "!src/**"],
    ["*.pem", "config/", ".aws/"],
    ["!.env"],
    [".venv", "!.venv/pyvenv.cfg"],
    ["**/*.pem", "!a/*.pem"],
    ["*/*/*", "!*/b"],
    ["[a-c]", "!a/b"],
    ["**/.*", "!.git"],
    [".dockerignore", "*.txt"],
]

POOL = [
    ".", "*", "**", "a", "a/", "a/b", "a/b/c", "secrets", "**/secrets", "**/.env", ".env*",
    "**/*.pem", "*.pem", "**/id_rsa*", ".aws", "**/.aws", "config", "src/**", "**/sub",
    "*/*", "d*", ".venv", "**/.*", "a/**/c", "**/c/*",
]  # fmt: skip


def random_cases(count: int) -> list[list[str]]:
    pick = random.Random(23)  # noqa: S311  # fixed cases, not secrets
    cases = []
    for _ in range(count):
        size = pick.randint(1, 5)
        cases.append(
            [("!" if pick.random() < 0.35 else "") + pick.choice(POOL) for _ in range(size)]
        )
    return cases


def seed(context: Path, ignore: list[str]) -> None:
    for name in TREE:
        (context / name).parent.mkdir(parents=True, exist_ok=True)
        (context / name).write_text("x\n")
    (context / ".dockerignore").write_text("\n".join(ignore) + "\n")


def predicted(context: Path, walk: Walk) -> set[str]:
    patterns = parse_ignore_text((context / ".dockerignore").read_text())
    build = BuildIgnore(patterns, walk=walk)
    return {name for name in (*TREE, ".dockerignore") if build.copies(name)}


def built_by_docker(tmp: Path) -> set[str]:
    (tmp / "Dockerfile").write_text("FROM scratch\nCOPY . /ctx\n")
    out = tmp / "out"
    subprocess.run(
        ["docker", "build", "--quiet", "-f", str(tmp / "Dockerfile"),
         "--output", f"type=local,dest={out}", str(tmp / "ctx")],
        capture_output=True, check=True, timeout=120,
    )  # fmt: skip
    root = out / "ctx"
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


ALL_CASES = CASES + random_cases(40)


def ids(case: list[str]) -> str:
    return "|".join(case) or "-"


@pytest.mark.parametrize("ignore", ALL_CASES, ids=ids)
def test_build_ignore_predicts_what_docker_build_copies(tmp_path: Path, ignore: list[str]) -> None:
    # Docker's 20.10 client (this machine's) walks the context itself: the legacy walk
    seed(tmp_path / "ctx", ignore)
    assert built_by_docker(tmp_path) == predicted(tmp_path / "ctx", "legacy")


def image_files(image: str) -> set[str]:
    created = subprocess.run(
        ["docker", "create", image, "/none"], capture_output=True, text=True, check=True
    ).stdout.strip()
    try:
        exported = subprocess.run(
            ["docker", "export", created], capture_output=True, check=True
        ).stdout
    finally:
        subprocess.run(["docker", "rm", "-f", created], capture_output=True, check=False)
    with tarfile.open(fileobj=io.BytesIO(exported)) as tar:
        return {
            m.name.removeprefix("ctx/") for m in tar if m.isfile() and m.name.startswith("ctx/")
        }


@pytest.mark.parametrize("ignore", ALL_CASES, ids=ids)
def test_build_ignore_predicts_what_compose_build_copies(
    tmp_path: Path, compose_2_40: str, ignore: list[str]
) -> None:
    seed(tmp_path / "ctx", ignore)
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY . /ctx\n")
    image = f"devbox-test-ctx-{uuid.uuid4().hex[:8]}:latest"
    (tmp_path / "compose.yaml").write_text(
        f"services:\n  ctx:\n    image: {image}\n"
        f"    build: {{context: ./ctx, dockerfile: {tmp_path / 'Dockerfile'}}}\n"
    )
    project = f"devbox-test-ctx-{uuid.uuid4().hex[:8]}"
    try:
        subprocess.run(
            ["docker", "compose", "-p", project, "-f", str(tmp_path / "compose.yaml"), "build"],
            capture_output=True, check=True, timeout=180,
        )  # fmt: skip
        assert image_files(image) == predicted(tmp_path / "ctx", "current")
    finally:
        subprocess.run(["docker", "image", "rm", "-f", image], capture_output=True, check=False)


def test_a_dockerfile_specific_ignore_file_wins_in_both_builds(
    tmp_path: Path, compose_2_40: str
) -> None:
    context = tmp_path / "ctx"
    seed(context, [".env"])
    (context / "Dockerfile.dockerignore").write_text("config\n")
    assert build_ignore_path(context) == context / "Dockerfile.dockerignore"
    (context / "Dockerfile").write_text("FROM scratch\nCOPY . /ctx\n")
    out = tmp_path / "out"
    subprocess.run(
        ["docker", "build", "--quiet", "--output", f"type=local,dest={out}", str(context)],
        capture_output=True, check=True, timeout=120,
    )  # fmt: skip
    assert (out / "ctx" / ".env").is_file() and not (out / "ctx" / "config").exists()
    image = f"devbox-test-ctx-{uuid.uuid4().hex[:8]}:latest"
    (tmp_path / "compose.yaml").write_text(
        f"services:\n  ctx:\n    image: {image}\n    build: ./ctx\n"
    )
    try:
        subprocess.run(
            ["docker", "compose", "-p", f"devbox-test-ctx-{uuid.uuid4().hex[:8]}",
             "-f", str(tmp_path / "compose.yaml"), "build"],
            capture_output=True, check=True, timeout=180,
        )  # fmt: skip
        files = image_files(image)
        assert ".env" in files and not [f for f in files if f.startswith("config/")]
    finally:
        subprocess.run(["docker", "image", "rm", "-f", image], capture_output=True, check=False)
