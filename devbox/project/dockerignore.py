""".dockerignore-syntax path matching, with the semantics Docker and Compose use.

Compose's `develop.watch` filters events with moby/patternmatcher, so devbox must give the
same answers: `*` and `?` stay inside one path segment, `**` spans any number of them,
`!` re-includes, the last matching pattern wins, and a path matches when one of its parent
directories does. This is not gitignore: `node_modules/` matches only at the root.

The tests check it against the Docker SDK's port (`docker.utils.build.PatternMatcher`) with
generated patterns. Where devbox follows Docker and Compose rather than that port:
- case: the SDK lower-cases pattern and path; Docker and devbox are case-sensitive;
- classes: `[^a]` negates and `[!a]` is '!' or 'a', as in the Go regexp Docker builds (the SDK
  has fnmatch's `[!a]`); a malformed class is an error, not a literal `[`; a backslash escapes;
- parents: every parent directory is tried (`MatchesOrParentMatches`, which Compose uses);
  the SDK ports the deprecated `Matches`, which tries one parent, so `**/a` misses `a/b/c`;
- `.dockerignore` is not re-included (the SDK always adds `!.dockerignore`);
- `.` and `..`: patterns are cleaned like Go's filepath.Clean, and one naming the root covers
  everything, as Compose joins it to an absolute root (the SDK drops it).

What an image build copies is a different question with different answers: `BuildIgnore`
gives BuildKit's (a pattern naming the root matches nothing; an excluded folder is not
entered unless a `!` pattern starts with its path). Judge an image with it, a watch rule
with `PatternMatcher`.
"""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from devbox.errors import ConfigError, config_error

_WILDCARDS = "*?[\\"


class PatternError(ConfigError):
    """A malformed pattern; callers re-raise it naming the file and field it came from."""

    def __init__(self, pattern: str, problem: str, fix: str) -> None:
        super().__init__(f"invalid pattern {pattern!r}: {problem}; {fix}")
        self.pattern = pattern
        self.problem = problem
        self.fix = fix


def clean_path(path: str) -> str:
    """Lexically normalise a '/'-separated path like Go's `filepath.Clean` ('' becomes '.')."""
    rooted = path.startswith("/")
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part != "..":
            parts.append(part)
        elif parts and parts[-1] != "..":
            parts.pop()
        elif not rooted:
            parts.append("..")
    joined = "/".join(parts)
    return ("/" + joined if rooted else joined) or "."


def _normalise(pattern: str) -> tuple[bool, str] | None:
    """(is_exclusion, cleaned body) like Docker's ignore-file reader; None for a blank line."""
    pattern = pattern.strip()
    if not pattern:
        return None
    exclusion = pattern.startswith("!")
    if exclusion:
        pattern = pattern[1:].strip()
        if not pattern:
            raise PatternError("!", "a lone '!' re-includes nothing", "follow it with a pattern")
    return exclusion, clean_path(pattern).lstrip("/")


def _class_char(pattern: str, i: int) -> tuple[str, int]:
    """One (possibly escaped) character of a `[...]` class, validated like Go's path.Match."""
    if i < len(pattern) and pattern[i] == "\\":
        i += 1
    elif i < len(pattern) and pattern[i] in "-]":
        i = len(pattern)  # a bare '-' or ']' where a character belongs
    if i + 1 >= len(pattern):  # the class must still be closed after this character
        raise PatternError(
            pattern,
            "malformed character class",
            "close it with ']' and escape '-' or ']' with '\\'",
        )
    return pattern[i], i + 1


def _translate_class(pattern: str, start: int) -> tuple[str, int]:
    """Regex for the class opening at `start`; `^` negates (Docker passes classes to a regex)."""
    i = start + 1
    negate = i < len(pattern) and pattern[i] == "^"
    i += 1 if negate else 0
    items: list[str] = []
    while not (items and i < len(pattern) and pattern[i] == "]"):
        low, i = _class_char(pattern, i)
        high = low
        if pattern[i] == "-":
            high, i = _class_char(pattern, i + 1)
        if low > high:
            raise PatternError(pattern, f"range {low}-{high} is reversed", "write it low to high")
        items.append(re.escape(low) if low == high else f"{re.escape(low)}-{re.escape(high)}")
    return "[" + "^" * negate + "".join(items) + "]", i + 1


# One consuming edge of the automaton: the characters it accepts and the node it leads to.
_Edge = tuple[Callable[[str], bool], int]
_CACHE_LIMIT = 4096  # transitions kept per pattern; a bound on memory, not on time


