"""`$$` in a watch rule's `exec` command reaches the container as one `$`, as Compose
passes it (issue #23, item 8): devbox reads the rules itself in the fallback."""

from functools import partial
from pathlib import Path

import pytest

from tests.support import run_devbox, wait_for

pytestmark = pytest.mark.docker

RULE = """\
        - action: sync+exec
          path: ./marker.txt
          target: /app/marker.txt
          exec:
            command: ["sh", "-c", "echo host=$$HOSTNAME > /tmp/exec-out"]
"""


devbox = partial(run_devbox, timeout=300)


def test_double_dollars_in_an_exec_rule_are_one_dollar(
    initialized_sample: tuple[Path, int], compose_2_21: str
) -> None:
    project, _ = initialized_sample
    compose = project / "compose.yaml"
    text = compose.read_text()
    compose.write_text(
        text.replace("        - action: rebuild\n", RULE + "        - action: rebuild\n", 1)
    )
    started = devbox(project, "up", "--detach")
    assert started.returncode == 0, started.stderr
    try:
        (project / "marker.txt").write_text("go\n")

        def said() -> str:
            return devbox(project, "shell", "--", "cat", "/tmp/exec-out").stdout.strip()

        wait_for(lambda: said().startswith("host="), timeout=60, what="the exec rule to run")
        hostname = devbox(project, "shell", "--", "hostname").stdout.strip()
        assert said() == f"host={hostname}"  # not `host=<sh's pid>HOSTNAME`
    finally:
        devbox(project, "down")
