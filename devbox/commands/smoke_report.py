"""The pure half of `devbox smoke`: the typed report and its
exit code, and its text, JSON and JUnit XML forms (JUnit: what GitHub, GitLab and
Jenkins all display).

Kept apart from the run in `devbox.commands.smoke` so that it is unit-tested without an engine.
XML goes through xml.etree, so escaping is never ours to get wrong.
"""

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path

from devbox.errors import (
    BuildError,
    DevboxError,
    ExitCode,
    HealthTimeout,
    SmokeCommandFailed,
    StartError,
)
from devbox.project.shape import reloading


class SmokeOutcome(StrEnum):
    PASSED = "passed"
    BUILD = "build"
    START = "start"
    HEALTH_TIMEOUT = "health-timeout"
    SMOKE_COMMAND = "smoke-command"


ERRORS: dict[SmokeOutcome, type[DevboxError]] = {
    SmokeOutcome.BUILD: BuildError,
    SmokeOutcome.START: StartError,
    SmokeOutcome.HEALTH_TIMEOUT: HealthTimeout,
    SmokeOutcome.SMOKE_COMMAND: SmokeCommandFailed,
}


def expects_server(command: Sequence[str], health_path: str | None) -> bool:
    """Whether the app must keep running and answer (a known server, or a health path to
    ask); else it may be a command-line app, for which running to completion (exit 0) is
    as good as answering on its port."""
    return health_path is not None or reloading(tuple(command))[1] is not None


def is_root_user(user: str) -> bool:
    """Docker runs an image without USER, or with root/0 (any group), as root."""
    return user.strip().split(":")[0] in ("", "root", "0")


def build_error(lines: Sequence[str]) -> str:
    """The root cause of a failed BuildKit build: its first error line, without the step prefix."""
    cleaned = [re.sub(r"^#\d+ (\d+\.\d+ )?", "", line).strip() for line in lines]
    for line in cleaned:
        if re.search(r"\berror\b", line, re.IGNORECASE):
            return line
    return next((line for line in reversed(cleaned) if line), "no output")


@dataclass(frozen=True, kw_only=True)
class SmokeReport:
    """What one smoke run found; a figure is None when the run stopped before measuring it."""

    project: str
    image: str
    container: str  # removed by the time the report exists
    check: str  # what "healthy" meant: "TCP port 8000", "GET /health", "command `...`"
    outcome: SmokeOutcome
    message: str = ""  # one line: what failed and what to do; empty when passed
    build_seconds: float | None = None
    image_size: int | None = None  # bytes
    healthy_seconds: float | None = None  # from `docker run` to the first passing check
    completed: bool = False  # passed by running to completion (exit 0): a command-line app
    user: str | None = None  # the image's Config.User; "" means root
    total_seconds: float = 0.0
    details: tuple[str, ...] = ()  # build error tail, container logs or command output

    @property
    def passed(self) -> bool:
        return self.outcome is SmokeOutcome.PASSED

    @property
    def exit_code(self) -> ExitCode:
        return ERRORS[self.outcome].code if self.outcome in ERRORS else ExitCode.OK

    def error(self) -> DevboxError | None:
        """The error a failed run ends with (its message and exit code), or None."""
        return ERRORS[self.outcome](self.message) if self.outcome in ERRORS else None

    @property
    def runs_as_root(self) -> bool | None:
        return None if self.user is None else is_root_user(self.user)


def summary(report: SmokeReport) -> list[str]:
    """The figures, one per line, for people reading a CI log."""
    lines = [f"image {report.image}, checked with {report.check}"]
    if report.build_seconds is not None:
        lines.append(f"build time: {report.build_seconds:.1f} s")
    if report.image_size is not None:
        lines.append(f"image size: {report.image_size / 1e6:.1f} MB")
    if report.user is not None:
        lines.append(f"image user: {report.user or '(none: root)'}")
    if report.healthy_seconds is not None and report.completed:
        lines.append(f"ran to completion (exit 0) in {report.healthy_seconds:.1f} s")
    elif report.healthy_seconds is not None:
        lines.append(f"start to healthy: {report.healthy_seconds:.1f} s")
    lines.append(f"smoke test {report.outcome.value} in {report.total_seconds:.1f} s")
    return lines


def warnings(report: SmokeReport) -> list[str]:
    if not report.runs_as_root:
        return []
    return [
        "warning: the production image runs as root; add a non-root USER to its prod target "
        "(`devbox init` writes one that runs as `app`)"
    ]


def to_json(report: SmokeReport) -> str:
    """Every figure, the outcome and the exit code, for scripts."""
    data = asdict(report)
    data.update(
        outcome=report.outcome.value,
        exit_code=int(report.exit_code),
        runs_as_root=report.runs_as_root,
        details=list(report.details),
    )
    return json.dumps(data, indent=2)


# XML 1.0 cannot hold most control characters (ANSI colours in logs would break the file).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def junit_xml(report: SmokeReport) -> str:
    """One <testsuite> with one <testcase>, inside <testsuites> for the strictest readers."""
    time = f"{report.total_seconds:.3f}"
    counts = {"tests": "1", "failures": "0" if report.passed else "1", "errors": "0"}
    root = ET.Element("testsuites", {"name": "devbox smoke", **counts, "time": time})
    suite = ET.SubElement(root, "testsuite", {"name": "devbox smoke", **counts, "time": time})
    case = ET.SubElement(
        suite,
        "testcase",
        {"classname": "devbox.smoke", "name": f"smoke[{report.project}]", "time": time},
    )
    if not report.passed:
        attributes = {"type": report.outcome.value, "message": xml_safe(report.message)}
        ET.SubElement(case, "failure", attributes).text = xml_safe("\n".join(report.details))
    out = "\n".join(summary(report) + warnings(report))
    ET.SubElement(case, "system-out").text = xml_safe(out)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def write_junit(report: SmokeReport, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(junit_xml(report), encoding="utf-8")
