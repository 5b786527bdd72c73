import io
import tarfile
from dataclasses import replace
from pathlib import Path

import yaml

from devbox.engine.container import (
    CACHE_KEY,
    ContainerSpec,
    compose_override,
    compose_without_develop,
    container_name,
    image_tag,
    one_off_args,
    run_args,
    uv_one_off_args,
)
from devbox.engine.resolve import ResolvedService
from devbox.project.compose import ComposeProject, Service
from devbox.sync.archive import make_tar


def test_run_args_mirror_the_service(tmp_path: Path) -> None:
    service = Service(
        name="web",
        context=tmp_path,
        ports=("127.0.0.1:8000:8000",),
        environment=(("A", "1"), ("FROM_HOST", None)),
        working_dir="/app",
        command=("app", "--reload"),
        user="1000",
    )
    project = ComposeProject(
        files=(tmp_path / "compose.yaml",),
        project_dir=tmp_path,
        name="shop",
        services={"web": service},
    )
    spec = ContainerSpec(
        name=container_name(project, service),
        image=image_tag(project, service),
        project="shop",
        service=service,
        bind=tmp_path,
    )
    assert run_args(spec) == [
        "--rm", "--name", "devbox-shop-web", "--label", "dev.devbox.project=shop",
        "--label", "dev.devbox.service=web", "--pull", "never",
        "--volume", f"{tmp_path}:/app", "--volume", "/app/.venv",
        "--publish", "127.0.0.1:8000:8000", "--env", "A=1", "--env", "FROM_HOST",
        "--workdir", "/app", "--user", "1000", "devbox-shop-web:dev", "app", "--reload",
    ]  # fmt: skip


def test_run_args_of_a_mapped_user_and_cache_volume(tmp_path: Path) -> None:
    """The owner's uid with a writable HOME and a label `devbox add` reads; the cache volume
    with UV_CACHE_DIR pointing at it; the service's environment comes after, so it wins."""
    service = Service(name="web", context=tmp_path, environment=(("HOME", "/srv"),))
    spec = ContainerSpec(
        name="n", image="i", project="p", service=service, bind=tmp_path,
        user="1000:1001", cache_volume="p_uv-cache",
    )  # fmt: skip
    args = run_args(spec)
    assert args[args.index("/app/.venv") + 1 :] == [
        "--volume", "p_uv-cache:/opt/uv-cache", "--env", "UV_CACHE_DIR=/opt/uv-cache",
        "--user", "1000:1001", "--env", "HOME=/home/devbox",
        "--tmpfs", "/home/devbox:mode=1777", "--label", "dev.devbox.user=1000:1001",
        "--env", "HOME=/srv", "i",
    ]  # fmt: skip
    resolved = ResolvedService(name="web", user=None, volumes=("x:/data",))
    with_compose = run_args(
        replace(spec, resolved=resolved, service=Service(name="web", context=None))
    )
    assert with_compose.count("--user") == 1
    assert with_compose[with_compose.index("--user") + 1] == "1000:1001"


def test_copy_sync_has_no_bind_mount(tmp_path: Path) -> None:
    service = Service(name="web", context=tmp_path)
    spec = ContainerSpec(name="n", image="i", project="p", service=service, bind=None)
    assert "--volume" in run_args(spec)  # the .venv volume only
    assert f"{tmp_path}:/app" not in run_args(spec)


def test_bind_masks_cover_secret_files_and_folders(tmp_path: Path) -> None:
    service = Service(name="web", context=tmp_path)
    spec = ContainerSpec(
        name="n",
        image="i",
        project="p",
        service=service,
        bind=tmp_path,
        masked_files=(".env", ".env.local"),
        masked_folders=(".git",),
    )
    args = run_args(spec)
    bind = args.index(f"{tmp_path}:/app")
    assert args[bind + 1 : bind + 8] == [
        "--volume", "/dev/null:/app/.env:ro",
        "--volume", "/dev/null:/app/.env.local:ro",
        "--tmpfs", "/app/.git:ro",
        "--volume",
    ]  # fmt: skip
    copy = ContainerSpec(
        name="n", image="i", project="p", service=service, bind=None, masked_files=(".env",)
    )
    assert "/dev/null:/app/.env:ro" not in run_args(copy)  # nothing to mask without a bind


