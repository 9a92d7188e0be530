"""A sale over a real pty on a paced line, against the line's floor; and lanes per host process.

Run: ``.venv/bin/python benchmarks/link.py [--sales 5] [--lanes 1,2,4,8,16,32,64]``.

1. Speed: one simulated terminal on a pty behind :class:`simulator.pacing.PacedLine`
   (bytes cost 10 bit times each way) at 9600 and 115200 baud; the host runs
   sales through the real client, link and pyserial. The floor of a sale is its
   bytes on the wire (request and response frames, both ACKs) × 10 / baud plus
   the simulated terminal's own processing time; the table gives the measured
   time, the floor and their ratio (target ≤ 1.05).
2. Lanes: N simulated terminals, each on its own pty, served by a separate
   process; this process drives all N at once (a thread per lane, one journal
   each) at 115200 baud. The table gives, per N, the sales done, errors, wall
   time, throughput and the 95th-percentile sale time.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from typing import Any

import serial

from simulator import SimulatedTerminal, SimulatorSettings
from simulator.pacing import BITS_PER_BYTE, PacedLine
from simulator.serve import PtySimulator
from terminal.config import TerminalSettings
from terminal.journal import Journal
from terminal.link import SerialLink
from terminal.transactions.client import TerminalClient

KEY = b"b" * 32


class CountingPort:
    """A pyserial port that counts the bytes both ways (the link sees the port unchanged)."""

    def __init__(self, port: Any) -> None:
        self._port = port
        self.bytes = 0

    @property
    def timeout(self) -> float | None:
        return self._port.timeout

    @timeout.setter
    def timeout(self, value: float | None) -> None:
        self._port.timeout = value

    def __getattr__(self, name: str) -> Any:
        return getattr(self._port, name)

    def read(self, size: int = 1) -> bytes:
        data = self._port.read(size)
        self.bytes += len(data)
        return data

    def write(self, data: bytes) -> int | None:
        self.bytes += len(data)
        return self._port.write(data)


def _client(port: Any) -> tuple[TerminalClient, Journal]:
    journal = Journal(":memory:")
    client = TerminalClient(SerialLink(port), TerminalSettings(), journal=journal, token_key=KEY)
    return client, journal


def speed(baudrate: int, sales: int) -> dict[str, float]:
    """Median sale time on a ``baudrate`` line against the floor (bytes and processing)."""
    device = SimulatedTerminal(SimulatorSettings())
    line = PacedLine(device, baudrate)
    times, floors = [], []
    with PtySimulator(line) as sim, serial.Serial(sim.path, timeout=0.05) as raw:
        port = CountingPort(raw)
        client, journal = _client(port)
        try:
            client.sale(1)  # warm-up: imports, caches, the first trace
            for _ in range(sales):
                port.bytes, line.device_seconds = 0, 0.0
                started = time.perf_counter()
                result = client.sale(1)
                elapsed = time.perf_counter() - started
                assert result.approved, result.response
                # The last ACK (ours) is written before sale() returns, but a byte
                # read while it is paced: count what crossed the wire both ways.
                floors.append(port.bytes * BITS_PER_BYTE / baudrate + line.device_seconds)
                times.append(elapsed)
        finally:
            journal.close()
            device.ledger.close()
    time_ms, floor_ms = statistics.median(times) * 1000, statistics.median(floors) * 1000
    return {"baud": baudrate, "time_ms": time_ms, "floor_ms": floor_ms,
            "ratio": time_ms / floor_ms, "bytes": port.bytes}


# -- lanes -----------------------------------------------------------------------------


def serve(count: int, baudrate: int) -> None:
    """(Child process) ``count`` paced terminals on their own ptys; paths on stdout."""
    devices = [SimulatedTerminal(SimulatorSettings()) for _ in range(count)]
    servers = [PtySimulator(PacedLine(d, baudrate)) for d in devices]
    for server in servers:
        server.start()
    print(" ".join(s.path for s in servers), flush=True)
    sys.stdin.read()  # until the parent closes our stdin
    for server in servers:
        server.stop()


def lanes(count: int, sales: int, baudrate: int) -> dict[str, Any]:
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(count), "--baud", str(baudrate)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        paths = child.stdout.readline().split()
        assert len(paths) == count, paths
        times: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()

        def lane(path: str) -> None:
            try:
                with serial.Serial(path, timeout=0.05) as port:
                    client, journal = _client(port)
                    try:
                        for _ in range(sales):
                            started = time.perf_counter()
                            result = client.sale(1)
                            took = time.perf_counter() - started
                            with lock:
                                if result.approved:
                                    times.append(took)
                                else:
                                    errors.append(result.response.code)
                    finally:
                        journal.close()
            except Exception as exc:
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}")

        threads = [threading.Thread(target=lane, args=(p,)) for p in paths]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
    finally:
        child.stdin.close()
        child.wait(30)
    p95 = sorted(times)[int(0.95 * (len(times) - 1))] * 1000 if times else float("nan")
    return {"lanes": count, "sales": len(times), "errors": len(errors), "wall_s": wall,
            "per_s": len(times) / wall, "p95_ms": p95, "first_error": errors[:1]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sales", type=int, default=5, help="sales per measurement / lane")
    parser.add_argument("--lanes", default="1,2,4,8,16,32,64")
    parser.add_argument("--lane-baud", type=int, default=115200)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--baud", type=int, default=115200, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, args.baud)
        return 0
    print(f"Python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.platform()}")
    print()
    print(f"{'baud':>7} {'bytes':>6} {'time ms':>9} {'floor ms':>9} {'ratio':>7}")
    for baudrate in (9600, 115200):
        row = speed(baudrate, args.sales)
        print(f"{row['baud']:>7} {row['bytes']:>6} {row['time_ms']:>9.1f} "
              f"{row['floor_ms']:>9.1f} {row['ratio']:>7.3f}", flush=True)
    print()
    print(f"lanes at {args.lane_baud} baud, {args.sales} sales each")
    print(f"{'lanes':>5} {'sales':>6} {'errors':>6} {'wall s':>7} {'sales/s':>8} {'p95 ms':>8}")
    failed = False
    for count in (int(n) for n in args.lanes.split(",")):
        row = lanes(count, args.sales, args.lane_baud)
        failed |= bool(row["errors"])
        print(f"{row['lanes']:>5} {row['sales']:>6} {row['errors']:>6} {row['wall_s']:>7.2f} "
              f"{row['per_s']:>8.1f} {row['p95_ms']:>8.1f}"
              + (f"  {row['first_error'][0]}" if row["first_error"] else ""), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
