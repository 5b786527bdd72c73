"""SIGTERM at the phases test_up_faults_docker.py leaves to Ctrl-C, in copy sync (its phases are
bind sync): the dev container created but the session not yet watching, and a rebuild a
Dockerfile edit started. One test walks both (two short sessions sharing one image)."""

import signal
import subprocess
from pathlib import Path

import pytest

from tests.support import (
    container_volumes,
    devbox_traceback,
    docker_lines,
    processes_naming,
    signal_group,
    start_devbox_group,
    volume_exists,
    wait_for,
)

pytestmark = pytest.mark.docker


def test_sigterm_while_starting_and_while_rebuilding_leaves_nothing(
    initialized_sample: tuple[Path, int], compose_2_21: str, tmp_path: Path
) -> None:
    project, _ = initialized_sample
    name = f"devbox-{project.name}-sample-app"
    label = f"label=dev.devbox.project={project.name}"
    args = ["up", "--sync", "copy", "--project-dir", str(project)]

    def session(phase: str) -> bool:
        """One session ended by SIGTERM in `phase`; whether it was not yet watching."""
        log_path = tmp_path / f"{phase}.log"
        volumes: list[str] = []

        def log() -> str:
            return log_path.read_text(errors="replace")

        def created() -> list[str]:
            found = docker_lines("ps", "-aq", "--filter", label)
            volumes.extend(v for v in container_volumes(name) if v not in volumes)
            return found

        early = False
        with log_path.open("wb") as out:
            up = start_devbox_group(args, log=out)
            try:
                if phase == "starting":
                    wait_for(created, timeout=180, what="the dev container", interval=0.02)
                    early = "watching " not in log()
                else:
                    wait_for(lambda: "watching " in log(), timeout=180, what="the watch")
                    created()
                    dockerfile = project / "Dockerfile"
                    dockerfile.write_text(
                        dockerfile.read_text().replace(
                            'CMD ["sample-app", "--reload"]',
                            'RUN sleep 30\nCMD ["sample-app", "--reload"]',
                        )
                    )
                    wait_for(
                        lambda: log().count(f"building {name}:dev...") == 2,
                        timeout=30,
                        what="the rebuild",
                    )
            finally:
                code = signal_group(up, signal.SIGTERM)
        output = log()
        assert code == 130, output
        assert not devbox_traceback(output), output
        assert output.rstrip().endswith("devbox: interrupted"), output
        assert docker_lines("ps", "-aq", "--filter", label) == [], phase
        left = [v for v in volumes if volume_exists(v) and not v.endswith("_uv-cache")]
        assert left == [], phase  # uv's cache volume outlives sessions by design
        assert processes_naming(project.name) == [], phase
        return early

    # the first signal came before the session watched (else it tested the watch phase)
    assert session("starting"), "the container was seen only once the session watched"
    session("rebuilding")
    subprocess.run(["docker", "image", "rm", f"{name}:dev"], capture_output=True, check=False)
