"""`interruptible` and `shielded`: real signals sent to this process."""

import os
import signal

import pytest

from devbox.errors import Interrupted
from devbox.runtime.signals import interruptible, shielded
from tests.fakes import Said


def test_sigterm_becomes_interrupted_after_the_cleanup() -> None:
    done: list[str] = []
    said = Said()
    with (
        pytest.raises(Interrupted) as caught,
        interruptible(cleanup=lambda: done.append("cleaned"), stopping="removing x", echo=said),
    ):
        os.kill(os.getpid(), signal.SIGTERM)
        signal.sigtimedwait([], 0)  # let the handler run
        raise AssertionError("not interrupted")
    assert caught.value.code == 130 and caught.value.message == "interrupted"
    assert done == ["cleaned"] and said.messages == ["stopping: removing x"]
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # restored


def test_the_cleanup_runs_on_success_and_on_errors() -> None:
    done: list[str] = []
    with interruptible(cleanup=lambda: done.append("ok")):
        pass
    with pytest.raises(ValueError), interruptible(cleanup=lambda: done.append("error")):
        raise ValueError
    assert done == ["ok", "error"]


def test_ctrl_c_during_the_cleanup_is_ignored() -> None:
    done: list[str] = []

    def cleanup() -> None:
        os.kill(os.getpid(), signal.SIGINT)  # a second Ctrl-C while removing containers
        done.append("finished")

    with pytest.raises(Interrupted), interruptible(cleanup=cleanup):
        raise KeyboardInterrupt
    assert done == ["finished"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_shielded_restores_the_handlers() -> None:
    with shielded():
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_deferred_holds_a_signal_until_the_block_ends() -> None:
    from devbox.runtime.signals import deferred

    done: list[str] = []
    with pytest.raises(Interrupted), interruptible():
        with deferred():
            os.kill(os.getpid(), signal.SIGTERM)
            signal.sigtimedwait([], 0)  # the handler runs now, and only records it
            done.append("block finished")
        signal.sigtimedwait([], 0)
        raise AssertionError("not interrupted after the block")
    assert done == ["block finished"]
