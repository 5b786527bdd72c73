import tomllib

import pytest

from devbox.errors import DevboxError
from devbox.project.choices import chosen_keys
from devbox.project.merge import add_ignores, add_secret_block, add_watch, record_settings
from devbox.project.secrets import BLOCK_HEADER, block_patterns

WATCH = [{"action": "sync", "path": ".", "target": "/app"}]


def test_add_watch_picks_the_only_built_service() -> None:
    text = "services:\n  api:\n    build: .\n  db:\n    image: pg\n"
    merged = add_watch(text, file="compose.yaml", service="nope", watch=WATCH)
    assert merged is not None and merged[1] == "api"
    assert merged[0].startswith(text.split("  db:")[0])


def test_add_watch_keeps_existing_rules() -> None:
    text = "services:\n  app:\n    build: .\n    develop:\n      watch:\n        - {action: rebuild, path: x}\n"
    assert add_watch(text, file="compose.yaml", service="app", watch=WATCH) is None


def test_add_watch_picks_the_service_that_builds_the_project() -> None:
    text = "services:\n  web:\n    build: .\n  worker:\n    build: ./worker\n"
    merged = add_watch(text, file="compose.yaml", service="shop", watch=WATCH)
    assert merged is not None and merged.service == "web"


def test_add_watch_asks_to_choose_when_no_service_builds_the_project() -> None:
    text = "services:\n  a:\n    build: ./a\n  b:\n    build: {context: ./b}\n"
    with pytest.raises(DevboxError) as caught:
        add_watch(text, file="compose.yaml", service="app", watch=WATCH)
    assert caught.value.message == (
        "compose.yaml: services: no service named 'app', and none of the 2 services with "
        "`build:` builds this folder; name the one to develop with --service"
    )


def test_add_watch_asks_to_choose_when_several_build_the_project() -> None:
    text = "services:\n  a:\n    build: .\n  b:\n    build: {context: ./, dockerfile: B}\n"
    with pytest.raises(DevboxError) as caught:
        add_watch(text, file="compose.yaml", service="app", watch=WATCH)
    assert caught.value.message == (
        "compose.yaml: services: no service named 'app', and 2 of the 2 services with "
        "`build:` build this folder (a, b); name the one to develop with --service"
    )


def test_add_watch_picks_the_one_that_publishes_ports_of_those_that_build_the_project() -> None:
    """A web app and its workers from one image (Django and Celery): the web app is the
    one that publishes a port; two that publish still ask."""
    text = (
        "services:\n  web:\n    build: .\n    ports: ['8000:8000']\n"
        "  worker:\n    build: .\n    command: celery worker\n"
    )
    merged = add_watch(text, file="compose.yaml", service="shop", watch=WATCH)
    assert merged is not None and merged.service == "web"
    both = text + "    ports: ['5555:5555']\n"
    with pytest.raises(DevboxError, match=r"build this folder \(web, worker\)"):
        add_watch(both, file="compose.yaml", service="shop", watch=WATCH)


def test_add_watch_needs_a_built_service() -> None:
    with pytest.raises(DevboxError) as caught:
        add_watch("services:\n  db:\n    image: pg\n", file="c.yaml", service="app", watch=WATCH)
    assert caught.value.message == (
        "c.yaml: services: no service named 'app' and none with `build:`; "
        "add `build: .` to the service to develop, or name it with --service"
    )


def test_add_watch_builds_project_is_asked_about_each_context() -> None:
    text = "services:\n  a:\n    build: ./a\n  b:\n    build: ./b\n"
    merged = add_watch(
        text, file="compose.yaml", service="x", watch=WATCH, builds_project=lambda c: c == "./b"
    )
    assert merged is not None and merged.service == "b"


def dev_stage(context: str, dockerfile: str) -> bool:
    return (context, dockerfile) in {(".", "Dockerfile"), ("./", "Dockerfile.dev")}


@pytest.mark.parametrize(
    ("build", "after"),
    [
        ("build: .  # mine\n", "build:\n      context: .\n      target: dev # mine\n"),
        ("build: '.'\n", "build:\n      context: '.'\n      target: dev\n"),
        (
            "build: {context: ./, dockerfile: Dockerfile.dev}\n",
            "build: {context: ./, dockerfile: Dockerfile.dev, target: dev}\n",
        ),
        (
            "build:\n      context: .  # c\n",
            "build:\n      context: .  # c\n      target: dev\n",
        ),
    ],
)
def test_add_watch_sets_the_dev_target(build: str, after: str) -> None:
    head = "# top\nservices:\n  web:\n    image: shop\n    "
    tail = "    ports: ['8000:8000']  # keep\n"
    merged = add_watch(
        head + build + tail, file="c", service="web", watch=WATCH, has_dev_stage=dev_stage
    )
    assert merged is not None and merged.added_target
    assert merged.text == (
        head + after + tail + "    develop:\n      watch:\n        - action: sync\n"
        "          path: .\n          target: /app\n"
    )


