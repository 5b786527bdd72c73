"""The bad-input matrix's cases: project trees, a command line, the exit code and the exact
one-line message (`{root}` stands for the project folder)."""

from dataclasses import dataclass, field
from pathlib import Path

PYPROJECT = '[project]\nname = "shop"\nversion = "0.1.0"\n[project.scripts]\nshop = "shop:main"\n'
WATCHED = (
    "services:\n  app:\n    build: .\n    develop:\n      watch:\n"
    "        - {action: sync, path: ., target: /app}\n"
)


@dataclass(frozen=True)
class Case:
    id: str
    files: dict[str, str | bytes]
    argv: list[str]
    code: int
    message: str  # exact, after "devbox: "; a trailing "*" means "starts with"
    folders: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)


def uv(extra: str = "", /, **files: str | bytes) -> dict[str, str | bytes]:
    """A locked uv project, with `extra` appended to its pyproject.toml."""
    return {"pyproject.toml": PYPROJECT + extra, "uv.lock": "version = 1\n", **files}


def compose(text: str | bytes, /, **files: str | bytes) -> dict[str, str | bytes]:
    return uv(**{"compose.yaml": text, **files})


INIT = ["init", "-C", "{root}"]
CHECK = ["init", "--check", "-C", "{root}"]
UP = ["up", "-C", "{root}"]
STATUS = ["status", "-C", "{root}"]

