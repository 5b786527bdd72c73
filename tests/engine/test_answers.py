"""Reading the engine's answers: pure parsers, no engine."""

import pytest

from devbox.engine.answers import container_info, endpoint, parse_host_port, parse_image_facts


def test_parse_image_facts() -> None:
    assert parse_image_facts('159121297 "app"\n') == (159121297, "app")
    assert parse_image_facts('1000 ""') == (1000, "")
    assert parse_image_facts('1000 "a b:c"') == (1000, "a b:c")


def test_parse_host_port() -> None:
    assert parse_host_port("127.0.0.1:32768\n") == 32768
    assert parse_host_port("0.0.0.0:1\n[::]:1\n") == 1
    assert parse_host_port("") is None


@pytest.mark.parametrize(
    ("docker_host", "expected"),
    [
        (None, ("127.0.0.1", "127.0.0.1")),
        ("unix:///var/run/docker.sock", ("127.0.0.1", "127.0.0.1")),
        ("tcp://127.0.0.1:2375", ("127.0.0.1", "127.0.0.1")),
        ("tcp://localhost:2375", ("127.0.0.1", "127.0.0.1")),
        ("ssh://me@build-box", ("0.0.0.0", "build-box")),  # noqa: S104 (its own machine)
        ("ssh://me@localhost:2222", ("127.0.0.1", "127.0.0.1")),
        ("tcp://docker:2376", ("0.0.0.0", "docker")),  # noqa: S104 (GitLab docker:dind)
    ],
)
def test_endpoint_follows_a_remote_engine(
    docker_host: str | None, expected: tuple[str, str]
) -> None:
    assert endpoint(docker_host) == expected


def test_container_info_from_docker_inspect() -> None:
    info = container_info(
        {
            "Name": "/shop-web-1",
            "Config": {"Labels": {"com.docker.compose.service": "web"}, "Image": "shop-web"},
            "State": {
                "Status": "running",
                "Running": True,
                "StartedAt": "2026-11-25T02:17:01.123456789Z",
            },
            "NetworkSettings": {
                "Ports": {"8000/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8000"}], "9/udp": None}
            },
        }
    )
    assert (info.name, info.service, info.status, info.running, info.image) == (
        "shop-web-1",
        "web",
        "running",
        True,
        "shop-web",
    )
    assert info.ports == ("127.0.0.1:8000->8000/tcp",)
    assert (
        info.started_at is not None
        and info.started_at.isoformat() == "2026-11-25T02:17:01.123456+00:00"
    )


def test_container_info_of_a_stopped_container() -> None:
    info = container_info(
        {"Name": "/x", "State": {"Status": "exited", "StartedAt": "0001-01-01T00:00:00Z"}}
    )
    assert (info.running, info.started_at, info.service, info.ports) == (False, None, None, ())


def test_a_containers_project_folder_comes_from_composes_or_devboxs_label() -> None:
    def labelled(labels: dict[str, str]) -> str | None:
        return container_info({"Name": "/c", "Config": {"Labels": labels}}).folder

    assert labelled({"com.docker.compose.project.working_dir": "/a/proj"}) == "/a/proj"
    assert labelled({"dev.devbox.project.dir": "/b/proj"}) == "/b/proj"
    assert labelled({"dev.devbox.project": "proj"}) is None
