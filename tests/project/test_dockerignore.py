"""Pin devbox's .dockerignore matcher to Docker's (moby/patternmatcher) answers."""

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devbox.errors import DevboxError, ExitCode
from devbox.project.dockerignore import (
    BuildIgnore,
    PatternError,
    PatternMatcher,
    compose_dockerignore_patterns,
    read_ignore_file,
)


@pytest.mark.parametrize(
    ("patterns", "path", "expected"),
    [
        # a directory pattern covers everything below it, with or without the trailing '/'
        ([".venv"], ".venv", True),
        ([".venv"], ".venv/bin/python", True),
        ([".venv/"], ".venv/bin/python", True),
        ([".venv"], "a/.venv", False),
        ([".venv"], ".venv-old/x", False),
        # patterns are anchored at the root: not gitignore
        (["node_modules/"], "node_modules/x/y", True),
        (["node_modules/"], "a/node_modules/x", False),
        (["**/node_modules"], "a/node_modules/x", True),
        (["*.pyc"], "c.pyc", True),
        (["*.pyc"], "a/c.pyc", False),
        (["**/*.pyc"], "a/b/c.pyc", True),
        (["**/*.pyc"], "c.pyc", True),
        # '!' re-includes, and the last matching pattern wins
        (["*.pyc", "!keep.pyc"], "keep.pyc", False),
        (["*.pyc", "!keep.pyc"], "other.pyc", True),
        (["**/*.pyc", "!keep.pyc"], "a/keep.pyc", True),
        (["!keep.pyc", "*.pyc"], "keep.pyc", True),
        (["docs", "!docs/keep.md"], "docs/keep.md", False),
        (["docs", "!docs/keep.md"], "docs/other.md", True),
        (["docs/*", "!docs/keep", "docs/keep/*.tmp"], "docs/keep/a.tmp", True),
        # '?' is one character, never '/'
        (["?.py"], "a.py", True),
        (["?.py"], "ab.py", False),
        (["a?b"], "a/b", False),
        # '*' does not cross '/', but a matching parent directory covers its contents
        (["a/*"], "a/b", True),
        (["a/*"], "a/b/c", True),
        (["*/b"], "a/x/b", False),
        (["*"], "x/y", True),
        # character classes and escapes
        (["[a-c].txt"], "b.txt", True),
        (["[a-c].txt"], "d.txt", False),
        (["[^a-c].txt"], "d.txt", True),
        (["[^a-c].txt"], "a.txt", False),
        (["[!a].txt"], "!.txt", True),  # Docker: '!' in a class is a literal, '^' negates
        ([r"\*.txt"], "*.txt", True),
        ([r"\*.txt"], "a.txt", False),
        (["file.(py)"], "file.(py)", True),  # regex metacharacters are literals
        (["file.py"], "fileXpy", False),
        # '**' spans zero or more segments
        (["a/**/b"], "a/b", True),
        (["a/**/b"], "a/x/y/b", True),
        (["a/**/b"], "a/x/b/c", True),
        (["a/**/b"], "x/a/b", False),
        (["**"], "x", True),
        (["**"], "anything/deep/down", True),
        (["foo/**"], "foo", False),
        (["foo/**"], "foo/x", True),
        (["**/.idea/**"], "a/.idea/workspace.xml", True),
        (["**/.*.sw[pxon]"], "a/.b.py.swp", True),
        (["**/.*.sw[pxon]"], "a/.b.py.swf", False),
        # cleaning: leading '/' and './', trailing '/', '..', blanks
        (["/build", "./dist/"], "build/x", True),
        (["/build", "./dist/"], "dist", True),
        (["a/../b"], "b", True),
        (["", "  "], "x", False),
        (["  .env  "], ".env", True),
        ([".*"], ".env", True),
        ([".git"], ".gitignore", False),
        # the root itself never matches; a pattern naming the root covers everything below it,
        # as in Compose, which joins patterns to an absolute root
        ([".venv"], ".", False),
        (["**"], "", False),
        (["."], "a/b", True),
        # paths are cleaned too
        ([".venv"], "./.venv//bin/", True),
    ],
)
def test_matches_like_docker(patterns: list[str], path: str, expected: bool) -> None:
    assert PatternMatcher(patterns).matches(path) is expected


