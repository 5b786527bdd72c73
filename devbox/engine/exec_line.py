"""`docker exec` command lines without the rest of the engine layer: `devbox shell` on a
live session builds its exec from these alone, so it starts as fast as the client does
(no compose file, YAML or engine module is imported on that path)."""

from collections.abc import Sequence


def exec_options(
    *,
    env: Sequence[tuple[str, str | None]] = (),
    workdir: str | None = None,
    user: str | None = None,
    privileged: bool = False,
) -> list[str]:
    """`docker run` / `docker exec` options; an env value of None passes the host's."""
    options = [arg for k, v in env for arg in ("--env", k if v is None else f"{k}={v}")]
    options += ["--workdir", workdir] if workdir else []
    options += ["--user", user] if user else []
    return options + (["--privileged"] if privileged else [])


def exec_cmd(client: str, container: str, argv: Sequence[str], options: Sequence[str]) -> list[str]:
    """argv of `CLIENT exec OPTIONS CONTAINER ARGV...`."""
    return [client, "exec", *options, container, *argv]
