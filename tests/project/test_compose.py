"""Reading the compose file the fallback runs from (no engine)."""

from pathlib import Path

import pytest

from devbox.errors import DevboxError, ExitCode
from devbox.project.compose import (
    ComposeProject,
    env_pairs,
    load_compose,
    merge,
    project_name,
    watched_service,
)
from devbox.project.locate import locate


def load(folder: Path) -> ComposeProject:
    return load_compose(locate(folder))


COMPOSE = """\
name: My_Shop
services:
  web:
    build: {context: ., target: dev, dockerfile: Dockerfile.dev}
    ports: ["127.0.0.1:8000:8000", 9000, {target: 80, published: 8080, host_ip: 127.0.0.1}]
    environment: {DEBUG: true, TOKEN: null, N: 3}
    command: app --reload "two words"
    user: 1000
    develop: {watch: [{action: sync, path: ., target: /app}]}
  db:
    image: postgres:16
"""


def test_service_fields(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    project = load(tmp_path)
    assert project.name == "my_shop"
    web = project.services["web"]
    assert (web.context, web.target, web.dockerfile) == (tmp_path, "dev", "Dockerfile.dev")
    assert web.ports == ("127.0.0.1:8000:8000", "9000", "127.0.0.1:8080:80/tcp")
    assert web.environment == (("DEBUG", "true"), ("TOKEN", None), ("N", "3"))
    assert web.command == ("app", "--reload", "two words")
    assert web.user == "1000"
    assert watched_service(project, None) is web
    assert project.services["db"].context is None


def test_env_pairs_list_form() -> None:
    assert env_pairs(["A=1", "B", "C=x=y"]) == (("A", "1"), ("B", None), ("C", "x=y"))


def test_found_from_a_subfolder(tmp_path: Path) -> None:
    (tmp_path / "docker-compose.yml").write_text("services: {}\n")
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    assert locate(tmp_path / "src" / "pkg").compose_files == (tmp_path / "docker-compose.yml",)


def test_compose_project_name_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    monkeypatch.setenv("COMPOSE_PROJECT_NAME", "Other.Name")
    assert load(tmp_path).name == "othername"
    assert project_name("Hello World_1-x") == "helloworld_1-x"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("services: []\n", "services: missing; define at least one service (run `devbox init`)"),
        ("services:\n  web: 3\n", "services.web: must be a mapping; indent its keys under it"),
        (
            "services:\n  web:\n    ports: [[1]]\n",
            'services.web.ports[0]: not a port; e.g. "8000:8000"',
        ),
        (
            "services:\n  web:\n    command: 'say \"hi'\n",
            "services.web.command: No closing quotation; close the quote, or use a list",
        ),
    ],
)
def test_invalid(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "compose.yaml").write_text(text)
    with pytest.raises(DevboxError) as caught:
        load(tmp_path)
    assert caught.value.code is ExitCode.CONFIG
    assert caught.value.message == f"{tmp_path / 'compose.yaml'}: {message}"


