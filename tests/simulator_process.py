"""``terminal simulate`` in a process of its own: a device the tests reach only by the path
or URL it announces, as they would reach a real terminal (POSIX: a pty, or a TCP port)."""

from __future__ import annotations

import re
import select
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

#: How long the command may take to announce itself (generous: the machine may be busy).
STARTUP_LIMIT = 30.0
ANNOUNCED = re.compile(r"Simulated terminal on (\S+)")


@contextmanager
def simulator_process(*options: str) -> Iterator[str]:
    """Run ``terminal simulate OPTIONS``; yield the path or URL its first line announced,
    and stop the process on leaving (terminated; killed if it does not stop)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "terminal", "simulate", *options],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        ready, _, _ = select.select([process.stdout], [], [], STARTUP_LIMIT)
        assert ready, "terminal simulate printed nothing"
        line = process.stdout.readline()
        found = ANNOUNCED.search(line)
        if found is None:
            process.kill()
            pytest.fail(f"unexpected first line {line!r}; stderr: {process.stderr.read()}")
        yield found.group(1)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        process.stdout.close()
        process.stderr.close()
