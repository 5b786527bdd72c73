"""`develop.watch` parsing (compose-spec rules, one-line errors) and Compose's path matching."""

from pathlib import Path

import pytest
import yaml

from devbox.errors import DevboxError, ExitCode
from devbox.sync.rules import (
    Action,
    ExecSpec,
    RuleSet,
    WatchRule,
    container_path,
    parse_watch_rules,
)

PROJECT = Path("/proj")
COMPOSE = Path("compose.yaml")

DEFAULT_DEVELOP = """
watch:
  - action: sync
    path: .
    target: /app
    ignore:
      - .venv/
  - action: rebuild
    path: ./pyproject.toml
  - action: rebuild
    path: ./uv.lock
"""


def parse(develop: object) -> list[WatchRule]:
    return parse_watch_rules(develop, project_dir=PROJECT, compose_file=COMPOSE, service="app")


def test_parses_default_devbox_rules() -> None:
    assert parse(yaml.safe_load(DEFAULT_DEVELOP)) == [
        WatchRule(PROJECT, Action.SYNC, "/app", (".venv/",), (), False, None, 0),
        WatchRule(PROJECT / "pyproject.toml", Action.REBUILD, None, (), (), False, None, 1),
        WatchRule(PROJECT / "uv.lock", Action.REBUILD, None, (), (), False, None, 2),
    ]


def test_no_develop_means_no_rules() -> None:
    assert parse(None) == []
    assert parse({}) == []
    assert parse({"watch": [], "x-note": "extensions are allowed"}) == []


def test_parses_every_field() -> None:
    develop = yaml.safe_load(
        """
watch:
  - action: sync+exec
    path: ./shared/../conf
    target: /etc/app
    ignore: "*.bak"
    include: ["*.toml", "*.ini"]
    x-initialSync: true
    x-anything: 1
    exec:
      command: kill -HUP "1"
      user: root
      privileged: true
      working_dir: /etc/app
      environment: {RELOAD: true, LEVEL: 2, FROM_HOST: null}
  - action: sync+restart
    path: /proj/abs/dir
    target: app
    initial_sync: true
"""
    )
    first, second = parse(develop)
    assert first.path == Path("/proj/conf")
    assert first.ignore == ("*.bak",)
    assert first.include == ("*.toml", "*.ini")
    assert first.initial_sync
    assert first.exec == ExecSpec(
        command=("kill", "-HUP", "1"),
        user="root",
        privileged=True,
        working_dir="/etc/app",
        environment=(("RELOAD", "true"), ("LEVEL", "2"), ("FROM_HOST", None)),
    )
    assert second.path == Path("/proj/abs/dir")
    assert second.initial_sync
    assert second.exec is None
    assert hash(first) != hash(second)  # rules are hashable


def test_exec_command_list_and_environment_list() -> None:
    develop = {
        "watch": [
            {
                "action": "sync+exec",
                "path": "src",
                "target": "/app/src",
                "exec": {"command": ["sh", "-c", "echo hi"], "environment": ["A=1", "B"]},
            }
        ]
    }
    (rule,) = parse(develop)
    assert rule.exec == ExecSpec(("sh", "-c", "echo hi"), environment=(("A", "1"), ("B", None)))


def test_home_is_expanded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", "/proj/home")
    (rule,) = parse({"watch": [{"action": "rebuild", "path": "~/lib"}]})
    assert rule.path == Path("/proj/home/lib")


OUTSIDE = "is outside the project folder; watch a path inside it, e.g. path: ./src (a sync would copy other folders' files)"