def test_no_watched_service(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  db:\n    image: pg\n")
    with pytest.raises(DevboxError) as caught:
        watched_service(load(tmp_path), None)
    assert caught.value.message.endswith(
        "services.*.develop.watch: no service has watch rules; "
        "add a develop.watch section (devbox init writes one)"
    )


@pytest.mark.parametrize(
    ("base", "override", "merged"),
    [
        # mappings merge key by key; scalars and unknown lists are replaced
        (
            {"image": "a", "command": ["x", "y"], "user": "1"},
            {"image": "b", "command": ["z"]},
            {"image": "b", "command": ["z"], "user": "1"},
        ),
        # ports, volumes, ... are appended, without duplicates
        (
            {"ports": ["8000:8000", "9000"]},
            {"ports": ["9000", "9229:9229"]},
            {"ports": ["8000:8000", "9000", "9229:9229"]},
        ),
        # environment and labels merge by name, whichever form each file used
        (
            {"environment": ["A=1", "B=2", "C"]},
            {"environment": {"B": "3", "D": None}},
            {"environment": {"A": "1", "B": "3", "C": None, "D": None}},
        ),
        (
            {"labels": {"x": "1"}},
            {"labels": ["y=2"]},
            {"labels": {"x": "1", "y": "2"}},
        ),
        # nested: build args merge, the target is replaced
        (
            {"build": {"context": ".", "args": {"A": "1"}}},
            {"build": {"target": "dev", "args": ["B=2"]}},
            {"build": {"context": ".", "target": "dev", "args": {"A": "1", "B": "2"}}},
        ),
        # a short `build: ./app` is a context
        (
            {"build": "./app"},
            {"build": {"target": "dev"}},
            {"build": {"context": "./app", "target": "dev"}},
        ),
        ({"build": "."}, {"build": "./app"}, {"build": {"context": "./app"}}),
    ],
)
def test_merge(base: dict[str, object], override: dict[str, object], merged: object) -> None:
    assert merge({"services": {"web": base}}, {"services": {"web": override}}) == {
        "services": {"web": merged}
    }


def test_merge_adds_services_and_keeps_the_base() -> None:
    base = {"name": "shop", "services": {"web": {"image": "a"}}}
    override = {"services": {"db": {"image": "pg"}}, "volumes": {"data": {}}}
    assert merge(base, override) == {
        "name": "shop",
        "services": {"web": {"image": "a"}, "db": {"image": "pg"}},
        "volumes": {"data": {}},
    }
    assert base == {"name": "shop", "services": {"web": {"image": "a"}}}  # not changed in place


def test_override_file_is_merged(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    (tmp_path / "compose.override.yaml").write_text(
        "services:\n  web:\n    environment: [FROM_OVERRIDE=yes]\n    ports: ['9229:9229']\n"
        "  worker:\n    build: ./worker\n"
    )
    project = load(tmp_path)
    assert project.files == (tmp_path / "compose.yaml", tmp_path / "compose.override.yaml")
    web = project.services["web"]
    assert ("FROM_OVERRIDE", "yes") in web.environment and ("N", "3") in web.environment
    assert web.ports[-1] == "9229:9229"
    assert project.services["worker"].context == tmp_path / "worker"


def test_override_file_errors_name_it(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    (tmp_path / "compose.override.yaml").write_text("- just a list\n")
    with pytest.raises(DevboxError) as caught:
        load(tmp_path)
    assert caught.value.message == (
        f"{tmp_path / 'compose.override.yaml'}: (top level): must be a mapping; "
        "start it with `services:`"
    )


def test_double_dollars_are_one_dollar_as_compose_reads_them(tmp_path: Path) -> None:
    """Compose turns `$$` into `$`; devbox read `$$(id -u)` literally where it reads the
    file itself (the fallback without Compose, watch rules in every mode)."""
    (tmp_path / "compose.yaml").write_text(
        "services:\n  app:\n    build: .\n"
        '    command: sh -c "echo $$(id -u) $$$$"\n'
        "    environment: {PRICE: $$5, LIST: [a]}\n"
        "    working_dir: /srv/$$x\n"
        "    develop:\n      watch:\n"
        "        - {action: sync+exec, path: ., target: /app, exec: {command: 'echo $$HOME'}}\n"
    )
    project = load(tmp_path)
    app = project.services["app"]
    assert app.command == ("sh", "-c", "echo $(id -u) $$")
    assert app.environment[0] == ("PRICE", "$5")
    assert app.working_dir == "/srv/$x"
    assert app.develop["watch"][0]["exec"]["command"] == "echo $HOME"
    # What Compose itself is handed keeps `$$`: it unescapes them in turn.
    assert project.data["services"]["app"]["command"] == 'sh -c "echo $$(id -u) $$$$"'


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("x: " + "[" * 5000 + "]" * 5000, "nested more than 64 levels deep"),
        ("a: &a [*a]", "nested more than 64 levels deep"),
        ("? [a]\n: 1", "a list as a mapping key"),
        ("? {a: 1}\n: 1", "a mapping as a mapping key"),
        (
            "x0: &x0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n"
            + "".join(
                f"x{i}: &x{i} [" + ", ".join([f"*x{i - 1}"] * 10) + "]\n" for i in range(1, 7)
            ),
            "more than 200000 values",
        ),
    ],
)
def test_shapes_no_reader_can_take_are_one_line(tmp_path: Path, text: str, problem: str) -> None:
    from devbox.project.compose import read_yaml

    with pytest.raises(DevboxError) as caught:
        read_yaml(tmp_path / "compose.yaml", text)
    assert problem in caught.value.message and "\n" not in caught.value.message


def tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_included_services_are_read_with_their_own_folder(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            "compose.yaml": "include:\n  - sub/compose.yaml\nservices:\n  db:\n    image: pg\n",
            "sub/compose.yaml": (
                "services:\n  api:\n    build: ./app\n    develop:\n      watch:\n"
                "        - {action: sync, path: ./app, target: /app}\n"
            ),
        },
    )
    project = load(tmp_path)
    assert set(project.services) == {"db", "api"}
    api = project.services["api"]
    assert api.context == tmp_path / "sub" / "app"
    assert api.develop["watch"][0]["path"] == str(tmp_path / "sub" / "app")
    assert watched_service(project, None).name == "api"