@pytest.mark.parametrize(
    "build",
    [
        "build: .\n    ",  # the Dockerfile has no dev stage
        "build: {context: ., dockerfile: Other}\n    ",
        "build: {context: ., target: prod}\n    ",  # the user's choice: init --check reports it
        "",
    ],
)
def test_add_watch_leaves_the_target(build: str) -> None:
    text = f"services:\n  web:\n    {build}image: x\n"
    has_dev = (lambda c, d: False) if build.startswith("build: .") else dev_stage
    merged = add_watch(text, file="c", service="web", watch=WATCH, has_dev_stage=has_dev)
    assert merged is not None and not merged.added_target
    assert merged.text.startswith(text)


@pytest.mark.parametrize(
    ("before", "after", "added"),
    [
        ("", ".venv\n.devbox\n", [".venv", ".devbox"]),
        (".venv/\n", ".venv/\n.devbox\n", [".devbox"]),
        ("**/.venv\n.devbox", "**/.venv\n.devbox", []),
        ("# keep\n*.log", "# keep\n*.log\n.venv\n.devbox\n", [".venv", ".devbox"]),
    ],
)
def test_add_ignores(before: str, after: str, added: list[str]) -> None:
    assert add_ignores(before, [".venv", ".devbox"]) == (after, added)


def test_record_settings_appends_a_table() -> None:
    text = '[project]\nname = "x"'
    new, added, removed = record_settings(text, {"port": 8000, "command": ["x", "--y"]})
    assert (added, removed) == (["port", "command"], [])
    assert new.startswith(text + "\n")
    assert tomllib.loads(new)["tool"]["devbox"] == {"port": 8000, "command": ["x", "--y"]}
    assert chosen_keys(new) == {"port", "command"}  # marked as init's own


def test_record_settings_adds_only_missing_keys() -> None:
    text = "[tool.devbox]  # mine\nport = 9000\n\n[tool.other]\na = 1\n"
    new, added, _ = record_settings(text, {"port": 8000, "service": "web"})
    assert added == ["service"]
    assert new == (
        '[tool.devbox]  # mine\nport = 9000\nservice = "web"  # by devbox init [bde148]\n'
        "\n[tool.other]\na = 1\n"
    )


def test_init_s_own_choices_are_made_again_and_the_user_s_kept() -> None:
    first = record_settings(
        '[project]\nname = "x"\n', {"port": 8000, "command": ["a"], "smoke": ["t"]}
    )
    edited = first.text.replace("8000", "9000")  # the user edits a value, mark and all
    again = record_settings(edited, {"port": 8000, "command": ["b"]})
    assert (again.written, again.removed) == (["command"], ["smoke"])
    table = tomllib.loads(again.text)["tool"]["devbox"]
    assert table == {"port": 9000, "command": ["b"]}
    assert chosen_keys(again.text) == {"command"}


def test_options_passed_to_init_always_win_and_become_the_user_s() -> None:
    text = '[tool.devbox]\ncommand = ["mine"]\npython-image = "python:3.12"  # why\n'
    values = {"command": ["flag"], "python-image": "python:3.11-slim", "port": 8000}
    new, written, _ = record_settings(text, values, flags={"command", "python-image"})
    assert written == ["command", "python-image", "port"]
    assert tomllib.loads(new)["tool"]["devbox"] == values
    assert chosen_keys(new) == {"port"}
    assert "# why" in new  # comments stay
    # the next init, without the options, keeps them
    assert record_settings(new, {**values, "command": ["other"]}).written == []
    # an option over a value init chose: its mark goes, the other value or the same
    for flagged in (["flag"], ["a"]):
        chosen = record_settings("", {"command": ["a"]}).text
        assert chosen_keys(chosen) == {"command"}
        over = record_settings(chosen, {"command": flagged}, flags={"command"}).text
        assert chosen_keys(over) == set() and "# by devbox init" not in over