def _literal(ch: str) -> Callable[[str], bool]:
    return lambda c: c == ch


def _not_slash(c: str) -> bool:
    return c != "/"


def _anything(c: str) -> bool:
    return True


class _Automaton:
    """A pattern as an NFA, run one path character at a time (a lazily built DFA).

    Docker compiles each pattern to a Go regexp, which runs in linear time. Python's `re`
    backtracks: `**/` ten times then `z` took seconds against a deep path, and matching
    runs on every file event. Simulating the NFA over sets of nodes costs at most
    O(len(path) * len(pattern)), whatever the pattern, and caching the transitions makes
    the common case one dict lookup per character.
    """

    def __init__(self, pattern: str) -> None:
        self._edges: list[list[_Edge]] = [[]]
        self._eps: list[list[int]] = [[]]
        node = 0
        i = 0
        while i < len(pattern):
            ch = pattern[i]
            i += 1
            if ch == "*" and pattern.startswith("*", i):
                i += 1
                if pattern.startswith("/", i):
                    i += 1  # `**/` is `**`: it may also match zero segments
                if i == len(pattern):  # `**` at the end: anything, '/' included
                    self._edges[node].append((_anything, node))
                    continue
                # `(.*/)?`: either nothing, or any characters up to and including a '/'
                inner, after = self._node(), self._node()
                self._eps[node] += [after, inner]
                self._edges[inner] += [(_anything, inner), (_literal("/"), after)]
                node = after
            elif ch == "*":
                self._edges[node].append((_not_slash, node))
            else:
                if ch == "?":
                    test: Callable[[str], bool] = _not_slash
                elif ch == "\\":
                    if i == len(pattern):
                        raise PatternError(
                            pattern, "it ends with a lone '\\'", "escape it as '\\\\'"
                        )
                    test = _literal(pattern[i])
                    i += 1
                elif ch == "[":
                    cls, i = _translate_class(pattern, i - 1)
                    test = _class_test(re.compile(cls))
                else:
                    test = _literal(ch)
                after = self._node()
                self._edges[node].append((test, after))
                node = after
        self._accept = 1 << node
        self._closure = [self._close(n) for n in range(len(self._edges))]
        self._start = self._closure[0]
        self._cache: dict[tuple[int, str], int] = {}
        self._dirs: dict[str, int | None] = {}

    def _node(self) -> int:
        self._edges.append([])
        self._eps.append([])
        return len(self._edges) - 1

    def _close(self, node: int) -> int:
        """The nodes reachable from `node` without consuming a character, as a bit set."""
        seen, todo = 1 << node, [node]
        while todo:
            for nxt in self._eps[todo.pop()]:
                if not seen >> nxt & 1:
                    seen |= 1 << nxt
                    todo.append(nxt)
        return seen

    def _step(self, nodes: int, c: str) -> int:
        key = (nodes, c)
        found = self._cache.get(key)
        if found is None:
            found = 0
            for node, edges in enumerate(self._edges):
                if nodes >> node & 1:
                    for test, target in edges:
                        if test(c):
                            found |= self._closure[target]
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[key] = found
        return found

    def full_match(self, path: str) -> bool:
        """Whether the pattern matches all of `path` (no parent tried)."""
        nodes = self._start
        for c in path:
            if not nodes:
                return False
            nodes = self._step(nodes, c)
        return bool(nodes & self._accept)

    def matches_or_parent(self, path: str) -> bool:
        """Whether the pattern matches all of `path` or one of its parent directories.

        The state after each parent folder is cached, so the many paths of one folder (a
        burst of events) only walk their own names.
        """
        head, sep, tail = path.rpartition("/")
        nodes = self._after_dir(head) if sep else self._start
        if nodes is None:
            return True
        cache, step = self._cache, self._step
        for c in tail:
            if not nodes:
                return False
            known = cache.get((nodes, c))  # inlined `_step` hit: this loop is the hot one
            nodes = step(nodes, c) if known is None else known
        return bool(nodes & self._accept)

    def _after_dir(self, directory: str) -> int | None:
        """The state after `directory` and its '/'; None when it or a parent matched."""
        if directory in self._dirs:
            return self._dirs[directory]
        head, sep, tail = directory.rpartition("/")
        nodes = self._after_dir(head) if sep else self._start
        if nodes is not None:
            for c in tail:
                if not nodes:
                    break
                nodes = self._step(nodes, c)
            if nodes & self._accept:
                nodes = None  # the state before each '/' says whether that parent matched
            elif nodes:
                nodes = self._step(nodes, "/")
        if len(self._dirs) >= _CACHE_LIMIT:
            self._dirs.clear()
        self._dirs[directory] = nodes
        return nodes