def test_extends_merges_the_base_under_the_service(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            "compose.yaml": (
                "services:\n  web:\n    extends: {file: base/common.yaml, service: common}\n"
                "    build: {target: dev}\n    develop:\n      watch:\n"
                "        - {action: sync, path: ./web, target: /web}\n"
            ),
            "base/common.yaml": (
                "services:\n  common:\n    build: .\n    ports: ['8000:8000']\n    develop:\n"
                "      watch:\n        - {action: sync, path: ./src, target: /src}\n"
            ),
        },
    )
    web = load(tmp_path).services["web"]
    assert (web.context, web.target, web.ports) == (tmp_path / "base", "dev", ("8000:8000",))
    assert [r["path"] for r in web.develop["watch"]] == [str(tmp_path / "base" / "src"), "./web"]


def test_an_override_appends_watch_rules_as_compose_does(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            "compose.yaml": "services:\n  web:\n    build: .\n    develop:\n      watch:\n"
            "        - {action: sync, path: ./src, target: /src}\n",
            "compose.override.yaml": "services:\n  web:\n    develop:\n      watch:\n"
            "        - {action: rebuild, path: ./uv.lock}\n",
        },
    )
    assert [r["action"] for r in load(tmp_path).services["web"].develop["watch"]] == [
        "sync",
        "rebuild",
    ]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"compose.yaml": "include:\n  - nope.yaml\nservices: {}\n"},
            "compose.yaml: include[0]: {root}/nope.yaml not found (or not a mapping); fix the path",
        ),
        (
            {"compose.yaml": "services:\n  web:\n    extends: {service: web}\n"},
            "compose.yaml: services.web.extends: extends itself (a loop); break the loop",
        ),
        (
            {"compose.yaml": "services:\n  web:\n    extends: {service: base}\n"},
            "compose.yaml: services.web.extends.service: no service 'base' in compose.yaml; "
            "name one it defines",
        ),
        (
            {
                "compose.yaml": "include: [sub.yaml]\nservices:\n  web:\n    image: x\n",
                "sub.yaml": "services:\n  web:\n    image: y\n",
            },
            "compose.yaml: services.web: is also defined by the included sub.yaml; "
            "define it in one file only",
        ),
    ],
)
def test_a_bad_include_or_extends_is_one_line(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    tree(tmp_path, files)
    with pytest.raises(DevboxError) as caught:
        load(tmp_path)
    assert caught.value.code is ExitCode.CONFIG
    assert caught.value.message == f"{tmp_path}/" + message.format(root=tmp_path)


def test_merge_keys_share_an_x_block_and_own_keys_win(tmp_path: Path) -> None:
    """`<<: *base` (an `x-` block several services share, as in cookiecutter-django) is
    read as Compose reads it, not as a repeated key; a real repeat is still refused."""
    (tmp_path / "compose.yaml").write_text(
        "x-base: &base\n"
        "  image: python:3.13-slim-trixie\n"
        "  environment: {PORT: '1'}\n"
        "services:\n"
        "  db:\n"
        "    <<: *base\n"
        "    environment: {PORT: '5432'}\n"
        "  cache:\n"
        "    <<: [*base]\n"
        "    command: serve\n"
    )
    project = load(tmp_path)
    db, cache = project.services["db"], project.services["cache"]
    assert (db.image, db.environment) == ("python:3.13-slim-trixie", (("PORT", "5432"),))
    assert (cache.image, cache.command) == ("python:3.13-slim-trixie", ("serve",))
    (tmp_path / "compose.yaml").write_text(
        "services:\n  db:\n    <<: {image: a}\n    image: b\n    image: c\n"
    )
    with pytest.raises(DevboxError, match="duplicate key 'image'"):
        load(tmp_path)


def test_an_included_files_env_file_and_bind_sources_are_read_from_its_folder(
    tmp_path: Path,
) -> None:
    """As Compose resolves them: `./app.env` and `./data` of sub/compose.yaml are sub's;
    a named volume, an absolute path and a remote build context stay as they are."""
    from devbox.project.compose import expanded_file

    (tmp_path / "compose.yaml").write_text("include:\n  - sub/compose.yaml\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "compose.yaml").write_text(
        "services:\n  app:\n    build: https://example.com/repo.git\n"
        "    env_file: [./app.env, {path: ./more.env, required: false}]\n"
        "    volumes: [./data:/data, cache:/cache, /abs:/abs, {type: bind, source: ./x, target: /x}]\n"
    )
    app = expanded_file(tmp_path / "compose.yaml", tmp_path)["services"]["app"]
    sub = tmp_path / "sub"
    assert app["build"] == "https://example.com/repo.git"
    assert app["env_file"] == [
        str(sub / "app.env"),
        {"path": str(sub / "more.env"), "required": False},
    ]
    assert app["volumes"][:3] == [f"{sub / 'data'}:/data", "cache:/cache", "/abs:/abs"]
    assert app["volumes"][3]["source"] == str(sub / "x")
