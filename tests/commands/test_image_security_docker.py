"""Looking inside what devbox builds (real engine): the prod image holds none of the
host's secrets or its `.venv`, runs as non-root, and pins uv; a project folder full of
spaces and shell metacharacters works for init and smoke."""

import json
import os
import re
import shutil
import subprocess
import tarfile
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from devbox import defaults
from devbox.cli import app
from devbox.commands.init import init_project

pytestmark = pytest.mark.docker

runner = CliRunner()


def layer_files(image: str, folder: Path) -> dict[str, bytes]:
    """Every regular file of every layer of `image` (path -> content), from `docker image save`."""
    archive = folder / "image.tar"
    subprocess.run(["docker", "image", "save", "-o", str(archive), image], check=True)
    files: dict[str, bytes] = {}
    with tarfile.open(archive) as saved:
        [manifest] = json.load(saved.extractfile("manifest.json"))  # type: ignore[arg-type]
        assert manifest["Layers"]
        for layer_path in manifest["Layers"]:
            layer = saved.extractfile(layer_path)
            assert layer is not None
            with tarfile.open(fileobj=layer, mode="r:*") as members:
                for member in members:
                    name = member.name.removeprefix("./")
                    data = members.extractfile(member) if member.isfile() else None
                    files[name] = data.read() if data is not None else b""
    return files


def test_prod_image_holds_no_host_secrets_and_runs_as_non_root(
    sample_copy: Path, tmp_path: Path
) -> None:
    # A folder name a shell would mangle; the service name stays valid Compose.
    project = tmp_path / f"my proj $(x);& 'q' `id` {uuid.uuid4().hex[:6]}"
    shutil.move(sample_copy, project)
    token = f"planted-{uuid.uuid4().hex}"
    (project / ".env").write_text(f"TOKEN={token}\n")
    (project / ".git").mkdir()
    (project / ".git" / "config").write_text(f"[remote]\n  url = https://{token}@host\n")
    (project / ".venv" / "lib").mkdir(parents=True)
    (project / ".venv" / "lib" / "host-marker.py").write_text(f"T = '{token}'\n")

    result = runner.invoke(app, ["init", "-C", str(project), "--service", "my-proj"])
    assert result.exit_code == 0, result.output
    assert "services:\n  my-proj:\n" in (project / "compose.yaml").read_text()
    dockerfile = (project / "Dockerfile").read_text()
    uv_images = re.findall(r"--from=(ghcr\.io/astral-sh/uv\S*)", dockerfile)
    assert uv_images == [f"ghcr.io/astral-sh/uv:{defaults.UV_VERSION}"] * 2  # exact version

    result = runner.invoke(app, ["smoke", "-C", str(project), "--json"])
    assert result.exit_code == 0, result.output
    prod = json.loads(result.stdout)["image"]
    dev = f"devbox-test-dev-{uuid.uuid4().hex[:8]}:dev"  # dev copies the whole context
    try:
        user = subprocess.run(
            ["docker", "image", "inspect", "--format", "{{json .Config.User}}", prod],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        assert json.loads(user) not in ("", "root", "0", "0:0", "root:root")
        prod_files = layer_files(prod, tmp_path)
        subprocess.run(
            ["docker", "build", "--quiet", "--target", "dev", "-t", dev, str(project)],
            env={**os.environ, "DOCKER_BUILDKIT": "1"}, capture_output=True, check=True,
        )  # fmt: skip
        dev_files = layer_files(dev, tmp_path)
    finally:
        subprocess.run(["docker", "image", "rm", "-f", prod, dev], capture_output=True, check=False)
    site = "app/.venv/lib/python3.13/site-packages"
    assert f"{site}/sample_app/app.py" in prod_files  # the project, installed non-editable,
    assert not [n for n in prod_files if n.startswith("app/") and n.split("/")[1] != ".venv"]
    assert "app/src/sample_app/app.py" in dev_files  # dev holds the sources
    for files in (prod_files, dev_files):
        assert "app/.venv/bin/python" in files  # the image's own environment...
        assert "app/.venv/lib/host-marker.py" not in files  # ...never the host's
        assert not [n for n in files if n in ("app/.env", "app/.git") or n.startswith("app/.git/")]
        assert not [name for name, data in files.items() if token.encode() in data]
    assert (project / ".env").read_text() == f"TOKEN={token}\n"  # the host's files stay


def test_the_uv_digest_pins_the_image(sample_copy: Path) -> None:
    digest = "sha256:" + "0" * 64
    init_project(project_dir=sample_copy, overrides={"uv-digest": digest})
    dockerfile = (sample_copy / "Dockerfile").read_text()
    pinned = f"ghcr.io/astral-sh/uv:{defaults.UV_VERSION}@{digest}"
    assert re.findall(r"--from=(ghcr\.io/astral-sh/uv\S*)", dockerfile) == [pinned] * 2
