"""The architecture rules that import-linter cannot see, checked on the source itself."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "devbox"
CONTAINER_CLIS = {"docker", "docker-compose", "podman", "podman-compose", "nerdctl"}
SUBPROCESS_CALLS = {"run", "Popen", "call", "check_call", "check_output", "getoutput"}


def modules(outside: str) -> list[Path]:
    return [p for p in PACKAGE.rglob("*.py") if not p.is_relative_to(PACKAGE / outside)]


@pytest.mark.parametrize("path", modules("engine"), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_the_engine_names_a_container_cli(path: Path) -> None:
    """A command line for docker (or Podman) is built in devbox/engine/ only."""
    names = [
        node.value
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and node.value in CONTAINER_CLIS
    ]
    assert names == []


@pytest.mark.parametrize("path", modules("runtime"), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_runtime_starts_processes(path: Path) -> None:
    """Every subprocess goes through devbox.runtime.process (logged, as an argument list)."""
    calls = [
        f"{node.value.id}.{node.attr}"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in ("subprocess", "os")
        and node.attr in SUBPROCESS_CALLS | {"system", "popen", "kill", "killpg", "execvp"}
    ]
    assert calls == []


def _uv_command_lines(tree: ast.AST) -> list[int]:
    """Lines of list or tuple displays that start a uv command line: `["uv", ...]`, or
    `[uv, "lock"]` with a variable holding uv's path."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.List | ast.Tuple) or not node.elts:
            continue
        first = node.elts[0]
        spelled = isinstance(first, ast.Constant) and first.value == "uv"
        named = isinstance(first, ast.Name) and first.id in ("uv", "uv_path", "program")
        if spelled or (named and len(node.elts) > 1):
            found.append(node.lineno)
    return found


@pytest.mark.parametrize(
    "path",
    [p for p in PACKAGE.rglob("*.py") if p != PACKAGE / "uv.py"],
    ids=lambda p: str(p.relative_to(PACKAGE)),
)
def test_only_devbox_uv_spells_a_uv_command_line(path: Path) -> None:
    """uv's arguments are built in devbox/uv.py only (`uv.add(...).argv(program)`)."""
    assert _uv_command_lines(ast.parse(path.read_text())) == []


def test_the_uv_scan_sees_uv_command_lines() -> None:
    """The rule above would pass vacuously if the scan missed the old spellings."""
    assert _uv_command_lines(ast.parse('a = ["uv", "sync"]\nb = [uv, "lock"]\n')) == [1, 2]
    assert _uv_command_lines(ast.parse('PROGRAM = "uv"\nc = [PROGRAM, *args]\n')) == []


def test_the_engine_scan_sees_the_engine() -> None:
    """The rule above would pass vacuously if the scan found nothing: it finds the client."""
    client = (PACKAGE / "engine" / "client.py").read_text()
    assert any(
        isinstance(n, ast.Constant) and n.value == "docker" for n in ast.walk(ast.parse(client))
    )


def _engine_command_lines(tree: ast.AST) -> list[str]:
    """Calls that ask an engine for a command line (`engine.compose_cmd(...)`,
    `self.engine.run_cmd(...)`): a caller that then runs and parses it itself."""
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        owner = node.func.value
        named = (isinstance(owner, ast.Name) and owner.id == "engine") or (
            isinstance(owner, ast.Attribute) and owner.attr == "engine"
        )
        if named and node.func.attr.endswith("_cmd"):
            found.append(node.func.attr)
    return found


@pytest.mark.parametrize("path", modules("engine"), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_the_engine_builds_and_runs_its_command_lines(path: Path) -> None:
    """Callers above engine/ ask for an action or an answer (`engine.compose_build(...)`,
    `engine.running(...)`), never for an argv to run and parse themselves."""
    assert _engine_command_lines(ast.parse(path.read_text())) == []


def test_the_command_line_scan_sees_a_request_for_one() -> None:
    tree = ast.parse(
        'engine.compose_cmd("up")\nself.engine.build_cmd(tag="t")\nscratch.end_cmd(w)\n'
    )
    assert _engine_command_lines(tree) == ["compose_cmd", "build_cmd"]
