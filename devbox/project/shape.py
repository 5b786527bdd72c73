"""The shape of a project, read from its files: what to run, how to reload it in
development, what the production image must keep, and what the dependency layer must
leave out. Pure logic over `pyproject.toml` and the folder, so each rule is unit-tested;
every choice comes with a note saying why, which `devbox init` prints.

The production rule: the `prod` image holds only the virtual environment when the
command is one of the project's installed console scripts and names no file of the
project; otherwise (`python main.py`, `fastapi run src/app`, `uvicorn app.main:app`,
`python manage.py ...`, no entry point at all) it keeps the sources too.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devbox import uv
from devbox.errors import config_error
from devbox.project.apps import ANY, Found, choose_app

IDLE = ("sleep", "infinity")  # a dev container that stays up for `devbox shell` and tests


@dataclass(frozen=True, kw_only=True)
class Shape:
    """What init chose for a project, and why (one note per choice)."""

    command: tuple[str, ...]
    dev_command: tuple[str, ...]
    prod_sources: bool
    package: str | None = None  # the workspace member that is the app (`uv sync --package`)
    all_packages: bool = False  # a virtual workspace root without an app member
    local_deps: bool = (
        False  # workspace members or path dependencies to leave out of the lock layer
    )
    smoke: tuple[str, ...] | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)


def packaged(pyproject: dict[str, Any]) -> bool:
    """Whether uv builds and installs the project (uv's own rule: `tool.uv.package`, else a
    `[build-system]`)."""
    explicit = pyproject.get("tool", {}).get("uv", {}).get("package")
    return bool(explicit) if isinstance(explicit, bool) else "build-system" in pyproject


def import_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", name).lower()


def _table(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    for key in keys:
        value = data.get(key, {})
        data = value if isinstance(value, dict) else {}
    return data


def workspace_members(project_dir: Path, pyproject: dict[str, Any]) -> list[Path]:
    """The member folders `[tool.uv.workspace] members` names; a literal one that is missing is
    a one-line error (uv's own error comes only deep inside the build)."""
    workspace = _table(pyproject, "tool", "uv", "workspace")
    if not workspace:
        return []
    path = project_dir / "pyproject.toml"
    members = workspace.get("members", [])
    if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
        raise config_error(
            path, "tool.uv.workspace.members", "must be a list of paths", 'e.g. ["packages/*"]'
        )
    excluded = {p.resolve() for m in workspace.get("exclude", []) for p in project_dir.glob(m)}
    found: list[Path] = []
    for member in members:
        matches = sorted(p for p in project_dir.glob(member) if p.is_dir())
        if not matches and not any(c in member for c in "*?["):
            raise config_error(
                path,
                "tool.uv.workspace.members",
                f"{member} does not exist",
                "create it (`uv init " + member + "`) or remove it from the list",
            )
        for folder in matches:
            if folder.resolve() in excluded or not (folder / "pyproject.toml").is_file():
                continue
            found.append(folder)
    return found


def path_dependencies(
    project_dir: Path, pyproject: dict[str, Any], file: Path
) -> list[tuple[str, Path]]:
    """`[tool.uv.sources]` entries with a `path`, checked to lie inside the build context."""
    found: list[tuple[str, Path]] = []
    for name, source in _table(pyproject, "tool", "uv", "sources").items():
        entries = source if isinstance(source, list) else [source]
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
                continue
            target = (file.parent / entry["path"]).resolve()
            field_name = f"tool.uv.sources.{name}"
            if not target.is_relative_to(project_dir.resolve()):
                raise config_error(
                    file,
                    field_name,
                    f"{entry['path']} is outside the project folder, so no image build can see it",
                    "move it into the project (e.g. packages/" + name + ") or depend on a release",
                )
            if not target.exists():
                raise config_error(
                    file, field_name, f"{entry['path']} does not exist", "fix the path"
                )
            found.append((name, target))
    return found


def _file_args(command: tuple[str, ...], project_dir: Path) -> list[str]:
    """The command's arguments that name a file or folder of the project."""
    names = []
    for arg in command[1:]:
        value = arg.split("=", 1)[1] if arg.startswith("--") and "=" in arg else arg
        if not value or value.startswith("-") or value.startswith("/"):
            continue
        try:
            if (project_dir / value).exists():
                names.append(value)
        except (OSError, ValueError):
            continue
    return names


def reloading(command: tuple[str, ...]) -> tuple[tuple[str, ...], str | None]:
    """The development form of a known server command (its reloader on), and the framework;
    the command itself and None when no reloader is known."""
    argv = list(command)
    tool_at = uv.run_target(argv)  # `uv run fastapi dev ...`, as the uv guide's CMD has it
    if argv[tool_at : tool_at + 2] == ["python", "-m"] and len(argv) > tool_at + 2:
        tool_at += 2
    tool = Path(argv[tool_at]).name if argv else ""
    if tool == "fastapi" and "dev" in argv:
        return command, "FastAPI (`fastapi dev`)"
    if tool == "fastapi" and "run" in argv:
        dev = ["dev" if a == "run" else a for a in argv]
        if "--host" not in dev and not any(a.startswith("--host=") for a in dev):
            dev += ["--host", ANY]  # `fastapi dev` listens on 127.0.0.1 by default
        return tuple(dev), "FastAPI (`fastapi dev`)"
    if tool in ("uvicorn", "gunicorn"):
        return tuple(argv if "--reload" in argv else [*argv, "--reload"]), f"{tool} --reload"
    if tool == "flask" and "run" in argv:
        return tuple(argv if "--debug" in argv else [*argv, "--debug"]), "Flask --debug"
    if "runserver" in argv and any(Path(a).name in ("manage.py", "django-admin") for a in argv):
        return tuple(a for a in argv if a != "--noreload"), "Django runserver"
    return command, None


def dependency_names(pyproject: dict[str, Any]) -> set[str]:
    """The project's dependencies' normalized names (`fastapi[standard]` adds what it pulls
    in that matters here: fastapi-cli and uvicorn)."""
    return _dependencies(pyproject)


def _dependencies(pyproject: dict[str, Any]) -> set[str]:
    deps = _table(pyproject, "project").get("dependencies", [])
    names = set()
    for dep in deps if isinstance(deps, list) else []:
        match = re.match(r"\s*([A-Za-z0-9._-]+)(\[[^\]]*\])?", str(dep))
        if match:
            names.add(match.group(1).lower().replace("_", "-"))
            standard = bool(match.group(2)) and "standard" in str(match.group(2))
            if standard and match.group(1).lower() == "fastapi":
                names |= {"fastapi-cli", "uvicorn"}
            if standard and match.group(1).lower() == "litestar":
                names.add("uvicorn")
    return names


def _app_command(
    project_dir: Path,
    pyproject: dict[str, Any],
    port: int,
    members: dict[Path, dict[str, Any]] | None = None,
) -> Found | None:
    """A server or script of the project (devbox/project/apps.py says where apps live), or
    of a workspace member uv installs with it: every member of a virtual root (`uv sync
    --all-packages`), else those the root depends on (the full-stack template's `backend/`
    member holding `app/main.py`, served as `app.main:app` since uv installs `app`)."""
    name = str(_table(pyproject, "project").get("name") or "")
    folder = _package_folder(project_dir, name, pyproject) if name else None
    own = folder.relative_to(project_dir).as_posix() if folder is not None else None
    package = folder.name if folder is not None else _module_file(project_dir, name)
    installed = {package} if package and packaged(pyproject) else set()
    deps = _dependencies(pyproject)
    virtual = virtual_root(pyproject, members)
    folders = []
    for folder, data in (members or {}).items():
        member = str(_table(data, "project").get("name") or "")
        if not member or not (virtual or member.lower().replace("_", "-") in deps):
            continue
        folders.append(folder.relative_to(project_dir).as_posix())
        deps |= _dependencies(data)
        module = _package_dir(folder, member, data)
        if module is not None and packaged(data):
            installed.add(module)
        elif packaged(data):  # hatch `packages = [...]`, a package named for what it is
            installed |= {p.name for p in folder.iterdir() if (p / "__init__.py").is_file()}
            src = folder / "src"
            installed |= {p.name for p in src.glob("*") if (p / "__init__.py").is_file()}
    return choose_app(
        project_dir, deps, port, package=own, installed=frozenset(installed), members=folders
    )


def virtual_root(pyproject: dict[str, Any], members: Mapping[Path, Any] | None) -> bool:
    """A workspace root that is only a workspace (pure): no `[project]`, or one that uv
    never installs (`package = false`, or no build system) with no dependencies of its own,
    so `uv sync` there would install its members' packages not at all."""
    if "project" not in pyproject:
        return True
    return bool(members) and not _dependencies(pyproject) and not packaged(pyproject)


def _package_folder(project_dir: Path, name: str, pyproject: dict[str, Any]) -> Path | None:
    """The folder of the project's package: src or flat layout, uv's build backend
    `module-root`, or hatch's `packages = ["src/py/app"]` (litestar-fullstack)."""
    module = import_name(name)
    folders = [project_dir / "src" / module, project_dir / module]
    root = _table(pyproject, "tool", "uv", "build-backend").get("module-root")
    if isinstance(root, str):
        folders.insert(0, project_dir / root / module)
    listed = _table(pyproject, "tool", "hatch", "build", "targets", "wheel").get("packages")
    folders += (
        [project_dir / p for p in listed if isinstance(p, str)] if isinstance(listed, list) else []
    )
    top = project_dir.resolve()
    for folder in folders:
        if (folder / "__init__.py").is_file() and folder.resolve().is_relative_to(top):
            return folder
    return None


def _module_file(project_dir: Path, name: str) -> str | None:
    """The import name of the project's one-module package (`name.py`, top or src)."""
    module = import_name(name) if name else ""
    if module and any(
        (top / f"{module}.py").is_file() for top in (project_dir, project_dir / "src")
    ):
        return module
    return None


def _package_dir(project_dir: Path, name: str, pyproject: dict[str, Any]) -> str | None:
    """The import name of the project's package (a folder, or one module), if one is there."""
    folder = _package_folder(project_dir, name, pyproject)
    return folder.name if folder is not None else _module_file(project_dir, name)


def _scripts(pyproject: dict[str, Any]) -> list[str]:
    return list(_table(pyproject, "project", "scripts"))


def reloader_note(dev_command: tuple[str, ...], framework: str) -> str:
    return f"dev-command: {' '.join(dev_command)} ({framework} reloads on edits)"


def infer_shape(
    project_dir: Path,
    pyproject: dict[str, Any],
    members: dict[Path, dict[str, Any]],
    *,
    tool: dict[str, Any],
    command: tuple[str, ...] | None,
    dev_command: tuple[str, ...] | None,
    port: int,
) -> Shape:
    """init's choices for a uv project (`command`/`dev_command` are the user's, if set).

    `members` maps each workspace member folder to its parsed pyproject.toml.
    """
    file = project_dir / "pyproject.toml"
    notes: list[str] = []
    virtual = virtual_root(pyproject, members)
    locals_ = path_dependencies(project_dir, pyproject, file)
    for folder, data in members.items():
        locals_ += path_dependencies(project_dir, data, folder / "pyproject.toml")
    local_deps = bool(members or locals_)
    if local_deps:
        what = [f"{len(members)} workspace member(s)"] if members else []
        what += [f"path dependency {n}" for n, _ in locals_]
        notes.append(
            f"dependency layer: leaves out {', '.join(what)} (uv sync --no-install-local, "
            "--frozen), so it builds from pyproject.toml and uv.lock alone"
        )

    package: str | None = tool.get("package") if isinstance(tool.get("package"), str) else None
    scripts = _scripts(pyproject)
    member_scripts = {
        str(data["project"]["name"]): _scripts(data)
        for data in members.values()
        if isinstance(data.get("project", {}).get("name"), str)
    }
    all_scripts = set(scripts) | {s for names in member_scripts.values() for s in names}
    smoke: tuple[str, ...] | None = None
    found = _app_command(project_dir, pyproject, port, members) if command is None else None
    if command is None and found is not None and found.served and all_scripts:
        # A web app beats a console script beside it (uv-docker-example's `hello`): the
        # dev loop serves it with its framework's reloader; the script stays one flag away.
        assert found.command is not None
        command = found.command
        notes.append(f"command: {' '.join(command)} ({found.why})")
        other = scripts[0] if scripts else sorted(all_scripts)[0]
        notes.append(
            f"command: also found console script {other}; to run it instead: "
            f"`devbox init --command {other}`"
        )
    if command is None and scripts:
        command = (scripts[0],)
        notes.append(f"command: {scripts[0]}, the project's console script")
        if not packaged(pyproject):
            notes.append(
                "project.scripts: uv installs console scripts only for a packaged project; "
                "add a [build-system] (`uv init --package` writes one)"
            )
    if command is None and package is None and virtual:
        apps = [name for name, names in member_scripts.items() if names]
        if apps:
            package = apps[0]
            command = (member_scripts[package][0],)
            notes.append(
                f"command: {command[0]}, the console script of workspace member {package} "
                f"(uv sync --package {package})"
            )
    if command is None and package is not None and member_scripts.get(package):
        command = (member_scripts[package][0],)
        notes.append(f"command: {command[0]}, the console script of workspace member {package}")
    unserved = False  # an app was found that nothing in the dependencies serves
    if command is None and found is not None and found.command is not None:
        command = found.command
        notes.append(f"command: {' '.join(command)} ({found.why})")
    if found is not None:  # the apps not chosen, with the --command for each
        notes += [f"command: {hint}" for hint in found.hints]
        unserved = command is None and bool(found.hints)
    name = str(_table(pyproject, "project").get("name") or "")
    if command is None:
        command = IDLE
        module = _package_dir(project_dir, name, pyproject) if name else None
        if module is None and package:
            module = import_name(package)
        if module is None and virtual and member_scripts:
            module = import_name(next(iter(member_scripts)))
        smoke = ("python", "-c", f"import {module}") if module else ("python", "--version")
        why = "no app it can serve yet, see above" if unserved else "no console script or app file"
        notes.append(
            f"command: sleep infinity ({why}): a dev container for "
            "`devbox shell` and tests; smoke runs " + " ".join(smoke)
        )

    all_packages = virtual and package is None
    if all_packages:
        notes.append(
            "workspace root is virtual (no [project], or nothing of its own to install): "
            "uv sync --all-packages"
        )
    if package is not None and not virtual and package not in member_scripts:
        raise config_error(
            file,
            "tool.devbox.package",
            f"{package} is not a workspace member",
            f"use one of {', '.join(sorted(member_scripts)) or 'the members you add'}",
        )

    files = _file_args(command, project_dir)
    installed = command[0] in all_scripts and (not virtual or package is not None)
    prod_sources = "prod-sources" not in tool and (not installed or bool(files))
    if "prod-sources" in tool:
        value = tool["prod-sources"]
        if not isinstance(value, bool):
            raise config_error(
                file, "tool.devbox.prod-sources", f"{value!r} is not true or false", "use true"
            )
        prod_sources = value
    elif prod_sources:
        why = (
            f"the command names project files ({', '.join(files)})"
            if files
            else f"{command[0]} is not an installed console script of the project"
        )
        notes.append(f"prod image: virtual environment and sources, because {why}")
    else:
        notes.append(
            f"prod image: the virtual environment only ({command[0]} is an installed console "
            "script)"
        )

    if dev_command is None:
        dev_command, framework = reloading(command)
        if framework is not None:
            notes.append(reloader_note(dev_command, framework))
        elif command != IDLE:
            notes.append(
                "dev-command: the command itself (no known reloader); up syncs edits, set "
                "[tool.devbox] dev-command to reload them"
            )
    if not packaged(pyproject) and not virtual:
        notes.append("project: not packaged (no [build-system]): uv sync installs only its deps")
    return Shape(
        command=command,
        dev_command=dev_command,
        prod_sources=prod_sources,
        package=package,
        all_packages=all_packages,
        local_deps=local_deps,
        smoke=smoke,
        notes=tuple(notes),
    )


def load_members(project_dir: Path, pyproject: dict[str, Any]) -> dict[Path, dict[str, Any]]:
    """Each workspace member's folder and parsed pyproject.toml."""
    from devbox.project.files import parse_toml, read_text

    result: dict[Path, dict[str, Any]] = {}
    for folder in workspace_members(project_dir, pyproject):
        path = folder / "pyproject.toml"
        text = read_text(path)
        if text is None:
            continue
        result[folder] = parse_toml(path, text)
    return result