CASES = [
    # --- pyproject.toml -------------------------------------------------------------
    Case(
        "toml-syntax",
        {"pyproject.toml": "[project\n", "uv.lock": ""},
        INIT,
        3,
        "{root}/pyproject.toml: invalid TOML: *",
    ),
    Case(
        "toml-not-utf8",
        {"pyproject.toml": b"\xff\xfe", "uv.lock": ""},
        INIT,
        3,
        "{root}/pyproject.toml: not UTF-8 text; save it as UTF-8",
    ),
    Case(
        "toml-folder",
        {"uv.lock": ""},
        INIT,
        3,
        "{root}/pyproject.toml: is a folder, not a file; move it away",
        folders=["pyproject.toml"],
    ),
    Case(
        "no-project-table",
        {"pyproject.toml": "[tool.uv]\n", "uv.lock": ""},
        INIT,
        3,
        "{root}/pyproject.toml: project: missing; add a [project] table with a name (`uv init` writes one)",
    ),
    Case(
        "project-not-table",
        {"pyproject.toml": "project = 1\n", "uv.lock": ""},
        INIT,
        3,
        "{root}/pyproject.toml: project: must be a table; write it as [project]",
    ),
    Case(
        "no-name",
        {"pyproject.toml": "[project]\nversion = '1'\n", "uv.lock": ""},
        INIT,
        3,
        "{root}/pyproject.toml: project.name: missing; add a name to [project]",
    ),
    Case(
        "tool-scalar",
        {"pyproject.toml": "tool = 1\n" + PYPROJECT, "uv.lock": ""},
        INIT,
        3,
        "{root}/pyproject.toml: tool: must be a table; write it as [tool.<name>]",
    ),
    Case(
        "devbox-scalar",
        uv("[tool]\ndevbox = 1\n"),
        INIT,
        3,
        "{root}/pyproject.toml: tool.devbox: must be a table; write it as [tool.devbox]",
    ),
    Case(
        "unknown-key",
        uv("[tool.devbox]\nportt = 1\n"),
        INIT,
        3,
        "{root}/pyproject.toml: tool.devbox.portt: unknown key; *",
    ),
    Case(
        "port-string",
        uv("[tool.devbox]\nport = '80'\n"),
        INIT,
        3,
        "{root}/pyproject.toml: tool.devbox.port: '80' is not a port; use 1-65535",
    ),
    Case(
        "port-zero",
        uv("[tool.devbox]\nport = 0\n"),
        INIT,
        3,
        "{root}/pyproject.toml: tool.devbox.port: 0 is not a port; use 1-65535",
    ),
    Case(
        "port-bool",
        uv("[tool.devbox]\nport = true\n"),
        INIT,
        3,
        "{root}/pyproject.toml: tool.devbox.port: True is not a port; use 1-65535",
    ),
    Case(
        "command-empty",
        uv("[tool.devbox]\ncommand = ''\n"),
        INIT,
        3,
        '{root}/pyproject.toml: tool.devbox.command: must be a non-empty string or list of strings; e.g. "app --reload"',
    ),
    Case(
        "command-quote",
        uv("[tool.devbox]\ncommand = 'app \"x'\n"),
        INIT,
        3,
        "{root}/pyproject.toml: tool.devbox.command: No closing quotation; close the quote, or use a list",
    ),
    Case(
        "command-ints",
        uv("[tool.devbox]\ncommand = [1]\n"),
        INIT,
        3,
        '{root}/pyproject.toml: tool.devbox.command: must be a non-empty string or list of strings; e.g. "app --reload"',
    ),
    Case(
        "health-relative",
        uv("[tool.devbox]\nhealth-path = 'health'\n"),
        INIT,
        3,
        "{root}/pyproject.toml: tool.devbox.health-path: 'health' is not a path; e.g. \"/health\"",
    ),
    Case(
        "digest-bad",
        uv("[tool.devbox]\nuv-digest = 'sha256:x'\n"),
        INIT,
        3,
        "{root}/pyproject.toml: tool.devbox.uv-digest: 'sha256:x' is not a digest; use sha256:<64 hex>",
    ),
    # --- values rendered into generated files: Docker's and Compose's formats -------------
    Case(
        "service-newline-yaml",
        uv(),
        [*INIT, "--service", "app\n  evil:\n    image: x"],
        3,
        "{root}/pyproject.toml: tool.devbox.service: 'app\\n  evil:\\n    image: x' is not a Compose service name; use lowercase letters, digits, '.', '_' and '-', starting with a letter or digit",
    ),
    Case(
        "service-metachars",
        uv(),
        [*INIT, "--service", "a b;x"],
        3,
        "{root}/pyproject.toml: tool.devbox.service: 'a b;x' is not a Compose service name; use lowercase letters, digits, '.', '_' and '-', starting with a letter or digit",
    ),
    Case(
        "service-uppercase-toml",
        uv("[tool.devbox]\nservice = 'App'\n"),
        INIT,
        3,
        "{root}/pyproject.toml: tool.devbox.service: 'App' is not a Compose service name; use lowercase letters, digits, '.', '_' and '-', starting with a letter or digit",
    ),
    Case(
        "python-image-empty",
        uv(),
        [*INIT, "--python-image", ""],
        3,
        "{root}/pyproject.toml: tool.devbox.python-image: '' is not an image reference; use a name like \"python:3.13-slim-trixie\" (lowercase, optional :tag, @sha256:...)",
    ),
    Case(
        "python-image-list",
        uv("[tool.devbox]\npython-image = ['x']\n"),
        INIT,
        3,
        "{root}/pyproject.toml: tool.devbox.python-image: ['x'] is not an image reference; use a name like \"python:3.13-slim-trixie\" (lowercase, optional :tag, @sha256:...)",
    ),
    Case(
        "python-image-space",
        uv(),
        [*INIT, "--python-image", "python:3.13 AS x"],
        3,
        "{root}/pyproject.toml: tool.devbox.python-image: 'python:3.13 AS x' is not an image reference; use a name like \"python:3.13-slim-trixie\" (lowercase, optional :tag, @sha256:...)",
    ),
    Case(
        "uv-version-newline",
        uv('[tool.devbox]\nuv-version = "0.13.9\\nRUN id"\n'),
        INIT,
        3,
        "{root}/pyproject.toml: tool.devbox.uv-version: '0.13.9\\nRUN id' is not a uv version; use an exact release like \"0.13.9\"",
    ),
    Case(
        "uv-version-latest",
        uv("[tool.devbox]\nuv-version = 'latest'\n"),
        INIT,
        3,
        "{root}/pyproject.toml: tool.devbox.uv-version: 'latest' is not a uv version; use an exact release like \"0.13.9\"",
    ),
    Case(
        "command-nul",
        uv('[tool.devbox]\ncommand = ["shop", "a\\u0000b"]\n'),
        INIT,
        3,
        "{root}/pyproject.toml: tool.devbox.command: contains a NUL byte; remove it",
    ),
    Case(
        "dev-command-nul",
        uv('[tool.devbox]\ndev-command = "shop a\\u0000b"\n'),
        INIT,
        3,
        "{root}/pyproject.toml: tool.devbox.dev-command: contains a NUL byte; remove it",
    ),
    Case(
        "health-space",
        uv("[tool.devbox]\nhealth-path = '/a b'\n"),
        INIT,
        3,
        "{root}/pyproject.toml: tool.devbox.health-path: '/a b' is not a path; e.g. \"/health\"",
    ),
    Case(
        "workspace-member-missing",
        uv('[tool.uv.workspace]\nmembers = ["packages/api"]\n'),
        INIT,
        3,
        "{root}/pyproject.toml: tool.uv.workspace.members: packages/api does not exist; "
        "create it (`uv init packages/api`) or remove it from the list",
    ),
    Case(
        "virtual-root-member-missing",
        {"pyproject.toml": '[tool.uv.workspace]\nmembers = ["apps/web"]\n', "uv.lock": ""},
        INIT,
        3,
        "{root}/pyproject.toml: tool.uv.workspace.members: apps/web does not exist; "
        "create it (`uv init apps/web`) or remove it from the list",
    ),
    Case(
        "path-dependency-outside",
        uv('[tool.uv.sources]\nlib = { path = "../lib" }\n'),
        INIT,
        3,
        "{root}/pyproject.toml: tool.uv.sources.lib: ../lib is outside the project folder, so "
        "no image build can see it; move it into the project (e.g. packages/lib) or depend on "
        "a release",
    ),
    Case(
        "path-dependency-missing",
        uv('[tool.uv.sources]\nlib = { path = "libs/lib", editable = true }\n'),
        INIT,
        3,
        "{root}/pyproject.toml: tool.uv.sources.lib: libs/lib does not exist; fix the path",
    ),
    Case(
        "prod-sources-not-bool",
        uv("[tool.devbox]\nprod-sources = 1\n"),
        INIT,
        3,
        "{root}/pyproject.toml: tool.devbox.prod-sources: 1 is not true or false; use true",
    ),
    Case(
        "package-not-member",
        uv('[tool.devbox]\npackage = "api"\n'),
        INIT,
        3,
        "{root}/pyproject.toml: tool.devbox.package: api is not a workspace member; "
        "use one of the members you add",
    ),
    Case(
        "unlocked",
        {"pyproject.toml": PYPROJECT},
        INIT,
        3,
        "{root}/uv.lock: not found; run `uv lock` (or `devbox init --lock`): the Dockerfile installs exactly what the lock says",
    ),
    Case(
        "nothing",
        {},
        INIT,
        3,
        "{root}/pyproject.toml: not found, and no requirements.txt either; devbox works on uv projects (run `uv init` first)",
    ),
    Case(
        "requirements-no-command",
        {"requirements.txt": "bottle\n"},
        INIT,
        3,
        "{root}: a requirements.txt project has no console script; *",
    ),
    # --- compose files ---------------------------------------------------------------
    Case(
        "compose-list",
        compose("- a\n"),
        CHECK,
        3,
        "{root}/compose.yaml: (top level): must be a mapping; start it with `services:`",
    ),
    Case("compose-unclosed", compose("services: [\n"), CHECK, 3, "{root}/compose.yaml:2:1: *"),
    Case(
        "compose-tab",
        compose("services:\n\tapp: {}\n"),
        CHECK,
        3,
        "{root}/compose.yaml:2:1: found character '\\t' that cannot start any token; fix the YAML syntax",
    ),
    Case(
        "compose-not-utf8",
        compose(b"services:\n  \xff: {}\n"),
        CHECK,
        3,
        "{root}/compose.yaml: not UTF-8 text; save it as UTF-8",
    ),
    Case(
        "compose-folder",
        uv(),
        UP,
        3,
        "{root}/compose.yaml: is a folder, not a file; move it away",
        folders=["compose.yaml"],
    ),
    Case(
        "compose-services-list",
        compose("services: [a]\n"),
        UP,
        3,
        "{root}/compose.yaml: services: missing; define at least one service (run `devbox init`)",
    ),
    Case(
        "compose-service-scalar",
        compose("services:\n  app: 3\n"),
        UP,
        3,
        "{root}/compose.yaml: services.app: must be a mapping; indent its keys under it",
    ),
    Case(
        "compose-develop-list",
        compose("services:\n  app:\n    build: .\n    develop: [1]\n"),
        UP,
        3,
        "{root}/compose.yaml: services.app.develop: must be a mapping, got [1]; indent a `watch:` list under `develop:`",
    ),
    Case(
        "compose-ports-scalar",
        compose("services:\n  app:\n    ports: 8000\n"),
        STATUS,
        3,
        '{root}/compose.yaml: services.app.ports: must be a list, got 8000; e.g. `ports: ["8000:8000"]`',
    ),
    Case(
        "compose-command-int",
        compose("services:\n  app:\n    command: 5\n"),
        STATUS,
        3,
        '{root}/compose.yaml: services.app.command: must be a string or a list, got 5; e.g. `command: ["app", "--reload"]`',
    ),
    Case(
        "compose-env-scalar",
        compose("services:\n  app:\n    environment: 5\n"),
        STATUS,
        3,
        "{root}/compose.yaml: services.app.environment: must be a mapping or a list, got 5; e.g. `environment: {A: b}`",
    ),
    Case(
        "compose-build-int",
        compose("services:\n  app:\n    build: 5\n"),
        STATUS,
        3,
        "{root}/compose.yaml: services.app.build: must be a string or a mapping, got 5; e.g. `build: .`",
    ),
    Case(
        "compose-port-item",
        compose("services:\n  app:\n    ports: [[1]]\n"),
        STATUS,
        3,
        '{root}/compose.yaml: services.app.ports[0]: not a port; e.g. "8000:8000"',
    ),
    Case(
        "compose-no-watch",
        compose("services:\n  db:\n    image: pg\n"),
        UP,
        3,
        "{root}/compose.yaml: services.*.develop.watch: no service has watch rules; add a develop.watch section (devbox init writes one)",
    ),
    Case(
        "compose-two-watched",
        compose(WATCHED + WATCHED.replace("services:\n  app", "  web")),
        STATUS,
        2,
        "{root}/compose.yaml: several services have watch rules (app, web); name one as the SERVICE argument",
    ),
    Case(
        "compose-unknown-service",
        compose(WATCHED),
        ["up", "-C", "{root}", "nope"],
        3,
        "{root}/compose.yaml: services.nope: no such service; use one of: app",
    ),
    Case(
        "watch-not-list",
        compose("services:\n  app:\n    build: .\n    develop: {watch: 3}\n"),
        UP,
        3,
        "{root}/compose.yaml: services.app.develop.watch: must be a list of rules, got 3; start each rule with `- path:`",
    ),
    Case(
        "watch-no-action",
        compose("services:\n  app:\n    build: .\n    develop: {watch: [{path: .}]}\n"),
        UP,
        3,
        "{root}/compose.yaml: services.app.develop.watch[0].action: required; *",
    ),
    Case(
        "watch-bad-action",
        compose(
            "services:\n  app:\n    build: .\n    develop: {watch: [{path: ., action: copy}]}\n"
        ),
        UP,
        3,
        "{root}/compose.yaml: services.app.develop.watch[0].action: unknown action 'copy'; *",
    ),
    Case(
        "watch-no-target",
        compose(
            "services:\n  app:\n    build: .\n    develop: {watch: [{path: ., action: sync}]}\n"
        ),
        UP,
        3,
        "{root}/compose.yaml: services.app.develop.watch[0].target: required for action 'sync'; add the container path to copy into, e.g. target: /app",
    ),
    Case(
        "watch-bad-pattern",
        compose(
            "services:\n  app:\n    build: .\n    develop: {watch: [{path: ., action: rebuild, ignore: ['[']}]}\n"
        ),
        UP,
        3,
        "{root}/compose.yaml: services.app.develop.watch[0].ignore: invalid pattern '[': *",
    ),
    Case(
        "compose-file-env-missing",
        uv(),
        ["up", "-C", "{root}"],
        3,
        "{root}/other.yaml: not found (from COMPOSE_FILE); fix COMPOSE_FILE",
        env={"COMPOSE_FILE": "other.yaml"},
    ),
    Case(
        "compose-file-env-second",
        compose(WATCHED),
        ["up", "-C", "{root}"],
        3,
        "{root}/gone.yaml: not found (from COMPOSE_FILE); fix COMPOSE_FILE",
        env={"COMPOSE_FILE": "compose.yaml:gone.yaml"},
    ),
    Case(
        "compose-port-no-target",
        compose("services:\n  app:\n    ports: [{published: 80}]\n"),
        STATUS,
        3,
        '{root}/compose.yaml: services.app.ports[0]: not a port; e.g. "8000:8000"',
    ),
    Case(
        "compose-workdir-int",
        compose("services:\n  app:\n    working_dir: 5\n"),
        STATUS,
        3,
        "{root}/compose.yaml: services.app.working_dir: must be a string, got 5; e.g. `working_dir: /app`",
    ),
    Case(
        "compose-user-list",
        compose("services:\n  app:\n    user: [1]\n"),
        STATUS,
        3,
        '{root}/compose.yaml: services.app.user: must be a string or a number, got [1]; e.g. `user: "1000:1000"`',
    ),
    Case(
        "compose-duplicate-key",
        compose("services:\n  app:\n    image: a\n    image: b\n"),
        STATUS,
        3,
        "{root}/compose.yaml:4:5: duplicate key 'image' (Compose rejects it); keep one",
    ),
    Case(
        "develop-unknown-key",
        compose(
            "services:\n  app:\n    build: .\n"
            "    develop: {watch: [{path: ., action: rebuild}], watsh: []}\n"
        ),
        UP,
        3,
        "{root}/compose.yaml: services.app.develop.watsh: unknown key; use watch, or x-* for extensions",
    ),
    Case(
        "watch-path-parent",
        compose(
            "services:\n  app:\n    build: .\n    develop: {watch: [{path: .., action: sync, target: /app}]}\n"
        ),
        UP,
        3,
        "{root}/compose.yaml: services.app.develop.watch[0].path: '..' is outside the project folder; watch a path inside it, e.g. path: ./src (a sync would copy other folders' files)",
    ),
    Case(
        "watch-path-grandparent",
        compose(
            "services:\n  app:\n    build: .\n    develop: {watch: [{path: ../.., action: rebuild}]}\n"
        ),
        UP,
        3,
        "{root}/compose.yaml: services.app.develop.watch[0].path: '../..' is outside the project folder; watch a path inside it, e.g. path: ./src (a sync would copy other folders' files)",
    ),
    Case(
        "watch-path-nul",
        compose(
            'services:\n  app:\n    build: .\n    develop: {watch: [{path: "src\\0", action: rebuild}]}\n'
        ),
        UP,
        3,
        "{root}/compose.yaml: services.app.develop.watch[0].path: 'src\\x00' contains a NUL byte; remove it",
    ),
    Case(
        "watch-target-nul",
        compose(
            'services:\n  app:\n    build: .\n    develop: {watch: [{path: ., action: sync, target: "/app\\0"}]}\n'
        ),
        UP,
        3,
        "{root}/compose.yaml: services.app.develop.watch[0].target: '/app\\x00' contains a NUL byte; remove it",
    ),
    Case(
        "watch-exec-on-sync",
        compose(
            "services:\n  app:\n    build: .\n    develop: {watch: [{path: ., action: sync, target: /app, exec: {command: x}}]}\n"
        ),
        UP,
        3,
        "{root}/compose.yaml: services.app.develop.watch[0].exec: only used by action 'sync+exec', not 'sync'; remove exec",
    ),
    Case(
        "watch-initial-sync-string",
        compose(
            "services:\n  app:\n    build: .\n    develop: {watch: [{path: ., action: sync, target: /app, initial_sync: 'yes'}]}\n"
        ),
        UP,
        3,
        "{root}/compose.yaml: services.app.develop.watch[0].initial_sync: must be true or false, got 'yes'; write true or false, unquoted",
    ),
    Case(
        "check-nothing",
        {},
        CHECK,
        3,
        "{root}/pyproject.toml: not found, and no requirements.txt either; devbox works on uv projects (run `uv init` first)",
    ),
    Case(
        "down-no-compose",
        uv(),
        ["down", "-C", "{root}"],
        3,
        "{root}: no compose.yaml here or in a parent folder; run `devbox init` first",
    ),
    Case(
        "logs-no-compose",
        uv(),
        ["logs", "-C", "{root}"],
        3,
        "{root}: no compose.yaml here or in a parent folder; run `devbox init` first",
    ),
    Case(
        "shell-no-compose",
        uv(),
        ["shell", "-C", "{root}"],
        3,
        "{root}: no compose.yaml here or in a parent folder; run `devbox init` first",
    ),
    Case(
        "smoke-no-dockerfile",
        uv(),
        ["smoke", "-C", "{root}"],
        3,
        "{root}/Dockerfile: not found; run `devbox init` to write one with a `prod` target",
    ),
    # --- .dockerignore and Dockerfile ---------------------------------------------------
    Case(
        "dockerignore-folder",
        compose(WATCHED),
        CHECK,
        3,
        "{root}/.dockerignore: is a folder, not a file; move it away",
        folders=[".dockerignore"],
    ),
    Case(
        "dockerignore-not-utf8",
        compose(WATCHED, **{".dockerignore": b"\xff\n"}),
        CHECK,
        3,
        "{root}/.dockerignore: not UTF-8 text; save it as UTF-8",
    ),
    Case(
        "dockerignore-nul",
        compose(WATCHED, **{".dockerignore": b".venv\nsrc\x00x\n"}),
        CHECK,
        3,
        "{root}/.dockerignore: line 2: contains a NUL byte; remove it",
    ),
    Case(
        "dockerfile-folder",
        compose(WATCHED),
        CHECK,
        3,
        "{root}/Dockerfile: is a folder, not a file; move it away",
        folders=["Dockerfile"],
    ),
    Case(
        "dockerfile-not-utf8",
        compose(WATCHED, Dockerfile=b"FROM \xff\n"),
        CHECK,
        3,
        "{root}/Dockerfile: not UTF-8 text; save it as UTF-8",
    ),
    Case(
        "bak-exists",
        uv(Dockerfile="FROM mine\n", **{"Dockerfile.bak": "older\n"}),
        ["init", "--force", "-C", "{root}"],
        3,
        "{root}/Dockerfile.bak: already exists; move it away, then `devbox init --force` replaces Dockerfile",
    ),
    Case(
        "python-version-not-utf8",
        uv(**{".python-version": b"\xff"}),
        INIT,
        3,
        "{root}/.python-version: not UTF-8 text; save it as UTF-8",
    ),
    # --- CLI options -------------------------------------------------------------------
    Case(
        "opt-port-range",
        uv(),
        ["init", "--port", "70000", "-C", "{root}"],
        3,
        "{root}/pyproject.toml: tool.devbox.port: 70000 is not a port; use 1-65535",
    ),
    Case(
        "opt-digest",
        uv(),
        ["init", "--uv-digest", "abc", "-C", "{root}"],
        3,
        "{root}/pyproject.toml: tool.devbox.uv-digest: 'abc' is not a digest; use sha256:<64 hex>",
    ),
    Case(
        "opt-quiet-ms",
        compose(WATCHED),
        ["up", "--quiet-ms", "-5", "-C", "{root}"],
        2,
        "--quiet-ms must be between 0 and --max-wait-ms (at most 60000)",
    ),
    Case(
        "opt-max-wait-huge",
        compose(WATCHED),
        ["up", "--max-wait-ms", "99999999", "-C", "{root}"],
        2,
        "--quiet-ms must be between 0 and --max-wait-ms (at most 60000)",
    ),
    Case(
        "opt-quiet-over-max",
        compose(WATCHED),
        ["up", "--quiet-ms", "900", "-C", "{root}"],
        2,
        "--quiet-ms must be between 0 and --max-wait-ms (at most 60000)",
    ),
    # --- session state -----------------------------------------------------------------
    Case(
        "devbox-is-a-file",
        compose(WATCHED, **{".devbox": "mine"}),
        ["up", "--detach", "-C", "{root}"],
        3,
        "{root}/.devbox: cannot write devbox's session state there (File exists); make the project folder writable, or move away a file named .devbox",
    ),
]


