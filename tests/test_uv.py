"""devbox.uv: uv's command lines and what its output says (pure)."""

import shlex
import shutil
import subprocess

import pytest

from devbox import uv

NOT_FOUND = """\
Using CPython 3.11.7 interpreter at: /usr/bin/python3
error: Failed to add dependencies
  cause: No solution found when resolving dependencies
  cause: Because no-such-pkg-xyz was not found in the package registry and your project \
depends on no-such-pkg-xyz, we can conclude that your project's requirements are unsatisfiable.

hint: If you want to add the package regardless of the failed resolution, provide the \
`--frozen` flag to skip locking and syncing
"""
BROKEN_LOCK = """\
error: Failed to parse `uv.lock`
  cause: TOML parse error at line 5, column 10
           |
         5 | [[package
           |          ^
         unclosed array table, expected `]]`
"""


def test_add_remove_lock_and_sync_command_lines() -> None:
    assert uv.add(["httpx>=0.27"]).argv() == ["uv", "add", "--no-sync", "httpx>=0.27"]
    assert uv.add(["six"], dev=True).argv("/bin/uv") == [
        "/bin/uv",
        "add",
        "--no-sync",
        "--dev",
        "six",
    ]
    assert uv.add(["a", "b"], group="lint").args == (
        "add",
        "--no-sync",
        "--group",
        "lint",
        "a",
        "b",
    )
    assert uv.remove(["six"], dev=True).args == ("remove", "--no-sync", "--dev", "six")
    assert uv.lock().args == ("lock",)
    assert uv.lock(check=True).args == ("lock", "--check")
    assert uv.sync().args == ("sync", "--locked")
    assert uv.sync(package="api", no_editable=True).shell() == (
        "uv sync --locked --package api --no-editable"
    )
    assert uv.sync(frozen=True, no_install_local=True, all_packages=True).shell() == (
        "uv sync --frozen --no-install-local --all-packages"
    )
    assert uv.add(["--dev", "six"]).verb == "add"
    assert uv.version().argv() == ["uv", "--version"]


def test_a_shell_line_quotes_arguments_but_expands_the_scripts_variables() -> None:
    command = uv.pip_install(quiet=True, target="/t", python="$py", packages=["debugpy>=1.8,<2"])
    line = command.shell(variables=["$py"])
    assert line == "uv pip install --quiet --target /t --python \"$py\" 'debugpy>=1.8,<2'"
    assert shlex.split(uv.pip_install(requirements="req dev.txt").shell()) == [
        "uv", "pip", "install", "-r", "req dev.txt"
    ]  # fmt: skip


def test_is_sync() -> None:
    assert uv.is_sync(["uv", "sync", "--locked"])
    assert not uv.is_sync(["uv", "lock"])
    assert not uv.is_sync(["sh", "-c", "uv sync"])


def test_parse_version() -> None:
    assert uv.parse_version("uv 0.13.9 (x86_64-unknown-linux-gnu)\n") == (0, 13, 9)
    assert uv.parse_version("uv 0.13.9") == (0, 13, 9)
    assert uv.parse_version("no version here") is None


def test_a_missing_package_is_uvs_error_and_cause_not_its_hint() -> None:
    reason = uv.error_reason(NOT_FOUND)
    assert reason is not None
    assert reason.startswith("error: Failed to add dependencies: Because no-such-pkg-xyz was not")
    assert reason.endswith("your project's requirements are unsatisfiable.")


def test_the_deepest_cause_after_the_last_error() -> None:
    assert uv.error_reason(BROKEN_LOCK) == (
        "error: Failed to parse `uv.lock`: TOML parse error at line 5, column 10"
    )
    assert uv.error_reason("error: no such package: nopkg\n") == "error: no such package: nopkg"
    assert uv.error_reason("warning: one\nsomething went wrong\nhint: try x\n") == (
        "something went wrong"
    )
    assert uv.error_reason("\n  \nhint: only advice\n") is None


def test_lock_lags() -> None:
    assert uv.lock_lags("error: The lockfile at `uv.lock` needs to be updated, but `--locked`")
    assert not uv.lock_lags("error: Failed to parse `uv.lock`")


@pytest.mark.skipif(shutil.which("uv") is None, reason="no uv on PATH")
def test_the_real_uv_says_its_version() -> None:
    said = subprocess.run(uv.version().argv(), capture_output=True, text=True, check=True)
    assert uv.parse_version(said.stdout) is not None


def test_run_target_finds_the_command_uv_run_runs() -> None:
    from devbox.uv import run_target

    assert run_target(["uv", "run", "fastapi", "dev"]) == 2
    assert run_target(["uv", "run", "--no-sync", "--frozen", "app"]) == 4
    assert run_target(["fastapi", "run"]) == 0
    assert run_target(["uv", "run"]) == 0