@pytest.mark.parametrize(
    "text",
    [
        '[project]\nname = "x"\n[tool.devbox]',  # header on the last line, no newline
        '[project]\r\nname = "x"\r\n\r\n[tool.devbox]\r\nport = 1\r\n',  # CRLF
        '[project]\nname = "x"\n[tool]\ndevbox = { port = 1 }\n',  # inline table
        '[project]\nname = "x"\n[tool]\ndevbox.port = 1\n',  # dotted keys
    ],
)
def test_record_settings_never_breaks_the_file(text: str) -> None:
    new, added, _ = record_settings(text, {"port": 8000, "service": "web"})
    parsed = tomllib.loads(new)  # always valid TOML
    assert parsed["project"]["name"] == "x"
    if added:
        assert parsed["tool"]["devbox"]["service"] == "web"
    else:
        assert new == text  # left alone when it cannot be done cleanly
    if "\r\n" in text:
        assert added == ["service"] and "\n" not in new.replace("\r\n", "")


def test_add_ignores_judges_as_a_build_does() -> None:
    # for Compose watch a line `.` covers everything; a build copies everything past it
    assert add_ignores(".\n", [".venv", ".devbox"]) == (".\n.venv\n.devbox\n", [".venv", ".devbox"])
    assert add_ignores("x\r\n", [".venv"]) == ("x\r\n.venv\r\n", [".venv"])  # its line endings


def test_add_secret_block_appends_only_what_a_build_would_still_copy() -> None:
    mine = "**/.env\n**/.env.*\n**/*.pem\n!certs/public.pem\n"
    new, added = add_secret_block(mine)
    assert new.startswith(mine + "\n".join(BLOCK_HEADER) + "\n")
    assert "**/.env\n" not in new[len(mine) :] and "**/*.pem" not in added
    assert "!**/.env.example" not in new  # `**/.env.*` was the user's: examples stay theirs
    assert "**/.envrc" in added and "**/secrets" in added
    assert add_secret_block(new) == (new, [])  # nothing left to add
    # a user who keeps an example out keeps it out
    new, _ = add_secret_block(".env.example\r\n")
    assert "\r\n!**/.env.sample\r\n" in new and "!**/.env.example" not in new


def test_add_secret_block_to_an_allow_list() -> None:
    new, added = add_secret_block("*\n!src\n")
    assert added == [p for p in block_patterns() if not p.startswith("!")]
    # the allow-list keeps `.env.example` out already: no `!` line lets it back in
    assert new == "*\n!src\n" + "\n".join([*BLOCK_HEADER, *added]) + "\n"


def test_record_settings_keeps_a_bom() -> None:
    new, added, _ = record_settings('\ufeff[project]\nname = "x"\n', {"port": 8000})
    assert added == ["port"] and new.startswith('\ufeff[project]\nname = "x"\n')
    assert new.count("\ufeff") == 1 and "port = 8000" in new


def test_add_watch_shields_the_venv_of_services_that_mount_the_project_over_app() -> None:
    """`.:/app` (Django and Celery setups) hides the image's /app/.venv: every service built
    from the project that mounts it gets `/app/.venv`, once; other mounts are left alone."""
    text = (
        "services:\n"
        "  web:\n    build: .\n    ports: ['8000:8000']\n    volumes:\n      - .:/app\n"
        "  worker:\n    build: .\n    volumes:\n      - ./:/app:z\n"
        "  beat:\n    build: .\n    volumes:\n      - .:/app\n      - /app/.venv\n"
        "  docs:\n    build: .\n    volumes:\n      - ./docs:/app/docs\n"
        "  long:\n    build: .\n    volumes:\n      - {type: bind, source: ., target: /app/}\n"
        "  other:\n    build: ./other\n    volumes:\n      - .:/app\n"
    )
    merged = add_watch(text, file="compose.yaml", service="shop", watch=WATCH)
    assert merged is not None and merged.shielded == ("web", "worker", "long")
    import yaml

    services = yaml.safe_load(merged.text)["services"]
    assert services["worker"]["volumes"] == ["./:/app:z", "/app/.venv"]
    assert services["beat"]["volumes"] == [".:/app", "/app/.venv"]
    assert services["docs"]["volumes"] == ["./docs:/app/docs"]
    assert services["other"]["volumes"] == [".:/app"]
    assert "&id" not in merged.text


def test_add_watch_gives_a_service_its_own_copy_of_shared_volumes() -> None:
    text = (
        "x-app: &app\n  build: .\n  volumes: &vols\n    - .:/app\n"
        "services:\n  web:\n    <<: *app\n    ports: ['8000:8000']\n  worker:\n    <<: *app\n"
    )
    merged = add_watch(text, file="compose.yaml", service="shop", watch=WATCH)
    assert merged is not None and merged.shielded == ("web", "worker")
    import yaml

    data = yaml.safe_load(merged.text)
    assert data["x-app"]["volumes"] == [".:/app"]
    assert data["services"]["worker"]["volumes"] == [".:/app", "/app/.venv"]