def test_one_off_containers_are_masked_too(tmp_path: Path) -> None:
    service = Service(name="web", context=tmp_path)
    project = ComposeProject(
        files=(tmp_path / "compose.yaml",), project_dir=tmp_path, name="shop", services={}
    )
    args = one_off_args(
        name="n",
        project=project,
        service=service,
        image="i",
        masked_files=(".env",),
        masked_folders=(".git",),
    )
    bind = args.index(f"{tmp_path}:/app")
    assert args[bind + 1 : bind + 5] == [
        "--volume",
        "/dev/null:/app/.env:ro",
        "--tmpfs",
        "/app/.git:ro",
    ]


def test_uv_s_one_off_container_copies_rather_than_mounts(tmp_path: Path) -> None:
    """`devbox add` with nothing running: an idle container, uv's warm cache, no bind of
    the project (the files are copied in, so any engine serves)."""
    service = Service(name="web", context=tmp_path)
    project = ComposeProject(
        files=(tmp_path / "compose.yaml",), project_dir=tmp_path, name="shop", services={}
    )
    args = uv_one_off_args(name="n", project=project, service=service, image="shop-web")
    assert args[-3:] == ["sleep", "shop-web", "infinity"]
    assert args[args.index("--entrypoint") + 1] == "sleep"
    assert "shop_uv-cache:/opt/uv-cache" in args
    assert not any(str(tmp_path) in arg for arg in args)
    assert args[args.index("--user") + 1] == "0"


def test_compose_without_develop() -> None:
    text = "services:\n  web:\n    build: .\n    develop:\n      watch: []\n  db:\n    image: pg\n"
    model = yaml.safe_load(text)
    data = yaml.safe_load(compose_without_develop(model, images={"web": "devbox-p-web:dev"}))
    assert data == {
        "services": {"web": {"build": ".", "image": "devbox-p-web:dev"}, "db": {"image": "pg"}}
    }


def test_make_tar_filters_new_folders_and_keeps_links(tmp_path: Path) -> None:
    (tmp_path / "pkg" / "__pycache__").mkdir(parents=True)
    (tmp_path / "pkg" / "a.py").write_text("a")
    (tmp_path / "pkg" / "__pycache__" / "a.pyc").write_text("c")
    (tmp_path / "pkg" / "link").symlink_to("/etc/passwd")
    data = make_tar(
        {"/app/pkg": ("rule", tmp_path / "pkg")}, keep=lambda r, p: "__pycache__" not in p.parts
    )
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert sorted(members) == ["app/pkg", "app/pkg/a.py", "app/pkg/link"]
    assert members["app/pkg/link"].issym() and members["app/pkg/link"].linkname == "/etc/passwd"


def test_make_tar_skips_a_file_deleted_meanwhile(tmp_path: Path) -> None:
    data = make_tar({"/app/gone.py": ("rule", tmp_path / "gone.py")}, keep=lambda r, p: True)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        assert tar.getmembers() == []


def test_compose_override_gives_compose_what_docker_run_gets(tmp_path: Path) -> None:
    service = Service(name="web", context=tmp_path, environment=(("HOME", "/home/me"),))
    spec = ContainerSpec(
        name="shop-web-1",
        image="shop-web",
        project="shop",
        service=service,
        bind=tmp_path,
        masked_files=(".env",),
        masked_folders=("secrets",),
        user="1000:1000",
        cache_volume="devbox-uv-cache-shop",
    )
    data = yaml.safe_load(compose_override([spec]) or "")
    web = data["services"]["web"]
    assert web["volumes"] == [
        {"type": "bind", "source": str(tmp_path), "target": "/app"},
        {"type": "bind", "source": "/dev/null", "target": "/app/.env", "read_only": True},
        {"type": "tmpfs", "target": "/app/secrets", "read_only": True},
        {"type": "volume", "target": "/app/.venv"},
        {"type": "volume", "source": CACHE_KEY, "target": "/opt/uv-cache"},
    ]
    assert data["volumes"] == {CACHE_KEY: {"name": "devbox-uv-cache-shop", "external": True}}
    assert web["user"] == "1000:1000"
    assert web["environment"] == {"UV_CACHE_DIR": "/opt/uv-cache"}  # the service's HOME wins
    assert web["labels"] == {"dev.devbox.user": "1000:1000"}


def test_compose_override_is_none_when_compose_needs_nothing_more(tmp_path: Path) -> None:
    service = Service(name="web", context=tmp_path)
    copy = ContainerSpec(name="n", image="i", project="p", service=service, bind=None)
    assert compose_override([copy]) is None