@pytest.mark.parametrize(
    ("patterns", "kept"),
    [
        (["*", "!src", "build"], ["!src"]),
        (["*"], []),
        (["*.pyc", "build"], ["*.pyc", "build"]),
        (["**", "!src"], ["**", "!src"]),  # only a literal '*' triggers it
    ],
)
def test_compose_star_quirk(patterns: list[str], kept: list[str]) -> None:
    assert compose_dockerignore_patterns(patterns) == kept


def test_star_quirk_leaves_an_allow_list_ignoring_nothing() -> None:
    matcher = PatternMatcher(compose_dockerignore_patterns(["*", "!src", "!pyproject.toml"]))
    assert not matcher.has_patterns
    assert not matcher.matches("src/app.py")
    assert not matcher.matches("build/out")


@pytest.mark.parametrize(
    ("patterns", "directory", "expected"),
    [
        ([".venv"], ".venv", True),
        (["**/__pycache__"], "a/__pycache__", True),
        ([".venv", "!keep.pyc"], ".venv", True),
        ([".venv", "!.venv/keep"], ".venv", False),
        ([".venv", "!**/keep"], ".venv", False),
        (["a/b", "!a"], "a/b", False),
        (["**/.idea/**"], ".idea", False),  # conservative: the directory itself is not matched
        ([".venv"], "src", False),
    ],
)
def test_excludes_dir(patterns: list[str], directory: str, expected: bool) -> None:
    assert PatternMatcher(patterns).excludes_dir(directory) is expected


def test_patterns_are_cleaned() -> None:
    matcher = PatternMatcher(["/build/", "! ./keep/ ", "", "a//b/../c"])
    assert matcher.patterns == ("build", "!keep", "a/c")
    assert matcher.has_patterns
    assert not PatternMatcher([]).has_patterns


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("[a", "invalid pattern '[a': malformed character class"),
        ("[]", "invalid pattern '[]': malformed character class"),
        ("[a-]", "invalid pattern '[a-]': malformed character class"),
        ("[z-a]", "invalid pattern '[z-a]': range z-a is reversed; write it low to high"),
        ("a\\", "invalid pattern 'a\\\\': it ends with a lone '\\'; escape it as '\\\\'"),
        ("!", "invalid pattern '!': a lone '!' re-includes nothing; follow it with a pattern"),
    ],
)
def test_invalid_patterns(pattern: str, message: str) -> None:
    with pytest.raises(PatternError) as caught:
        PatternMatcher([pattern])
    assert caught.value.message.startswith(message)
    assert caught.value.code is ExitCode.CONFIG


def test_read_ignore_file(tmp_path: Path) -> None:
    ignore = tmp_path / ".dockerignore"
    ignore.write_bytes(
        b"\xef\xbb\xbf# comment\n"
        b"\n"
        b"   \n"
        b"  .venv/  \n"
        b"!keep.pyc\n"
        b"! /logs/keep.log\n"
        b"/build\n"
        b"./dist/\r\n"
        b"  # only a '#' in the first column starts a comment\n"
        b"**/*.pyc"
    )
    assert read_ignore_file(ignore) == [
        ".venv",
        "!keep.pyc",
        "!logs/keep.log",
        "build",
        "dist",
        "# only a '#' in the first column starts a comment",
        "**/*.pyc",
    ]


def test_read_missing_ignore_file(tmp_path: Path) -> None:
    assert read_ignore_file(tmp_path / ".dockerignore") == []


def test_read_ignore_file_names_the_bad_line(tmp_path: Path) -> None:
    ignore = tmp_path / ".dockerignore"
    ignore.write_text(".venv\n# [comment\nsrc/[a\n")
    with pytest.raises(DevboxError) as caught:
        read_ignore_file(ignore)
    assert caught.value.message == (
        f"{ignore}: line 3: invalid pattern 'src/[a': malformed character class; "
        "close it with ']' and escape '-' or ']' with '\\'"
    )
    assert caught.value.code is ExitCode.CONFIG