def _class_test(regex: re.Pattern[str]) -> Callable[[str], bool]:
    return lambda c: regex.fullmatch(c) is not None


@dataclass(frozen=True)
class _Pattern:
    body: str  # cleaned, without the '!'
    exclusion: bool
    automaton: _Automaton | None  # None: the pattern names the root, an ancestor of everything

    def matches_or_parent(self, path: str) -> bool:
        return self.automaton is None or self.automaton.matches_or_parent(path)

    def could_reach(self, directory: str) -> bool:
        """Whether this pattern might match `directory`, an ancestor of it, or a path under it."""
        if self.automaton is None:
            return True
        cut = min((i for i, c in enumerate(self.body) if c in _WILDCARDS), default=len(self.body))
        literal, prefix = self.body[:cut], directory + "/"
        return prefix.startswith(literal) or literal.startswith(prefix)


class PatternMatcher:
    """Docker's `MatchesOrParentMatches` over paths relative to the matcher's root."""

    def __init__(self, patterns: Iterable[str]) -> None:
        self._patterns: list[_Pattern] = []
        for raw in patterns:
            normalised = _normalise(raw)
            if normalised is None:
                continue
            exclusion, body = normalised
            # Compose anchors patterns by joining them to an absolute root, so one naming the
            # root itself ('.', '/') matches it and, through parent matching, everything below.
            automaton = None if body in ("", ".") else _Automaton(body)
            self._patterns.append(_Pattern(body, exclusion, automaton))

    @property
    def has_patterns(self) -> bool:
        """False when nothing can ever match, so callers can skip the work."""
        return any(not p.exclusion for p in self._patterns)

    @property
    def patterns(self) -> tuple[str, ...]:
        """The cleaned patterns, `!` included, in order."""
        return tuple("!" * p.exclusion + p.body for p in self._patterns)

    def matches(self, rel_path: str) -> bool:
        """Whether `rel_path` or one of its parent directories matches; the last match wins."""
        path = clean_path(rel_path).lstrip("/")
        if path in ("", "."):
            return False  # Docker never lets a pattern exclude the root itself
        matched = False
        for pattern in self._patterns:
            if pattern.exclusion != matched:
                continue  # cannot change the outcome
            if pattern.matches_or_parent(path):
                matched = not pattern.exclusion
        return matched

    def excludes_dir(self, rel_dir: str) -> bool:
        """Whether `rel_dir` and everything under it match, so a walker or watcher can skip it.

        Conservative: any `!` pattern that might re-include something below keeps it.
        """
        directory = clean_path(rel_dir).lstrip("/")
        if not self.matches(directory):
            return False
        return not any(p.exclusion and p.could_reach(directory) for p in self._patterns)


Walk = Literal["current", "legacy", "any"]
_Verdicts = frozenset[int]  # the patterns that matched a folder, by index


