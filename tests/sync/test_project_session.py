from pathlib import Path

from devbox.project.compose import load_compose
from devbox.project.locate import locate
from devbox.sync.project_session import unapplied_without_compose


def test_uv_cache_volume_is_not_named_as_unapplied(tmp_path: Path) -> None:
    """The fallback mounts uv's cache itself; any other volume is said to be left out."""
    (tmp_path / "compose.yaml").write_text(
        "services:\n"
        "  app: {build: ., volumes: [uv-cache:/opt/uv-cache]}\n"
        "  web: {build: ., volumes: [uv-cache:/opt/uv-cache, data:/data]}\n"
    )
    project = load_compose(locate(tmp_path))
    assert unapplied_without_compose(project, ["app"]) == ["services web (not started)"]
    assert unapplied_without_compose(project, ["web"]) == [
        "services.web.volumes",
        "services app (not started)",
    ]
