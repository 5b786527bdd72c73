"""The labels that mark containers, networks and volumes: one module, one spelling.

Watch mode's containers carry Compose's labels, the fallback's and smoke's carry
devbox's; `status`, `logs`, `shell` and `down` find them by these.
"""

COMPOSE_PROJECT = "com.docker.compose.project"
COMPOSE_SERVICE = "com.docker.compose.service"
COMPOSE_WORKING_DIR = "com.docker.compose.project.working_dir"  # the project folder
COMPOSE_ONEOFF = "com.docker.compose.oneoff"  # "True" on `compose run` containers
DEVBOX_PROJECT = "dev.devbox.project"  # the fallback's containers: the Compose project name
DEVBOX_SERVICE = "dev.devbox.service"
DEVBOX_PROJECT_DIR = "dev.devbox.project.dir"  # the fallback's: the project folder
DEVBOX_USER = "dev.devbox.user"  # `uid:gid` devbox runs a bind-mounted dev container as
COMPOSE_VOLUME = "com.docker.compose.volume"  # a volume's key in the compose file
SMOKE = "dev.devbox.smoke"  # smoke's containers: the project name

SERVICE_LABELS = (COMPOSE_SERVICE, DEVBOX_SERVICE)  # watch mode's, then the fallback's
FOLDER_LABELS = (COMPOSE_WORKING_DIR, DEVBOX_PROJECT_DIR)


def label(key: str, value: str) -> str:
    """`key=value`, as `--label` and `--filter label=` take it."""
    return f"{key}={value}"
