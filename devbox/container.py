"""The fallback's dev container, derived from the compose service: pure logic.

Older Compose rejects the `develop` key, so the fallback builds from a copy of the
compose file without it, and runs the container with `docker run` arguments taken
from the same service, so both modes behave alike.
"""

from dataclasses import dataclass
from pathlib import Path

import yaml

from devbox import defaults
from devbox.compose_file import ComposeProject, EnvPairs, Service

LABEL_PROJECT = "dev.devbox.project"
LABEL_SERVICE = "dev.devbox.service"


@dataclass(frozen=True, kw_only=True)
class ContainerSpec:
    name: str
    image: str
    project: str
    service: Service
    bind: Path | None  # host folder mounted at /app, or None with --sync copy


def image_tag(project: ComposeProject, service: Service) -> str:
    return f"devbox-{project.name}-{service.name}:dev"


def container_name(project: ComposeProject, service: Service) -> str:
    return f"devbox-{project.name}-{service.name}"


def run_args(spec: ContainerSpec) -> list[str]:
    """`docker run` arguments (after `run`). The anonymous volume on `.venv` keeps the
    image's environment and shields the host's `.venv` from the container's."""
    svc = spec.service
    args = ["--rm", "--name", spec.name, "--label", f"{LABEL_PROJECT}={spec.project}"]
    args += ["--label", f"{LABEL_SERVICE}={svc.name}", "--pull", "never"]
    if spec.bind is not None:
        args += ["--volume", f"{spec.bind}:{defaults.APP_DIR}"]
    args += ["--volume", f"{defaults.APP_DIR}/.venv"]
    for port in svc.ports:
        args += ["--publish", port]
    args += exec_options(env=svc.environment, workdir=svc.working_dir, user=svc.user)
    args.append(spec.image)
    args += list(svc.command or ())
    return args


def compose_without_develop(text: str, *, images: dict[str, str]) -> str:
    """The compose file without `develop` keys and with the given image tags, for old Compose."""
    data = yaml.safe_load(text)
    for name, service in data.get("services", {}).items():
        if isinstance(service, dict):
            service.pop("develop", None)
            service.pop("x-develop", None)
            if name in images:
                service["image"] = images[name]
    return yaml.safe_dump(data, sort_keys=False)


def exec_options(
    *,
    env: EnvPairs = (),
    workdir: str | None = None,
    user: str | None = None,
    privileged: bool = False,
) -> list[str]:
    """`docker run` / `docker exec` options; an env value of None passes the host's."""
    options = [arg for k, v in env for arg in ("--env", k if v is None else f"{k}={v}")]
    options += ["--workdir", workdir] if workdir else []
    options += ["--user", user] if user else []
    return options + (["--privileged"] if privileged else [])
