"""The serve loops wake on time: Linux timer slack (50 µs by default) is cut to 1 ns."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

from simulator import SimulatedTerminal, SimulatorSettings
from simulator.serve import PtySimulator, TcpSimulator
from simulator.timer_slack import tighten_timer_slack

linux_only = pytest.mark.skipif(
    not Path("/proc/self/timerslack_ns").exists(), reason="Linux timer slack"
)


def _slack(thread_id: int | str) -> int:
    return int(Path(f"/proc/{thread_id}/timerslack_ns").read_text())


def _slacks() -> dict[str, int]:
    """Each thread of this process by id, with its timer slack in ns."""
    return {task.name: _slack(task.name) for task in Path("/proc/self/task").iterdir()}


@linux_only
def test_a_thread_that_asks_gets_one_nanosecond_and_its_children_inherit_it():
    seen: dict[str, int] = {}

    def child() -> None:
        seen["child"] = _slack(threading.get_native_id())

    def parent() -> None:
        seen["done"] = tighten_timer_slack()
        seen["parent"] = _slack(threading.get_native_id())
        started = threading.Thread(target=child)
        started.start()
        started.join()

    here = _slack(threading.get_native_id())
    thread = threading.Thread(target=parent)
    thread.start()
    thread.join()
    assert seen == {"done": True, "parent": 1, "child": 1}
    assert _slack(threading.get_native_id()) == here  # that thread's, not the process's


@linux_only
@pytest.mark.parametrize("server", [PtySimulator, TcpSimulator], ids=["pty", "tcp"])
def test_the_serve_loop_and_its_reader_run_with_tight_timers(server):
    before = _slacks()
    device = SimulatedTerminal(SimulatorSettings())
    with server(device):
        during = _slacks()
    device.ledger.close()
    tight = [tid for tid, slack in during.items() if slack == 1 and before.get(tid) != 1]
    assert len(tight) >= 2  # the loop and its reader


def test_elsewhere_nothing_is_asked(monkeypatch):
    monkeypatch.setattr(sys, "platform", "win32")
    assert tighten_timer_slack() is False
