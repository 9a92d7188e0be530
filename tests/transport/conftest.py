"""Transport tests: a guard against leaked threads, ptys and sockets.

The guard is the pymodbus lesson: a test that leaves a serve loop running or a
pty open passes on its own and breaks a later test in a way nobody can trace.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator

import pytest

from terminal.clock import FakeClock

_LEAK_GRACE = 1.0


def _open_channels() -> dict[int, str]:
    """This process's pty and socket descriptors (other fds belong to pytest and friends)."""
    found: dict[int, str] = {}
    for name in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            continue
        if target.startswith(("/dev/pts/", "/dev/ptmx", "socket:")):
            found[int(name)] = target
    return found


@pytest.fixture(autouse=True)
def _no_leftover_threads_or_fds() -> Iterator[None]:
    threads_before = set(threading.enumerate())
    fds_before = _open_channels()
    yield
    deadline = time.monotonic() + _LEAK_GRACE
    leaked: list[threading.Thread] = []
    while True:
        leaked = [t for t in threading.enumerate() if t not in threads_before and t.is_alive()]
        if not leaked or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    fds_after = _open_channels()
    new_fds = {fd: target for fd, target in fds_after.items() if fds_before.get(fd) != target}
    problems = []
    if leaked:
        problems.append(f"threads still running: {[t.name for t in leaked]}")
    if new_fds:
        problems.append(f"descriptors left open: {new_fds}")
    if problems:
        pytest.fail("; ".join(problems))


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock(1000.0)
