"""Files that hold secrets: kept out of every image devbox generates, reported when a
user's `.dockerignore` would let a build copy them, hidden in bind-mounted containers.

One list serves all three. Patterns start with `**/`, so they hold at any depth. The
examples of an env file (`.env.example`, `.env.sample`, `.env.template`) are not secrets:
they document which variables exist and stay in images (and visible in containers). A
user ships one secret file anyway with a `!path` line below devbox's block.
"""

import os
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from devbox.project.dockerignore import BuildIgnore, PatternMatcher

# Env files first: the `!` lines for their examples must come before the folder patterns,
# so that `secrets/.env.example` stays out with the rest of `secrets/`.
ENV_PATTERNS = ("**/.env", "**/.env.*", "**/.envrc")
ENV_EXAMPLES = ("**/.env.example", "**/.env.sample", "**/.env.template")
KEY_PATTERNS = (
    # private keys and certificates
    "**/*.pem",
    "**/*.key",
    "**/*.p12",
    "**/*.pfx",
    "**/*.jks",
    "**/id_rsa*",
    "**/id_dsa*",
    "**/id_ecdsa*",
    "**/id_ed25519*",
    "**/.ssh",
    "**/.gnupg",
    # cloud and cluster credentials
    "**/.aws",
    "**/.azure",
    "**/.config/gcloud",
    "**/.kube",
    "**/.docker/config.json",
    "**/credentials.json",
    "**/client_secret*.json",
    # package managers and other tools' tokens
    "**/.npmrc",
    "**/.pypirc",
    "**/.netrc",
    "**/.git-credentials",
    "**/.pgpass",
    "**/.htpasswd",
    # folders named for secrets
    "**/secrets",
    "**/.secrets",
)
BLOCK_HEADER = (
    "# Secrets, at any depth: never copied into an image. To ship one anyway, add a line",
    "# `!path/to/file` below this block. `.env.example`-style files stay in.",
)


def block_patterns() -> list[str]:
    """The patterns of devbox's secrets block, in order."""
    return [*ENV_PATTERNS, *("!" + p for p in ENV_EXAMPLES), *KEY_PATTERNS]


def block_lines() -> list[str]:
    """devbox's secrets block as lines of a `.dockerignore`: comments, then its patterns."""
    return [*BLOCK_HEADER, *block_patterns()]


SECRET_PATTERNS = (*ENV_PATTERNS, *KEY_PATTERNS)
_SECRETS = PatternMatcher(block_patterns())
_FOLDERS = PatternMatcher(SECRET_PATTERNS)  # a folder `.env.example/` is no example file


def is_secret(rel_path: str) -> bool:
    """Whether `rel_path` (relative to the project) is, or lies in, a secret by its name."""
    return _SECRETS.matches(rel_path)


def is_secret_folder(rel_path: str) -> bool:
    """Whether the folder `rel_path` is itself secret (everything under it is)."""
    return _FOLDERS.matches(rel_path)


def _bases(ignore: Sequence[str]) -> list[str]:
    """Folders to try secrets in: the top, two folders down, and under what each `!` line
    re-includes (an allow-list `*`, `!src` copies `src/.env`)."""
    bases = ["", "deep/er/"]
    for line in ignore:
        if line.startswith("!"):
            body = line[1:]
            cut = next((i for i, c in enumerate(body) if c in "*?[\\"), None)
            folder = body if cut is None else body[: body.rfind("/", 0, cut) + 1]
            if folder.strip("/") and folder.rstrip("/") + "/" not in bases:
                bases.append(folder.rstrip("/") + "/")
    return bases


def _samples(pattern: str, bases: Sequence[str]) -> tuple[str, ...]:
    """Paths that stand for `pattern` in each of `bases`."""
    name = pattern.removeprefix("**/").replace("*", "x")
    return tuple(base + name for base in bases)


@dataclass(frozen=True)
class Exposure:
    """What a `.dockerignore` lets into an image: secret patterns it does not cover, and
    secret files of the project a build would copy (neither re-included on purpose)."""

    patterns: tuple[str, ...]
    files: tuple[str, ...]


def shipped_on_purpose(build: BuildIgnore, rel_path: str) -> bool:
    """Whether a `!` line after a line of devbox's block re-includes `rel_path`: the user
    asked for that secret to be in the image."""
    block = set(SECRET_PATTERNS)
    covered = False
    for i in build.lines_matching(rel_path):
        line = build.patterns[i]
        if not line.startswith("!"):
            covered = covered or line in block
        elif covered:
            return True
    return False


def exposure(ignore: Sequence[str], found: Sequence[str] = ()) -> Exposure:
    """Which secrets a build with the `.dockerignore` lines `ignore` (parsed) copies:
    devbox's patterns, by sample paths (`_bases`), and `found`, the project's secret files
    (pure)."""
    build = BuildIgnore(ignore)

    def leaks(path: str) -> bool:
        return build.copies(path) and not shipped_on_purpose(build, path)

    bases = _bases(ignore)
    patterns = tuple(p for p in SECRET_PATTERNS if any(leaks(s) for s in _samples(p, bases)))
    return Exposure(patterns, tuple(path for path in found if leaks(path)))


_SKIP = frozenset({".git", ".venv", ".devbox"})
WALK_LIMIT = 100_000  # entries looked at; a bound on time for a huge project


def walk_secrets(
    root: Path, *, build: BuildIgnore | None = None, prune: frozenset[str] = frozenset()
) -> Iterator[tuple[str, bool]]:
    """(relative path, is a folder) of each secret under `root`, breadth first (the top
    first, should a huge tree reach `WALK_LIMIT`), never following a symlink nor entering a
    secret folder, the top-level `.git`/`.venv`/`.devbox` or a folder named in `prune`;
    with `build`, only what that build copies (it prunes what the build skips).

    Symlinks are not reported: a build copies a link as a link, and masking one would
    cover whatever it points at."""
    todo = deque([""])
    seen = 0
    while todo and seen < WALK_LIMIT:
        folder = todo.popleft()
        try:
            with os.scandir(root / folder if folder else root) as entries:
                listed = sorted(entries, key=lambda e: e.name)
        except OSError:
            continue
        for entry in listed:
            seen += 1
            rel = f"{folder}/{entry.name}" if folder else entry.name
            if entry.is_symlink():
                continue
            if entry.is_dir():
                if build is not None and build.skips_dir(rel):
                    continue
                if is_secret_folder(rel):
                    yield rel, True
                elif not ((folder == "" and entry.name in _SKIP) or entry.name in prune):
                    todo.append(rel)
            elif entry.is_file() and is_secret(rel) and (build is None or build.copies(rel)):
                yield rel, False


def copied_secrets(root: Path, ignore: Sequence[str]) -> list[str]:
    """The project's secret files (and files in secret folders) a build would copy."""
    build = BuildIgnore(ignore)
    found: list[str] = []
    for rel, is_folder in walk_secrets(root, build=build):
        if not is_folder:
            found.append(rel)
            continue
        for dirpath, dirnames, filenames in os.walk(root / rel):
            base = Path(dirpath).relative_to(root).as_posix()
            dirnames[:] = sorted(d for d in dirnames if not build.skips_dir(f"{base}/{d}"))
            found += [f"{base}/{n}" for n in filenames if build.copies(f"{base}/{n}")]
    return sorted(found)
