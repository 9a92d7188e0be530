"""A flood of requests nobody read, on a loaded PC, does not stop the next sale.

The scene from the field: a program writes 200 requests into ``terminal simulate
--pty`` and never reads; then a cashier's sale runs while other programs keep
both cores busy. It used to end in doubt after 60 s: the simulator, busy booking
the flood, NAKed frames whose bytes had all come in time (it measured the gaps
between its own reads), and the host took a backlog ACK for the ACK of its
request. The first test is the simulator half alone, on a device whose books
are slow; the second is the whole scene.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import serial
from cup_requests import SETTINGS, sale_request

from simulator import SimulatedTerminal
from simulator.serve import PtySimulator
from terminal.link import LinkTimers, SerialLink, encode_frame
from terminal.protocol import decode
from tests.simulator_process import simulator_process

FLOOD = 200
#: Seconds the sale may wait for its answer; the flood used to cost it all 60.
SALE_RESPONSE_TIMEOUT = 20.0
#: A busy loop ends on its own after this long, should the test die without killing it.
LOAD_LIMIT = 90.0
_BUSY = "import time\nend = time.monotonic() + {limit}\nwhile time.monotonic() < end:\n    pass\n"


class SlowBooks:
    """A simulated terminal whose book-keeping takes ``stall`` seconds per request."""

    def __init__(self, inner: SimulatedTerminal, stall: float) -> None:
        self.inner = inner
        self.stall = stall

    def feed(self, data: bytes, at: float | None = None) -> None:
        before = self.inner.link.stats.frames_received
        self.inner.feed(data, at)
        if self.inner.link.stats.frames_received > before:
            time.sleep(self.stall)  # writing the ledger, on a slow disk

    def poll(self) -> None:
        self.inner.poll()

    def read_output(self) -> bytes:
        return self.inner.read_output()

    def next_deadline(self) -> float | None:
        return self.inner.next_deadline()


def test_a_frame_that_came_in_time_is_not_naked_while_the_simulator_books_another() -> None:
    device = SlowBooks(SimulatedTerminal(), stall=0.5)
    first = encode_frame(sale_request("000001"))
    second = encode_frame(sale_request("000002"))
    with PtySimulator(device) as sim, serial.serial_for_url(sim.path, timeout=0.05) as port:
        port.write(first + second[:20])
        time.sleep(0.02)  # the rest of the second frame, 20 ms later: no gap at all
        port.write(second[20:])
        link = SerialLink(port, LinkTimers(response_timeout=10.0))
        traces = sorted(decode(link.receive(), "cup")[11] for _ in range(2))
    assert traces == ["000001", "000002"]
    assert device.inner.link.stats.naks_sent == 0
    assert device.inner.link.stats.bad_frames == 0


def test_sale_after_a_flood_nobody_read_is_approved_on_a_loaded_pc(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"[link]\nresponse_timeout = {SALE_RESPONSE_TIMEOUT}\n", encoding="utf-8")
    flood = b"".join(encode_frame(sale_request(f"{100 + n:06d}")) for n in range(FLOOD))
    with simulator_process("--pty", "--ledger", str(tmp_path / "books.db")) as path, _cpu_load():
        with serial.serial_for_url(path, timeout=0) as port:
            port.write(flood)  # and never read a byte
        sale = subprocess.run(
            [sys.executable, "-m", "terminal", "sale", "1.00", "--port", path, "--json",
             "--config", str(config)],
            capture_output=True, text=True, timeout=SALE_RESPONSE_TIMEOUT + 30,
        )
    assert sale.returncode == 0, sale.stderr[-2000:]
    result: dict[str, Any] = json.loads(sale.stdout)
    assert (result["approved"], result["amount_fen"]) == (True, 100)
    assert result["terminal_id"] == SETTINGS.terminal_id


@contextmanager
def _cpu_load() -> Iterator[None]:
    """Keep every core busy with busy-loop processes, each bounded in time."""
    code = _BUSY.format(limit=LOAD_LIMIT)
    busy = [
        subprocess.Popen([sys.executable, "-c", code]) for _ in range(max(2, os.cpu_count() or 2))
    ]
    try:
        yield
    finally:
        for process in busy:
            process.kill()
        for process in busy:
            process.wait(10)