# --- issue #23 -------------------------------------------------------------------------
SYSTEM_TARGET = (
    "{root}/compose.yaml: services.app.develop.watch[0].target: {target!r} is a system folder "
    "of the container (a sync would overwrite its files, and a deleted source would delete "
    "them); sync into the app's own folder, e.g. target: /app"
)


def target_case(name: str, target: str, action: str = "sync", argv: list[str] = UP) -> Case:
    text = (
        "services:\n  app:\n    build: .\n    develop: {watch: [{path: ., action: "
        + f"{action}, target: {target!r}}}]}}\n"
    )
    return Case(name, compose(text), argv, 3, SYSTEM_TARGET.replace("{target!r}", repr(target)))


CASES += [
    target_case("target-root", "/"),
    target_case("target-sbin", "/sbin"),
    target_case("target-usr-bin", "/usr/bin"),
    target_case("target-dot", "."),
    target_case("target-dotdot", "/app/.."),
    target_case("target-double-slash", "//"),
    target_case("target-etc", "/etc"),
    target_case("target-etc-slash", "/etc/"),
    target_case("target-usr", "/usr"),
    target_case("target-usr-local", "/usr/local"),
    target_case("target-bin-relative", "bin"),
    target_case("target-var-lib", "/var/lib"),
    target_case("target-root-home", "/root"),
    target_case("target-root-restart", "/", action="sync+restart"),
    target_case("target-proc", "/proc"),
]


