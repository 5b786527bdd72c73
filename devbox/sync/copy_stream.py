"""Copy sync's stream into one dev container, and what the container writes coming back.

Without a bind mount, each batch goes in over one long-lived receiver (`sync.transfer`);
the same receiver reports what the container writes under the sync targets, which
`sync.writeback` decides about and this module applies to the host. Where no receiver
can run (an image without python3), the caller's `docker cp` carries each batch.
"""

import os
import stat
import time
from collections.abc import Callable, Collection, Mapping
from pathlib import Path

from devbox.errors import DevboxError, EngineError
from devbox.output import Echo
from devbox.runtime.state import Recorder, shell_running
from devbox.sync.keeper import Keeper
from devbox.sync.rules import RuleSet, WatchRule
from devbox.sync.transfer import RECEIVER, BatchRejected, Receiver, ReceiverError
from devbox.sync.writeback import (
    Verdict,
    WritesBack,
    beside,
    host_file,
    policy_of,
    verdict,
    write_file,
)


class CopyStream:
    """The receiver of one dev container (started when needed, again after a restart) and
    the write-back it carries. `rules` gives the service's current rules (reloaded when
    the compose file changes)."""

    def __init__(
        self, *, keeper: Keeper, rules: Callable[[], RuleSet], recorder: Recorder, echo: Echo
    ) -> None:
        self.keeper, self.rules, self.recorder, self.echo = keeper, rules, recorder, echo
        self.project_dir = keeper.project.project_dir
        self.receiver: Receiver | None = None
        self.broken = False  # no receiver could start: `docker cp` from then on
        self.writes_back = policy_of(self.project_dir)
        self.since = time.time()  # host files untouched since then are devbox's to replace
        self.resend: Callable[[Path], None] = lambda path: None  # the watcher's, once it runs

    def alive(self) -> bool:
        """A live receiver: it proves the container runs (its exec ends with it)."""
        return self.receiver is not None and self.receiver.alive()

    def send(self, copies: Mapping[str, tuple[WatchRule, Path]], deletes: Collection[str]) -> bool:
        """Apply one batch over the stream; False when no receiver runs (the caller uses
        `docker cp`). A receiver gone with a restarted container, or one that could not
        apply a batch, is replaced and the batch retried once."""
        receiver = self._receiver()
        if receiver is None:
            return False
        triggers = self.rules().triggers
        try:
            receiver.send(copies, triggers, deletes)
            return True
        except BatchRejected as exc:
            raise EngineError(
                f"sync into {self.keeper.spec.name} failed at {exc}; the next change syncs again"
            ) from None
        except ReceiverError as exc:
            self.close()
            receiver = self._receiver()
            if receiver is not None:
                try:
                    receiver.send(copies, triggers, deletes)
                    return True
                except ReceiverError:
                    self.close()
            self.echo(f"sync stream failed ({exc}); this batch goes through docker cp")
            return False

    def watch_writes(self) -> None:
        """Start the receiver now, not at the first batch, so that what the container
        writes comes back from the start."""
        if self.writes_back is not WritesBack.OFF:
            self._receiver(at_start=True)

    def close(self) -> None:
        if self.receiver is not None:
            self.receiver.close()
            self.receiver = None

    def _receiver(self, *, at_start: bool = False) -> Receiver | None:
        """The live receiver, started when needed. One that cannot start makes copy sync
        fall back to `docker cp` (said once), unless `at_start`: the first batch retries."""
        if self.broken:
            return None
        if self.receiver is not None and self.receiver.alive():
            return self.receiver
        self.close()
        targets = {
            rule.target
            for rule in self.rules().rules
            if rule.action.syncs and rule.target and self.writes_back is not WritesBack.OFF
        }
        engine, name = self.keeper.engine, self.keeper.spec.name
        try:
            child = engine.open_receiver(name, RECEIVER)
            self.receiver = Receiver(child, watch=targets, on_file=self._container_file)
        except (ReceiverError, DevboxError) as exc:
            if at_start:
                return None
            if engine.running(name):  # else the container is gone, not python3
                self.broken = True
                self.echo(f"copy sync falls back to docker cp per batch: {exc}")
            return None
        return self.receiver

    def _container_file(self, name: str, data: bytes | None, mode: int, mtime_ns: int) -> None:
        """A file the container wrote (or removed, `data` None): brought back to the host
        as `sync.writeback` decides. Runs in the receiver's reader thread: never raises."""
        try:
            self._bring_back(name, data, mode, mtime_ns)
        except FileNotFoundError:
            pass  # the host removed its folder meanwhile: that deletion wins, synced in next
        except Exception as exc:  # a thread: said, never a traceback
            self.echo(f"could not bring back {name} from the container: {exc}", error=True)

    def _bring_back(self, name: str, data: bytes | None, mode: int, mtime_ns: int) -> None:
        receiver, found = self.receiver, host_file(self.rules(), name)
        if receiver is None or found is None:
            return  # not a path the rules sync: .venv, __pycache__, an ignored file
        path, key = found[1], name.strip("/")
        try:
            st: os.stat_result | None = path.lstat()
        except (FileNotFoundError, NotADirectoryError):  # gone, or a file where its folder was
            st = None
        if st is not None and not stat.S_ISREG(st.st_mode):
            return  # a folder or a link on the host is never replaced
        exists = st is not None
        same = st is not None and data is not None and st.st_size == len(data)
        same = same and path.read_bytes() == data
        with receiver.lock:
            known = st is not None and receiver.sent.unchanged(key, st)
        unchanged = known or (st is not None and st.st_mtime < self.since)
        in_shell = exists and not same and shell_running(self.project_dir)
        what = verdict(
            policy=self.writes_back,
            deleted=data is None,
            exists=exists,
            same=same,
            host_unchanged=unchanged,
            in_shell=in_shell,
        )
        rel = os.path.relpath(path, self.project_dir)
        deletion_refused = what is Verdict.SKIP and data is None and exists
        if what is Verdict.BESIDE or (deletion_refused and self.writes_back is WritesBack.ALL):
            # The host's copy changed meanwhile and stays: it goes back into the container.
            with receiver.lock:
                receiver.sent.drop(key)
            self.resend(path)
        if what is Verdict.DELETE:
            path.unlink(missing_ok=True)
            with receiver.lock:
                receiver.sent.drop(key)
            self.echo(f"{rel}: removed in the container, so on the host too")
        elif what is Verdict.WRITE and data is not None:
            write_file(path, data, mode=mode, mtime_ns=mtime_ns, project_dir=self.project_dir)
            with receiver.lock:  # the host watcher's event for it sends nothing back
                receiver.sent.remember(key, path.lstat())
            self.echo(f"{rel}: brought back from the container")
        elif what is Verdict.BESIDE and data is not None:
            kept = beside(path, time.time())
            write_file(kept, data, mode=mode, mtime_ns=mtime_ns, project_dir=self.project_dir)
            self.echo(
                f"{rel}: changed in the container and on the host; the host's is kept, the "
                f"container's is in {os.path.relpath(kept, self.project_dir)}",
                error=True,
            )
        else:
            return
        self.recorder.brought_back()
