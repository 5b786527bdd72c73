import pytest

from devbox.engine.kind import EngineKind
from devbox.engine.owner import cache_volume_name, give_to, mapped_user, mount_target

USER = (1000, 1001)


@pytest.mark.parametrize(
    ("owner", "kind", "local", "service_user", "root", "expected"),
    [
        (USER, EngineKind.DOCKER, True, None, False, "1000:1001"),
        (USER, EngineKind.DOCKER, True, None, True, "1000:1001"),  # devbox run as root
        (USER, EngineKind.DOCKER, True, "app", True, None),  # the service decided
        ((0, 0), EngineKind.DOCKER, True, None, True, None),  # root's folder
        (None, EngineKind.DOCKER, True, None, True, None),
        (USER, EngineKind.DOCKER, False, None, True, None),  # another context
        (USER, EngineKind.REMOTE, True, None, True, None),
        (USER, EngineKind.PODMAN, True, None, True, "1000:1001"),  # rootful Podman
        (USER, EngineKind.PODMAN, True, None, False, None),  # rootless: root is the user
        (USER, EngineKind.PODMAN, False, None, True, None),  # CONTAINER_HOST elsewhere
    ],
)
def test_mapped_user(
    owner: tuple[int, int] | None,
    kind: EngineKind,
    local: bool,
    service_user: str | None,
    root: bool,
    expected: str | None,
) -> None:
    assert (
        mapped_user(
            owner=owner, kind=kind, local=local, service_user=service_user, devbox_is_root=root
        )
        == expected
    )


def test_give_to_changes_only_what_others_own() -> None:
    assert give_to("1000:1001", ["/app/.venv", "/opt/uv-cache"]) == [
        "find", "/app/.venv", "/opt/uv-cache",
        "(", "!", "-user", "1000", "-o", "!", "-group", "1001", ")",
        "-exec", "chown", "-h", "1000:1001", "{}", "+",
    ]  # fmt: skip


def test_mount_target_and_cache_name() -> None:
    assert mount_target("p_uv-cache:/opt/uv-cache:ro") == "/opt/uv-cache"
    assert mount_target("/app/.venv") == "/app/.venv"
    assert cache_volume_name("shop") == "shop_uv-cache"