@pytest.mark.parametrize(
    ("pattern", "path"),
    [
        ("**/" * 10 + "z", "/".join("abcdefghijklmnopqrstuvwxy") + "/y"),  # 26 segments, no z
        ("**/a/" * 8 + "z", "/".join("a" * 26)),
        ("*a" * 12 + "b", "a" * 60),
        ("**" * 12 + "b", "a/" * 30 + "a"),
    ],
)
def test_matching_does_not_backtrack(pattern: str, path: str) -> None:
    """Python's `re` backtracked for seconds on these; matching runs on every file event."""
    import time

    matcher = PatternMatcher([pattern])
    started = time.monotonic()
    assert not matcher.matches(path)
    assert not matcher.excludes_dir(path)
    assert time.monotonic() - started < 1.0


# Property tests against the Docker SDK's port of Docker's matcher
# (`docker.utils.build.PatternMatcher`) as the oracle. The strategies leave out what devbox
# deliberately answers differently (see the module docstring of devbox.project.dockerignore):
# - upper case: the SDK lower-cases pattern and path; Docker and devbox are case-sensitive;
# - negated classes: in the SDK `[!a]` negates and `[^a]` matches '^' or 'a'; in Docker
#   (a Go regexp) and devbox `[^a]` negates and `!` is a literal;
# - a path named `.dockerignore`: the SDK always re-includes it; Compose's watcher does not;
# - `.` and `..` segments: the SDK drops a pattern that is only `.` and lets a leading `..`
#   swallow the next segment; devbox cleans like Go's filepath.Clean and lets a pattern naming
#   the root cover everything, as Compose does;
# - backslash escapes and malformed classes: the SDK has no escapes and takes an unclosed `[`
#   literally; Docker and devbox escape with `\` and reject a malformed class;
# - parents and `**`: the SDK ports Docker's deprecated `Matches`, which tries only the parent
#   with as many segments as the pattern; Compose uses `MatchesOrParentMatches`, which tries
#   every parent. `_docker_answer` applies the SDK's per-pattern match that way, and
#   `test_agrees_with_docker_sdk_matcher` compares with the SDK's matcher as is where the two
#   agree (no `**`).

_ATOMS = ["a", "b", ".x", "*", "?", "[ab]", "[a-b]", "**"]
_NAMES = ["a", "b", ".x", "ab", "a.x"]

_segments = st.lists(st.sampled_from(_ATOMS), min_size=1, max_size=3).map("".join)
_patterns = st.builds(
    lambda negate, segments: "!" * negate + "/".join(segments),
    st.booleans(),
    st.lists(_segments, min_size=1, max_size=3),
)
_paths = st.lists(st.sampled_from(_NAMES), min_size=1, max_size=5).map("/".join)
_property = settings(max_examples=200, derandomize=True, database=None, deadline=None)


def _docker_answer(patterns: list[str], path: str) -> bool:
    """Docker's `MatchesOrParentMatches` built on the SDK's translation of each pattern."""
    from docker.utils.build import Pattern  # type: ignore[import-untyped]

    parts = path.split("/")
    parents = ["/".join(parts[: i + 1]) for i in range(len(parts) - 1)]
    matched = False
    for raw in patterns:
        pattern = Pattern(raw)
        if pattern.match(path) or any(pattern.match(parent) for parent in parents):
            matched = not pattern.exclusion
    return matched


@_property
@given(patterns=st.lists(_patterns, min_size=1, max_size=4), path=_paths)
def test_agrees_with_docker(patterns: list[str], path: str) -> None:
    assert PatternMatcher(patterns).matches(path) is _docker_answer(patterns, path)


@_property
@given(
    patterns=st.lists(_patterns.map(lambda p: re.sub(r"\*+", "*", p)), min_size=1, max_size=4),
    path=_paths,
)
def test_agrees_with_docker_sdk_matcher(patterns: list[str], path: str) -> None:
    from docker.utils.build import PatternMatcher as SdkMatcher

    assert PatternMatcher(patterns).matches(path) is SdkMatcher(patterns).matches(path)