# Files nested too deep for a recursive reader, aliases that loop or explode, keys that
# cannot be names: each is one line from every command that reads the compose file.
DEEP_LIST = "services:\n  app:\n    build: .\n    x: " + "[" * 5000 + "]" * 5000 + "\n"
DEEP_MAP = "services:\n  app:\n    build: .\n    x: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n"
DEEP_BLOCK = (
    "services:\n  app:\n    build: .\n"
    + "".join("  " * (i + 2) + f"k{i}:\n" for i in range(80))
    + "  " * 82
    + "v: 1\n"
)
ALIAS_LOOP = "services:\n  app: &a\n    build: .\n    x: [*a]\n"
LAUGHS = "services:\n  app:\n    build: .\nx0: &x0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
    f"x{i}: &x{i} [" + ", ".join([f"*x{i - 1}"] * 10) + "]\n" for i in range(1, 9)
)
LIST_KEY = "services:\n  app:\n    build: .\n    ? [a, b]\n    : 1\n"
MAP_KEY = "services:\n  app:\n    build: .\n    ? {a: b}\n    : 1\n"
TOO_DEEP = "{root}/compose.yaml: nested more than 64 levels deep (or an alias refers to itself); flatten it"
LAUGHED = "{root}/compose.yaml: more than 200000 values once its aliases are expanded; write it without repeated aliases"
KEY = "{root}/compose.yaml:4:7: a {kind} as a mapping key (Compose's keys are names); fix the YAML syntax"
READERS = {
    "status": STATUS,
    "up": UP,
    "init": INIT,
    "check": CHECK,
    "down": ["down", "-C", "{root}"],
    "logs": ["logs", "-C", "{root}"],
    "shell": ["shell", "-C", "{root}"],
}
SHAPES = [
    ("deep-list", DEEP_LIST, TOO_DEEP),
    ("deep-map", DEEP_MAP, TOO_DEEP),
    ("deep-block", DEEP_BLOCK, TOO_DEEP),
    ("alias-loop", ALIAS_LOOP, TOO_DEEP),
    ("alias-laughs", LAUGHS, LAUGHED),
    ("list-key", LIST_KEY, KEY.replace("{kind}", "list")),
    ("map-key", MAP_KEY, KEY.replace("{kind}", "mapping")),
]
CASES += [
    Case(f"compose-{shape}-{command}", compose(text), argv, 3, message)
    for shape, text, message in SHAPES
    for command, argv in READERS.items()
]

