"""The scratch copy's shell scripts, run by the host's `sh` on folders in tmp_path (the
container runs the same POSIX sh): what is linked and what copied, and the end that
stops only the uv it started and removes the folder, never what its links point to."""

import subprocess
import time
from pathlib import Path

from devbox.defaults import APP_DIR
from devbox.engine import scratch

FILES = ["pyproject.toml", "uv.lock"]


def _at(argv: list[str], app: Path) -> list[str]:
    """The command line with tmp_path's `app` in place of the container's /app."""
    return [str(app) if arg == APP_DIR else arg for arg in argv]


def _app(tmp_path: Path) -> Path:
    app = tmp_path / "app"
    (app / "src").mkdir(parents=True)
    (app / "src" / "main.py").write_text("print()\n")
    (app / ".python-version").write_text("3.13\n")
    (app / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (app / "uv.lock").write_text("version = 1\n")
    return app


def test_prepare_links_every_entry_but_the_files_uv_rewrites(tmp_path: Path) -> None:
    app, work = _app(tmp_path), tmp_path / "scratch"
    argv = _at(scratch.prepare_cmd(str(work), FILES, copy_from_app=True), app)
    subprocess.run(argv, check=True)
    assert sorted(p.name for p in work.iterdir()) == [
        ".python-version", "pyproject.toml", "src", "uv.lock",
    ]  # fmt: skip
    assert (work / "src").is_symlink() and (work / ".python-version").is_symlink()
    for name in FILES:  # copies: uv's rewrite leaves /app's alone
        assert not (work / name).is_symlink()
        assert (work / name).read_text() == (app / name).read_text()
    assert oct(work.stat().st_mode & 0o777) == "0o700"


def test_prepare_without_copy_leaves_the_files_to_the_caller(tmp_path: Path) -> None:
    app, work = _app(tmp_path), tmp_path / "scratch"
    subprocess.run(_at(scratch.prepare_cmd(str(work), FILES, copy_from_app=False), app), check=True)
    assert not (work / "pyproject.toml").exists() and not (work / "uv.lock").exists()


def test_end_stops_the_recorded_process_and_removes_only_the_scratch(tmp_path: Path) -> None:
    app, work = _app(tmp_path), tmp_path / "scratch"
    subprocess.run(_at(scratch.prepare_cmd(str(work), FILES, copy_from_app=True), app), check=True)
    child = subprocess.Popen(scratch.recorded_cmd(str(work), ["sleep", "60"]), cwd=work)
    pid_file = Path(scratch.pid_file(str(work)))
    deadline = time.monotonic() + 10
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert int(pid_file.read_text()) == child.pid  # the shell's pid, which exec kept
    subprocess.run(scratch.end_cmd(str(work)), check=True, timeout=30)
    assert child.wait(timeout=10) != 0  # stopped by the signal
    assert not work.exists() and not pid_file.exists()
    assert (app / "src" / "main.py").is_file()  # the links' targets stay


def test_end_never_signals_a_pid_that_runs_elsewhere(tmp_path: Path) -> None:
    """A pid reused since (another process, another working directory) is left alone."""
    work = tmp_path / "scratch"
    work.mkdir()
    other = subprocess.Popen(["sleep", "60"], cwd=tmp_path)
    try:
        Path(scratch.pid_file(str(work))).write_text(f"{other.pid}\n")
        subprocess.run(scratch.end_cmd(str(work)), check=True, timeout=30)
        assert other.poll() is None
        assert not work.exists()
    finally:
        other.kill()
        other.wait()


def test_scratch_folders_are_new_each_time() -> None:
    first, second = scratch.scratch_dir(), scratch.scratch_dir()
    assert first != second and first.startswith("/tmp/devbox-uv-")
    assert scratch.pid_file(first) == first + ".pid"
