from pathlib import Path

from devbox.engine.applied import Runner
from devbox.project.compose import load_compose
from devbox.project.locate import locate
from devbox.sync.run_loop import unapplied_settings


def test_uv_cache_volume_is_not_named_as_unapplied(tmp_path: Path) -> None:
    """The fallback mounts uv's cache itself; any other volume is said to be left out."""
    (tmp_path / "compose.yaml").write_text(
        "services:\n"
        "  app: {build: ., volumes: [uv-cache:/opt/uv-cache]}\n"
        "  web: {build: ., volumes: [uv-cache:/opt/uv-cache, data:/data]}\n"
    )
    project = load_compose(locate(tmp_path))
    assert unapplied_settings(project, ["app"], Runner.BARE) == (
        "not applied in fallback without Compose: services web (not started)"
    )
    assert unapplied_settings(project, ["web"], Runner.BARE) == (
        "not applied in fallback without Compose: services.web.volumes (uv's cache volume "
        "only); services app (not started)"
    )


def test_each_runner_names_what_it_leaves_out(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(
        "services:\n"
        "  web:\n"
        "    build: .\n"
        "    image: web:${TAG:-dev}\n"
        "    restart: always\n"
        "    deploy: {replicas: 2}\n"
        "  worker: {build: ., depends_on: {web: {condition: service_started, restart: true}}}\n"
    )
    project = load_compose(locate(tmp_path))
    assert unapplied_settings(project, ["web"], Runner.WATCH) == ""
    assert unapplied_settings(project, ["web"], Runner.COMPOSE) == (
        "not applied in compose mode (the default): services.web.deploy.replicas (only the "
        "first replica is synced); services.worker.depends_on.web.restart (a restart rule "
        "does not restart the dependents)"
    )
    fallback = unapplied_settings(project, ["web"], Runner.FALLBACK)
    assert "services.web.restart (devbox names, restarts and labels" in fallback
    assert "services.web.deploy;" in fallback
    assert "services.worker.depends_on.web.restart" in fallback
    bare = unapplied_settings(project, ["web"], Runner.BARE)
    assert "services.web (no `${VAR}` substitution)" in bare
    assert bare.endswith("services worker (not started)")


def test_extends_is_resolved_by_devbox_without_compose(tmp_path: Path) -> None:
    """devbox's own reader applies `extends:`, so the fallback without Compose does not
    name it (the table says so); the base's settings it cannot apply are named instead."""
    (tmp_path / "compose.yaml").write_text(
        "services:\n"
        "  base: {build: ., cap_add: [NET_ADMIN]}\n"
        "  app: {extends: base, command: [python, -m, app]}\n"
    )
    project = load_compose(locate(tmp_path))
    line = unapplied_settings(project, ["app"], Runner.BARE)
    assert "extends" not in line
    assert "services.app.cap_add" in line