class BuildIgnore:
    """What an image build leaves out of its context, as BuildKit decides (pure).

    BuildKit reads the same lines but walks the context with them (tonistiigi/fsutil), and
    the walk has its own rules:
    - a pattern naming the root (`.`, `/`) matches no path, so it ignores nothing, where
      Compose's watch joins it to an absolute root and ignores everything;
    - an excluded folder is skipped whole unless some `!` pattern, as written, starts with
      the folder's path and a '/' (`secrets` then `!secrets/public.txt` copies that file).
    Then two walks differ, and `walk` picks one:
    - "current" (BuildKit's own client: Compose's builds, buildx): a `!` pattern with a
      wildcard makes it enter every folder; each path is matched with its folder's
      per-pattern results (`MatchesUsingParentResults`), which skip the patterns that
      cannot change the answer so far, so a skipped pattern is not seen as matching the
      folder: `**`, `!**/.env`, `config` copies `config/.env`;
    - "legacy" (Docker's own client before buildx, 20.10): it never enters a folder for a
      wildcard `!` pattern, and matches each path and its parents alone;
    - "any" (the default): excluded only when both walks exclude it, the answer to ask
      when the question is what could reach an image.
    The oracle is a real build (tests/project/test_dockerignore_build_docker.py).
    """

    def __init__(self, patterns: Iterable[str], *, walk: Walk = "any") -> None:
        kept: list[str] = []
        for raw in patterns:
            normalised = _normalise(raw)
            if normalised is not None and normalised[1] not in ("", "."):
                kept.append("!" * normalised[0] + normalised[1])
        self._walk = walk
        self._kept = tuple(kept)
        # (is_exclusion, body), compiled on first use: most lines of a long file never are
        self._patterns = [(p.startswith("!"), p.removeprefix("!")) for p in kept]
        self._automata: dict[int, _Automaton] = {}
        # Patterns by their first path segment when it is literal; the others apply to
        # every path. A path is only tried against its segment's and the global ones, so a
        # long .dockerignore of anchored lines costs little per path.
        self._global: list[int] = []
        self._by_head: dict[str, list[int]] = {}
        for i, (_, body) in enumerate(self._patterns):
            head = body.split("/", 1)[0]
            if _has_wildcard(head) or "\\" in head:
                self._global.append(i)
            else:
                self._by_head.setdefault(head, []).append(i)
        self._candidates: dict[str, list[int]] = {}
        self._entered = tuple(p[1:] + "/" for p in kept if p.startswith("!"))
        self._wildcard_exception = any(_has_wildcard(p) for p in self._entered)
        self._legacy_skips: dict[str, bool] = {}
        self._current_dirs: dict[str, _Verdicts | None] = {}

    @property
    def patterns(self) -> tuple[str, ...]:
        """The patterns that take part (root patterns dropped), `!` included, in order."""
        return self._kept

    def copies(self, rel_path: str) -> bool:
        """Whether a build copies `rel_path` (relative to the context) into the image."""
        return not self.excludes(rel_path)

    def excludes(self, rel_path: str) -> bool:
        """Whether a build leaves `rel_path` out, itself or through a skipped folder."""
        path = clean_path(rel_path).lstrip("/")
        if path in ("", "."):
            return False
        if self._walk == "legacy":
            return self._legacy_excludes(path)
        if self._walk == "current":
            return self._current_excludes(path)
        return self._legacy_excludes(path) and self._current_excludes(path)

    def lines_matching(self, rel_path: str) -> list[int]:
        """Indices (into `patterns`) of the lines that match `rel_path` or a parent folder of
        it, each on its own, in order: what a reader of the file sees as applying."""
        path = clean_path(rel_path).lstrip("/")
        return [i for i in self._tried(path) if self._automaton(i).matches_or_parent(path)]

    def skips_dir(self, rel_dir: str) -> bool:
        """Whether the build never enters folder `rel_dir`, so nothing under it is copied."""
        directory = clean_path(rel_dir).lstrip("/")
        if directory in ("", "."):
            return False
        legacy = self._walk != "current" and self._legacy_skip(directory)
        current = self._walk != "legacy" and self._current_dir(directory) is None
        return legacy and current if self._walk == "any" else legacy or current

    def _enters(self, directory: str) -> bool:
        """Whether some `!` pattern starts with `directory/`, so the walk goes in."""
        return any(p.startswith(directory + "/") for p in self._entered)

    def _legacy_excludes(self, path: str) -> bool:
        head, sep, _ = path.rpartition("/")
        return (bool(sep) and self._legacy_skip(head)) or self._legacy_matches(path)

    def _tried(self, path: str) -> list[int]:
        """The patterns that can match `path` or a parent of it, in order."""
        head = path.split("/", 1)[0]
        found = self._candidates.get(head)
        if found is None:
            found = sorted(self._global + self._by_head.get(head, []))
            if len(self._candidates) >= _CACHE_LIMIT:
                self._candidates.clear()
            self._candidates[head] = found
        return found

    def _legacy_matches(self, path: str) -> bool:
        """`PatternMatcher.matches` over the patterns that can match."""
        matched = False
        for i in self._tried(path):
            exclusion = self._patterns[i][0]
            if exclusion == matched and self._automaton(i).matches_or_parent(path):
                matched = not exclusion
        return matched

    def _automaton(self, i: int) -> _Automaton:
        found = self._automata.get(i)
        if found is None:
            found = self._automata[i] = _Automaton(self._patterns[i][1])
        return found

    def _legacy_skip(self, directory: str) -> bool:
        found = self._legacy_skips.get(directory)
        if found is None:
            head, sep, _ = directory.rpartition("/")
            found = (bool(sep) and self._legacy_skip(head)) or (
                self._legacy_matches(directory) and not self._enters(directory)
            )
            if len(self._legacy_skips) >= _CACHE_LIMIT:
                self._legacy_skips.clear()
            self._legacy_skips[directory] = found
        return found

    def _current_excludes(self, path: str) -> bool:
        head, sep, _ = path.rpartition("/")
        parent = self._current_dir(head) if sep else frozenset()
        return parent is None or self._evaluate(path, parent)[0]

    def _current_dir(self, directory: str) -> _Verdicts | None:
        """The folder's per-pattern results; None when the walk never gets into it."""
        if directory in self._current_dirs:
            return self._current_dirs[directory]
        head, sep, _ = directory.rpartition("/")
        parent = self._current_dir(head) if sep else frozenset()
        found: _Verdicts | None = None
        if parent is not None:
            matched, verdicts = self._evaluate(directory, parent)
            skipped = matched and not self._wildcard_exception and not self._enters(directory)
            found = None if skipped else verdicts
        if len(self._current_dirs) >= _CACHE_LIMIT:
            self._current_dirs.clear()
        self._current_dirs[directory] = found
        return found

    def _evaluate(self, path: str, parent: _Verdicts) -> tuple[bool, _Verdicts]:
        """moby/patternmatcher's `MatchesUsingParentResults`: a pattern the folder matched
        holds; another is tried only when it could change the answer so far, and one not
        tried counts as not matching (for the folder's children too). A pattern that cannot
        match (`_tried`) is one not matching, so only those that can are visited."""
        matched = False
        verdicts = []
        for i in self._tried(path):
            exclusion = self._patterns[i][0]
            match = i in parent
            if not match and exclusion == matched:
                match = self._automaton(i).full_match(path)
            if match:
                verdicts.append(i)
                matched = not exclusion
        return matched, frozenset(verdicts)