DEEP_TOML = "x = " + "[" * 5000 + "]" * 5000 + "\n"
NOT_A_PYTHON = (
    "{root}/.python-version: '3.111111111111111111' (5002 characters) is not a Python "
    "version; write one like 3.13 (`uv python pin 3.13`)"
)
CASES += [
    Case(
        f"toml-deep-{command}",
        uv(DEEP_TOML, **{"compose.yaml": WATCHED}),
        argv,
        3,
        "{root}/pyproject.toml: nested too deeply to read; flatten it",
    )
    for command, argv in (("init", INIT), ("check", CHECK))
] + [
    Case(
        "python-version-5000-digits",
        uv(**{".python-version": "3." + "1" * 5000 + "\n"}),
        INIT,
        3,
        NOT_A_PYTHON,
    ),
    Case(
        "python-version-long-minor",
        uv(**{".python-version": "3.123456\n"}),
        INIT,
        3,
        "{root}/.python-version: '3.123456' is not a Python version; write one like 3.13 "
        "(`uv python pin 3.13`)",
    ),
    Case(
        "python-version-long-major",
        uv(**{".python-version": "cpython-99999.1\n"}),
        CHECK,
        3,
        "{root}/.python-version: 'cpython-99999.1' is not a Python version; write one like "
        "3.13 (`uv python pin 3.13`)",
    ),
    Case(
        "state-json-is-a-folder",
        compose(WATCHED),
        ["up", "--detach", "-C", "{root}"],
        3,
        "{root}/.devbox/state.json: is not a file (devbox records the session there); move it away",
        folders=[".devbox", ".devbox/state.json"],
    ),
]


def build(root: Path, case: Case) -> Path:
    """The case's project tree under `root`."""
    project = root / "project"
    project.mkdir()
    for name in case.folders:
        (project / name).mkdir()
    for name, content in case.files.items():
        path = project / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return project