@_property
@given(patterns=st.lists(_patterns, min_size=1, max_size=4), directory=_paths, name=_paths)
def test_excluded_dir_covers_everything_below(
    patterns: list[str], directory: str, name: str
) -> None:
    """Watchers skip an excluded folder, so nothing inside may be re-included."""
    matcher = PatternMatcher(patterns)
    if matcher.excludes_dir(directory):
        assert matcher.matches(f"{directory}/{name}")


@pytest.mark.parametrize(
    ("patterns", "path", "copied"),
    [
        # a pattern naming the root ignores nothing in a build (everything for Compose watch)
        (["."], ".env", True),
        (["/"], ".venv/bin/python", True),
        (["./"], "a/b", True),
        (["./.env"], ".env", False),
        # an excluded folder is entered for a `!` pattern under it, as written
        (["secrets", "!secrets/ok.txt"], "secrets/ok.txt", True),
        (["secrets", "!secrets/ok.txt"], "secrets/no.txt", False),
        (["secrets", "!secrets/ok.txt"], "secrets/ok.txt/x", True),  # a folder named so
        (["**/*.pem", "!a/*.pem"], "a/x.pem", True),
        (["**/*.pem", "!a/*.pem"], "b/x.pem", False),
    ],
)
def test_build_ignore_as_buildkit_reads_it(patterns: list[str], path: str, copied: bool) -> None:
    for walk in ("current", "legacy", "any"):
        assert BuildIgnore(patterns, walk=walk).copies(path) == copied, walk
    assert PatternMatcher(["."]).matches(".env")  # where watch's answer differs


@pytest.mark.parametrize(
    ("patterns", "path", "current", "legacy"),
    [
        # a wildcard `!` makes current BuildKit enter every folder; the 20.10 client never
        (["secrets", "!**/y"], "secrets/sub/y", True, False),
        # current BuildKit's per-pattern parent results skip patterns that could not matter
        (["**", "!**/.env", "config"], "config/.env", True, False),
        (["*/*/*", "!*/b"], "a/b/server.pem", False, True),
    ],
)
def test_the_two_walks_of_buildkit(
    patterns: list[str], path: str, current: bool, legacy: bool
) -> None:
    assert BuildIgnore(patterns, walk="current").copies(path) == current
    assert BuildIgnore(patterns, walk="legacy").copies(path) == legacy
    assert BuildIgnore(patterns).copies(path) == (current or legacy)


def test_which_folders_a_build_never_enters() -> None:
    wildcard = ["secrets", "!**/y"]
    assert BuildIgnore(wildcard, walk="legacy").skips_dir("secrets")
    assert not BuildIgnore(wildcard, walk="current").skips_dir("secrets")
    assert not BuildIgnore(wildcard).skips_dir("secrets")
    assert BuildIgnore(["secrets", "!secrets/a"]).skips_dir("secrets/b")
    assert not BuildIgnore(["secrets", "!secrets/a"]).skips_dir("secrets")
    assert not BuildIgnore(["."]).skips_dir(".")


def test_a_long_file_of_anchored_lines_stays_cheap_per_path() -> None:
    import time

    build = BuildIgnore([f"gen{i}/*.tmp" for i in range(100_000)] + ["**/*.pem", "!a/**/x"])
    start = time.perf_counter()
    assert [build.copies(f"src/m{i}.py") for i in range(2000)] == [True] * 2000
    assert build.excludes("gen7/a.tmp") and build.excludes("src/k.pem")
    assert time.perf_counter() - start < 5  # about 20 ms: each path meets three lines


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(["a", "a/b", "*", "**/c", "b*", "**", "a/*/c", "[ab]"]), max_size=5),
    st.sampled_from(["a", "a/b", "a/b/c", "b/c", "c", "ab/c/d"]),
)
def test_without_a_bang_both_walks_are_plain_matching(patterns: list[str], path: str) -> None:
    expected = PatternMatcher(patterns).matches(path)
    assert BuildIgnore(patterns, walk="legacy").excludes(path) == expected
    assert BuildIgnore(patterns, walk="current").excludes(path) == expected