@pytest.mark.parametrize("path", ["..", "../..", "./src/../../x", "/etc", "~/lib", "/project"])
def test_paths_outside_the_project_are_refused(path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", "/home/me")
    with pytest.raises(DevboxError) as caught:
        parse(_watch({**SYNC, "path": path}))
    assert str(caught.value) == f"{W0}.path: {path!r} {OUTSIDE}"


@pytest.mark.parametrize("path", [".", "./src/..", "/proj/src", "src/../lib"])
def test_paths_inside_the_project_are_kept(path: str) -> None:
    (rule,) = parse(_watch({**SYNC, "path": path}))
    assert rule.path.is_relative_to(PROJECT)


@pytest.mark.parametrize("target", ["app", "/srv/../x", "/usr/src/app", "/opt/app", "/etc/x"])
def test_an_apps_own_folder_is_a_legitimate_target(target: str) -> None:
    (rule,) = parse(_watch({**SYNC, "target": target}))
    assert rule.target == target


@pytest.mark.parametrize("target", ["/", "/etc", "/usr/", ".", "/app/..", "//", "bin", "/var/lib"])
def test_a_system_folder_is_refused_as_a_sync_target(target: str) -> None:
    """`target: /` in copy mode: deleting the rule's source deleted the container's root."""
    with pytest.raises(DevboxError) as caught:
        parse(_watch({**SYNC, "target": target}))
    assert str(caught.value) == (
        f"{W0}.target: {target!r} is a system folder of the container (a sync would overwrite "
        "its files, and a deleted source would delete them); sync into the app's own folder, "
        "e.g. target: /app"
    )


@pytest.mark.parametrize(("field", "value"), [("path", "src\x00x"), ("target", "/app\x00")])
def test_nul_bytes_are_refused(field: str, value: str) -> None:
    with pytest.raises(DevboxError) as caught:
        parse(_watch({**SYNC, field: value}))
    assert str(caught.value) == f"{W0}.{field}: {value!r} contains a NUL byte; remove it"


def _watch(*entries: object) -> dict[str, object]:
    return {"watch": list(entries)}


SYNC = {"action": "sync", "path": ".", "target": "/app"}
W0 = "compose.yaml: services.app.develop.watch[0]"


@pytest.mark.parametrize(
    ("develop", "message"),
    [
        (
            "oops",
            "compose.yaml: services.app.develop: must be a mapping, got 'oops'; "
            "indent a `watch:` list under `develop:`",
        ),
        (
            {"watch": {"path": "."}},
            "compose.yaml: services.app.develop.watch: must be a list of rules, "
            "got {'path': '.'}; start each rule with `- path:`",
        ),
        (
            {"watch": None},
            "compose.yaml: services.app.develop.watch: must be a list of rules, got None; "
            "start each rule with `- path:`",
        ),
        (
            {"watch": [], "wach": []},
            "compose.yaml: services.app.develop.wach: unknown key; "
            "use watch, or x-* for extensions",
        ),
        (
            _watch("."),
            f"{W0}: must be a mapping, got '.'; e.g. {{action: sync, path: ., target: /app}}",
        ),
        (
            _watch({"action": "sync", "target": "/app"}),
            f"{W0}.path: required; add the host path to watch, e.g. path: ./src",
        ),
        (
            _watch({**SYNC, "path": "  "}),
            f"{W0}.path: must be a non-empty string, got '  '; e.g. path: ./src",
        ),
        (
            _watch({"path": "."}),
            f"{W0}.action: required; add one of: sync, rebuild, restart, sync+restart, sync+exec",
        ),
        (
            _watch({**SYNC, "action": "copy"}),
            f"{W0}.action: unknown action 'copy'; "
            "use one of: sync, rebuild, restart, sync+restart, sync+exec",
        ),
        (
            _watch({"action": "rebuild", "path": "uv.lock"}, {"action": "sync", "path": "."}),
            "compose.yaml: services.app.develop.watch[1].target: required for action 'sync'; "
            "add the container path to copy into, e.g. target: /app",
        ),
        (
            _watch({**SYNC, "target": ""}),
            f"{W0}.target: must be a non-empty string, got ''; e.g. target: /app",
        ),
        (
            _watch({**SYNC, "paths": ["."]}),
            f"{W0}.paths: unknown key; use path, action, target, ignore, include, "
            "initial_sync, exec, or x-* for extensions",
        ),
        (
            _watch({**SYNC, "ignore": 3}),
            f"{W0}.ignore: must be a pattern or a list of patterns, got 3; e.g. [.venv/]",
        ),
        (
            _watch({**SYNC, "include": ["*.py", None]}),
            f"{W0}.include: must be a pattern or a list of patterns, got ['*.py', None]; "
            "e.g. [.venv/]",
        ),
        (
            _watch({**SYNC, "ignore": ["[a"]}),
            f"{W0}.ignore: invalid pattern '[a': malformed character class; "
            "close it with ']' and escape '-' or ']' with '\\'",
        ),
        (
            _watch({**SYNC, "initial_sync": "yes"}),
            f"{W0}.initial_sync: must be true or false, got 'yes'; write true or false, unquoted",
        ),
        (
            _watch({**SYNC, "exec": {"command": "true"}}),
            f"{W0}.exec: only used by action 'sync+exec', not 'sync'; remove exec",
        ),
        (
            _watch({**SYNC, "action": "sync+exec"}),
            f"{W0}.exec: required for action 'sync+exec'; "
            'e.g. exec: {command: ["kill", "-HUP", "1"]}',
        ),
        (
            _watch({**SYNC, "action": "sync+exec", "exec": {"user": "root"}}),
            f"{W0}.exec.command: required; add the command to run after syncing, "
            'e.g. exec: {command: ["kill", "-HUP", "1"]}',
        ),
        (
            _watch({**SYNC, "action": "sync+exec", "exec": {"command": []}}),
            f'{W0}.exec.command: must not be empty; e.g. exec: {{command: ["kill", "-HUP", "1"]}}',
        ),
        (
            _watch({**SYNC, "action": "sync+exec", "exec": {"command": 'echo "hi'}}),
            f"{W0}.exec.command: cannot be split into words (No closing quotation); "
            "close the quote, or write a list",
        ),
        (
            _watch({**SYNC, "action": "sync+exec", "exec": {"command": "x", "shell": True}}),
            f"{W0}.exec.shell: unknown key; use command, user, privileged, working_dir, "
            "environment, or x-* for extensions",
        ),
        (
            _watch({**SYNC, "action": "sync+exec", "exec": {"command": "x", "environment": 3}}),
            f"{W0}.exec.environment: must be a mapping or a list of NAME=value, got 3; "
            "e.g. {A: b}",
        ),
    ],
)
def test_invalid_rules(develop: object, message: str) -> None:
    with pytest.raises(DevboxError) as caught:
        parse(develop)
    assert caught.value.message == message
    assert caught.value.code is ExitCode.CONFIG
    assert "\n" not in caught.value.message


RULES = parse(
    {
        "watch": [
            *yaml.safe_load(DEFAULT_DEVELOP)["watch"],
            {"action": "sync+restart", "path": "conf", "target": "/etc/app", "include": "*.toml"},
        ]
    }
)
DOCKERIGNORE = ["**/__pycache__", "secrets/", "*.log", "!keep.log"]
RULESET = RuleSet(RULES, context_dir=PROJECT, dockerignore=DOCKERIGNORE)


@pytest.mark.parametrize(
    ("path", "actions"),
    [
        ("src/app.py", ["sync"]),
        (".", ["sync"]),
        ("pyproject.toml", ["sync", "rebuild"]),
        ("uv.lock", ["sync", "rebuild"]),
        # the rule's ignore list is anchored at the rule path
        (".venv", []),
        (".venv/lib/x.py", []),
        ("a/.venv/x.py", ["sync"]),
        # editor temp files, at any depth
        ("a/.b.py.swp", []),
        ("x~", []),
        ("4913", []),
        ("src/4913", []),
        (".idea/workspace.xml", []),
        ("src/.#app.py", []),
        ("src/#app.py#", []),
        ("app.py___jb_tmp___", []),
        # .git at any depth below the rule path, but not look-alikes
        (".git/HEAD", []),
        ("vendor/lib/.git/config", []),
        (".gitignore", ["sync"]),
        # include is anchored at the rule path and only narrows that rule
        ("conf/app.toml", ["sync", "sync+restart"]),
        ("conf/app.yaml", ["sync"]),
        ("conf/sub/app.toml", ["sync"]),
        # .dockerignore, anchored at the build context
        ("src/__pycache__/a.cpython-313.pyc", []),
        ("secrets/key", []),
        ("app.log", []),
        ("keep.log", ["sync"]),
        ("logs/app.log", ["sync"]),
        # outside every rule
        ("/elsewhere/x.py", []),
        ("/proj2/x.py", []),
        ("/", []),
    ],
)
def test_matching(path: str, actions: list[str]) -> None:
    assert [rule.action for rule in RULESET.matching(PROJECT / path)] == actions


def test_dockerignore_star_quirk_ignores_nothing() -> None:
    rules = RuleSet(RULES, context_dir=PROJECT, dockerignore=["*", "!src"])
    assert [r.action for r in rules.matching(PROJECT / "other.py")] == ["sync"]
    assert [r.action for r in rules.matching(PROJECT / "src/app.py")] == ["sync"]


def test_dockerignore_needs_a_build_context() -> None:
    rules = RuleSet(RULES, context_dir=None, dockerignore=["*.log"])
    assert [r.action for r in rules.matching(PROJECT / "app.log")] == ["sync"]


def test_dockerignore_is_anchored_at_the_context() -> None:
    rules = RuleSet(RULES, context_dir=PROJECT / "src", dockerignore=["*.py"])
    assert rules.matching(PROJECT / "src/app.py") == []
    assert [r.action for r in rules.matching(PROJECT / "app.py")] == ["sync"]


@pytest.mark.parametrize(
    ("directory", "expected"),
    [
        ("/proj/.venv", True),
        ("/proj/.git", True),
        ("/proj/src/__pycache__", True),
        ("/proj/secrets", True),
        ("/proj/src", False),
        ("/proj", False),
        ("/", False),  # an ancestor of the rule path
        ("/elsewhere", True),
    ],
)
def test_skips_dir(directory: str, expected: bool) -> None:
    assert RULESET.skips_dir(RULES[0], Path(directory)) is expected


@pytest.mark.parametrize(
    ("target", "path", "expected"),
    [
        ("/app", "/proj/src/app.py", "/app/src/app.py"),
        ("/app", "/proj", "/app"),
        ("/app/", "/proj/./a/../b.py", "/app/b.py"),
        ("app", "/proj/x.py", "/app/x.py"),
    ],
)
def test_container_path(target: str, path: str, expected: str) -> None:
    rule = WatchRule(PROJECT, Action.SYNC, target, (), (), False, None, 0)
    assert container_path(rule, Path(path)) == expected


def test_container_path_needs_a_target_and_a_path_inside() -> None:
    with pytest.raises(ValueError, match="no container path"):
        container_path(RULES[1], PROJECT / "pyproject.toml")
    with pytest.raises(ValueError, match="no container path"):
        container_path(RULES[0], Path("/elsewhere/x.py"))