def _has_wildcard(pattern: str) -> bool:
    """fsutil's `containsWildcards`: `*`, `?` or `[` not escaped by a backslash."""
    escaped = False
    for c in pattern:
        if escaped:
            escaped = False
        elif c == "\\":
            escaped = True
        elif c in "*?[":
            return True
    return False


def build_ignore_path(context: Path, dockerfile: str = "Dockerfile") -> Path:
    """The ignore file a build of `dockerfile` reads: `<Dockerfile>.dockerignore` when it
    exists (BuildKit, from Docker's 20.10 client and Compose alike), else `.dockerignore`."""
    specific = context / f"{dockerfile}.dockerignore"
    return specific if specific.is_file() else context / ".dockerignore"


def read_ignore_file(path: Path) -> list[str]:
    """Patterns of a .dockerignore, normalised like Docker's reader; a missing file has none.

    As in Docker, only lines whose first character is `#` are comments, a leading `/` is
    dropped (patterns are relative to the build context) and a UTF-8 BOM is ignored.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot read: {exc.strerror}; fix its permissions or remove it"
        ) from exc
    return parse_ignore_text(data.decode("utf-8", "surrogateescape"), path=path)


def parse_ignore_text(text: str, *, path: Path | str = ".dockerignore") -> list[str]:
    """Patterns of a .dockerignore's text (see `read_ignore_file`)."""
    text = text.removeprefix("\ufeff")
    patterns: list[str] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if line.startswith("#"):
            continue
        if "\0" in line:  # a build fails on it, naming no file
            raise config_error(path, f"line {number}", "contains a NUL byte", "remove it")
        try:
            normalised = _normalise(line)
            if normalised is None:
                continue
            PatternMatcher([normalised[1]])  # validate here, where the line number is known
        except PatternError as exc:
            problem = f"invalid pattern {exc.pattern!r}: {exc.problem}"
            raise config_error(path, f"line {number}", problem, exc.fix) from exc
        patterns.append("!" * normalised[0] + normalised[1])
    return patterns


def compose_dockerignore_patterns(patterns: list[str]) -> list[str]:
    """Apply Compose's `*` rule: a literal `*` drops every pattern that is not a `!` one.

    Compose's watcher does this (pkg/watch/dockerignore.go), so devbox must too for its
    watcher to agree with `docker compose watch`. Since the remaining `!` patterns have nothing
    to re-include, an allow-list .dockerignore (`*` then `!src`) ignores nothing for watch.
    """
    if "*" not in patterns:
        return list(patterns)
    return [p for p in patterns if p.startswith("!")]
