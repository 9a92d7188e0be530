"""A sale over a real pty on a paced line, against the line's floor; and lanes per host process.

Run: ``.venv/bin/python benchmarks/link.py [--sales 20] [--lanes 1,2,4,8,16,32,64]``.

1. Speed: one simulated terminal on a pty behind :class:`simulator.pacing.PacedLine`
   (bytes cost 10 bit times each way) at 9600 and 115200 baud, served by a
   process of its own, as a real terminal is a device of its own: in this
   process its threads would take turns with the host's on one GIL. The host
   runs sales through the real client, link and pyserial.

   The floor of a sale is its bytes on the wire (request frame, the terminal's
   ACK, response frame; not our last ACK, which the sale does not wait for)
   × 10 / baud, plus the simulated terminal's processing: the CPU
   time it took over the request (:class:`TimedDevice`) and its configured
   ``response_delay`` (0 here). The host's own work (building and journaling
   the request before it goes out, checking and journaling the answer after
   it is in) is not in the floor: it is part of what the ratio measures.
   The request's frame goes out but its last byte while the journal writes the
   request (:meth:`terminal.link.SerialLink.start`): that byte, the one the
   terminal acts on, waits for the commit, the rest overlaps it.

   Each line speed runs with the journal in memory (the host's CPU and the
   link alone) and in a file on this machine's disk (``synchronous=FULL``:
   the answer is on disk before the sale returns), which is what a shop runs:
   that row adds one wait for the disk per sale, and a slower disk adds more.

   Columns: the median sale time and its ratio to that sale's floor (median and
   the range over all sales); ``host ms`` the host's work before the first byte
   went out plus after the last byte came in; ``late`` the simulator's own
   lateness (how long after its last byte was in the serve loop handed the
   request to the terminal, and how long after the response's last byte was due
   it handed that over: the test rig's wake-ups, which a terminal's UART does not
   have); ``rest ms`` what is left of the time over the floor (the pty's and the
   host's wake-ups, scheduling); ``ratio*`` the ratio without the simulator's
   lateness: what the host and the OS add to the line (medians); CPU milliseconds per
   sale of the host process and of the simulator process; wake-ups of the
   simulator's serve loop per sale; ``queued`` the milliseconds the threads of
   both processes spent waiting for a CPU during a sale (Linux
   ``/proc/<pid>/task/*/schedstat``): near 0 on a quiet machine, and what
   other work on a shared one cost the sale.
2. Lanes: N simulated terminals, each on its own pty, served by a separate
   process; this process drives all N at once (a thread per lane, one journal
   each) at 115200 baud. Each lane opens its port and its journal first, as a
   host does once at the start of the day (a new journal's schema setup costs
   some 18 ms of CPU: counted into five sales it was most of the CPU column);
   the clock starts when all are open. The table gives, per N, the sales done,
   errors, the time all took to open (``open s``, not in the rest), wall time,
   throughput, the 95th-percentile sale time and the CPU milliseconds per sale
   of both processes together.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
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
    """A pyserial port that counts the bytes both ways and notes when the first byte of
    a sale went out and the last came in (the link sees the port unchanged).

    ``waited_bytes`` is what crossed the wire up to the last byte read: the sale
    waits for all of those, but not for its own last ACK, which goes out as the
    host finishes, so that one is not in the floor.
    """

    def __init__(self, port: Any) -> None:
        self._port = port
        self.bytes = 0
        self.waited_bytes = 0
        self.first_write: float | None = None
        self.last_read: float | None = None

    def reset(self) -> None:
        self.bytes = self.waited_bytes = 0
        self.first_write = self.last_read = None

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
        if data:
            self.last_read = time.perf_counter()
            self.bytes += len(data)
            self.waited_bytes = self.bytes
        return data

    def write(self, data: bytes) -> int | None:
        if self.first_write is None:
            self.first_write = time.perf_counter()
        self.bytes += len(data)
        return self._port.write(data)


def _client(port: Any, journal_path: str = ":memory:") -> tuple[TerminalClient, Journal]:
    journal = Journal(journal_path)
    client = TerminalClient(SerialLink(port), TerminalSettings(), journal=journal, token_key=KEY)
    return client, journal


#: A terminal is a device with a processor of its own: the simulated one gets a CPU of its
#: own (where the platform allows), so that its work and its wake-ups never queue behind
#: the host's on one core, which no real terminal would. The lanes table runs unpinned.
HOST_CPU, SIMULATOR_CPU = 0, 1
PINNED = hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) >= 2


def _own_cpu(cpu: int) -> bool:
    """Keep this process (and the threads it starts) on ``cpu``; False where that cannot
    be asked (not Linux, or fewer than two CPUs)."""
    if not PINNED:
        return False
    try:
        os.sched_setaffinity(0, {cpu})
    except OSError:
        return False
    return True


def run_delay(pid: int) -> float | None:
    """Seconds the threads of ``pid`` have waited for a CPU so far (``None``: not Linux)."""
    total = 0
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/schedstat") as stats:
                total += int(stats.read().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return total / 1e9


class Served:
    """The simulator process: ``count`` paced terminals on their own ptys, asked for figures
    over a pipe (their device CPU, the process's CPU and run-queue wait, loop wake-ups)."""

    def __init__(self, count: int, baudrate: int, *, pin: bool = False) -> None:
        self.child = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(count), "--baud", str(baudrate),
             *(["--pin"] if pin else [])],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        assert self.child.stdout is not None
        self.paths = self.child.stdout.readline().split()
        assert len(self.paths) == count, self.paths

    def figures(self) -> dict[str, float]:
        assert self.child.stdin is not None and self.child.stdout is not None
        self.child.stdin.write("figures\n")
        self.child.stdin.flush()
        figures: dict[str, float] = json.loads(self.child.stdout.readline())
        return figures

    def close(self) -> None:
        if self.child.stdin is not None:
            self.child.stdin.close()
        self.child.wait(30)

    def __enter__(self) -> Served:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class TimedDevice:
    """The simulated terminal, with the CPU time of its processing counted.

    Processing is what it does when fed the bytes of a request frame (decode,
    book, encode the response), in CPU time of the serving thread: what the
    terminal did, not what waiting for a CPU or a lock cost it. Lone ACK/NAK
    bytes between frames and the polls and reads while bytes are on the line
    are left out: the sale does not wait for them (they overlap the line or come
    after its end).
    It also counts its polls: the serve loop polls once each time it wakes, and
    ``late``: how long after its last byte was in (``at``, from the paced line) a
    request frame was handed to it, the serve loop's own wake-up latency.
    """

    def __init__(self, device: SimulatedTerminal) -> None:
        self.device = device
        self.clock = device.clock
        self.processing = 0.0
        self.polls = 0
        self.late = 0.0

    def feed(self, data: bytes, at: float | None = None) -> None:
        # A lone byte inside a frame counts: the host may write a frame's last byte on
        # its own (the link holds it while the journal commits), and the feed of that
        # byte is the one that decodes, books and answers.
        counts = len(data) > 1 or self.device.link.receiving
        handed = self.clock.now()
        started = time.thread_time()
        self.device.feed(data, at)
        if counts:
            self.processing += time.thread_time() - started
            if at is not None and not self.device.link.receiving:  # a frame ended here
                self.late += max(0.0, handed - at)

    def poll(self) -> None:
        self.polls += 1
        self.device.poll()

    def read_output(self) -> bytes:
        return self.device.read_output()

    def next_deadline(self) -> float | None:
        return self.device.next_deadline()

    def disconnected(self) -> None:
        self.device.disconnected()


class TimedLine(PacedLine):
    """The paced line, counting how late the serve loop handed over the last bytes of
    what the terminal sent (``late``): the moment a frame's end is due on the line,
    the loop should be writing it."""

    def __init__(self, device: TimedDevice, baudrate: int) -> None:
        super().__init__(device, baudrate)
        self.late = 0.0

    def read_output(self) -> bytes:
        queued, started = len(self._outbound), self._out_from
        now = self.clock.now()
        out = super().read_output()
        if out and queued == len(out) and not self._outbound:  # the end of what was queued
            self.late += max(0.0, now - (started + len(out) * self.byte_time))
        return out


def serve(count: int, baudrate: int, pin: bool) -> None:
    """(Child process) ``count`` paced terminals on their own ptys; paths on stdout, then
    one line of JSON figures for each line read on stdin, until stdin closes."""
    if pin:
        _own_cpu(SIMULATOR_CPU)
    settings = SimulatorSettings()
    devices = [TimedDevice(SimulatedTerminal(settings)) for _ in range(count)]
    lines = [TimedLine(d, baudrate) for d in devices]
    servers = [PtySimulator(line) for line in lines]
    for server in servers:
        server.start()
    print(" ".join(s.path for s in servers), flush=True)
    for _ in sys.stdin:
        figures = {
            "device_s": sum(d.processing for d in devices),
            "response_delay_s": settings.response_delay,
            "cpu_s": time.process_time(),
            "run_delay_s": run_delay(os.getpid()),
            "wakes": sum(d.polls for d in devices),
            "late_s": sum(d.late for d in devices) + sum(line.late for line in lines),
        }
        print(json.dumps(figures), flush=True)
    for server in servers:
        server.stop()
    for device in devices:
        device.device.ledger.close()


@dataclass
class Sale:
    time: float
    floor: float
    host: float
    host_cpu: float
    sim_cpu: float
    wakes: float
    run_delay: float | None
    sim_late: float

    @property
    def ratio(self) -> float:
        return self.time / self.floor

    @property
    def ratio_without_rig(self) -> float:
        """The ratio with the simulator's own lateness taken out (see ``late``)."""
        return (self.time - self.sim_late) / self.floor


def speed(baudrate: int, sales: int, journal_path: str) -> tuple[list[Sale], int]:
    """``sales`` sales on a ``baudrate`` line, each against its floor; and their bytes."""
    results: list[Sale] = []
    with (
        Served(1, baudrate, pin=PINNED) as served,
        serial.Serial(served.paths[0], timeout=0.05) as raw,
    ):
        port = CountingPort(raw)
        client, journal = _client(port, journal_path)
        try:
            client.sale(1)  # warm-up: imports, caches, the first trace
            for _ in range(sales):
                # The benchmark's own bookkeeping first (a pipe to the simulator, /proc),
                # then a pause: the previous sale's last ACK is in and handled, and the
                # sale starts from an idle host, not right behind our figures.
                before = served.figures()
                delay_before = run_delay(os.getpid())
                time.sleep(0.02)
                port.reset()
                cpu = time.process_time()
                started = time.perf_counter()
                result = client.sale(1)
                elapsed = time.perf_counter() - started
                cpu = time.process_time() - cpu
                delay_after = run_delay(os.getpid())
                assert result.approved, result.response
                assert port.first_write is not None and port.last_read is not None
                host = (port.first_write - started) + (started + elapsed - port.last_read)
                time.sleep(0.01)  # our last ACK crosses the line and is handled
                after = served.figures()
                wire = port.waited_bytes * BITS_PER_BYTE / baudrate
                floor = wire + after["device_s"] - before["device_s"] + after["response_delay_s"]
                waited = None
                if None not in (delay_before, delay_after, before["run_delay_s"]):
                    waited = (delay_after - delay_before  # type: ignore[operator]
                              + after["run_delay_s"] - before["run_delay_s"])
                results.append(Sale(
                    time=elapsed, floor=floor, host=host, host_cpu=cpu,
                    sim_cpu=after["cpu_s"] - before["cpu_s"],
                    wakes=after["wakes"] - before["wakes"], run_delay=waited,
                    sim_late=after["late_s"] - before["late_s"],
                ))
        finally:
            journal.close()
    return results, port.waited_bytes


def speed_row(baudrate: int, journal: str, sales: list[Sale], size: int) -> str:
    ratios = [s.ratio for s in sales]
    delays = [s.run_delay for s in sales if s.run_delay is not None]
    queued = f"{statistics.median(delays) * 1000:>6.2f}" if delays else f"{'-':>6}"

    def ms(values: Any) -> float:
        return statistics.median(values) * 1000

    return (
        f"{baudrate:>7} {journal:>7} {size:>5} {ms(s.floor for s in sales):>8.2f} "
        f"{ms(s.time for s in sales):>8.2f} {statistics.median(ratios):>6.3f} "
        f"{min(ratios):>6.3f}-{max(ratios):<6.3f} {ms(s.host for s in sales):>7.2f} "
        f"{ms(s.sim_late for s in sales):>5.2f} "
        f"{ms(s.time - s.floor - s.host - s.sim_late for s in sales):>7.2f} "
        f"{statistics.median(s.ratio_without_rig for s in sales):>6.3f} "
        f"{ms(s.host_cpu for s in sales):>6.2f}/{ms(s.sim_cpu for s in sales):<6.2f} "
        f"{statistics.median(s.wakes for s in sales):>5.0f} {queued}"
    )


# -- lanes -----------------------------------------------------------------------------


def lanes(count: int, sales: int, baudrate: int) -> dict[str, Any]:
    """``count`` lanes, each opened first (port, journal: a host does that once, at the start
    of the day), then all selling at once; the clock and the CPU count run from there."""
    with Served(count, baudrate) as served:
        times: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()
        opened = threading.Barrier(count + 1)

        def lane(path: str) -> None:
            try:
                with serial.Serial(path, timeout=0.05) as port:
                    client, journal = _client(port)
                    try:
                        opened.wait()
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
            except threading.BrokenBarrierError:
                return  # another lane could not open: counted there
            except Exception as exc:
                opened.abort()
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}")

        threads = [threading.Thread(target=lane, args=(p,)) for p in served.paths]
        opening = time.perf_counter()
        for thread in threads:
            thread.start()
        with contextlib.suppress(threading.BrokenBarrierError):  # a lane failed to open
            opened.wait()
        open_s = time.perf_counter() - opening
        before = served.figures()
        cpu = time.process_time()
        started = time.perf_counter()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu + served.figures()["cpu_s"] - before["cpu_s"]
    p95 = sorted(times)[int(0.95 * (len(times) - 1))] * 1000 if times else float("nan")
    return {"lanes": count, "sales": len(times), "errors": len(errors), "open_s": open_s,
            "wall_s": wall,
            "per_s": len(times) / wall, "p95_ms": p95, "first_error": errors[:1],
            "cpu_ms": cpu / max(1, len(times)) * 1000}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sales", type=int, default=20, help="sales per speed row")
    parser.add_argument("--lane-sales", type=int, default=20, help="sales per lane")
    parser.add_argument("--lanes", default="1,2,4,8,16,32,64")
    parser.add_argument("--lane-baud", type=int, default=115200)
    parser.add_argument("--bauds", default="9600,115200")
    parser.add_argument("--journals", default="memory,file",
                        help="memory: in-memory SQLite; file: a journal file on this disk")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--baud", type=int, default=115200, help=argparse.SUPPRESS)
    parser.add_argument("--pin", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, args.baud, args.pin)
        return 0
    print(f"Python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.platform()}")
    if hasattr(os, "getloadavg"):
        print("load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print()
    if args.bauds:
        everywhere = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
        pinned = _own_cpu(HOST_CPU)
        print(f"host on CPU {HOST_CPU}, simulated terminal on CPU {SIMULATOR_CPU}" if pinned
              else "host and simulated terminal share the CPUs (no affinity here)")
        print(f"a sale on a paced line, {args.sales} sales a row; ratio = time / floor")
        print(f"{'baud':>7} {'journal':>7} {'bytes':>5} {'floor ms':>8} {'time ms':>8} "
              f"{'ratio':>6} {'range':^13} {'host ms':>7} {'late':>5} {'rest ms':>7} {'ratio*':>6} "
              f"{'cpu ms host/sim':>13} {'wakes':>5} {'queued':>6}")
        for baudrate in (int(b) for b in args.bauds.split(",")):
            for kind in args.journals.split(","):
                with tempfile.TemporaryDirectory() as scratch:
                    path = ":memory:" if kind == "memory" else f"{scratch}/journal.sqlite3"
                    results, size = speed(baudrate, args.sales, path)
                print(speed_row(baudrate, kind, results, size), flush=True)
        if pinned and everywhere is not None:
            os.sched_setaffinity(0, everywhere)
        print()
    failed = False
    if args.lanes:
        print(f"lanes at {args.lane_baud} baud, {args.lane_sales} sales each")
        print(f"{'lanes':>5} {'sales':>6} {'errors':>6} {'open s':>7} {'wall s':>7} {'sales/s':>8} "
              f"{'p95 ms':>8} {'cpu ms/sale':>11}")
        for count in (int(n) for n in args.lanes.split(",")):
            row = lanes(count, args.lane_sales, args.lane_baud)
            failed |= bool(row["errors"])
            print(f"{row['lanes']:>5} {row['sales']:>6} {row['errors']:>6} {row['open_s']:>7.2f} "
                  f"{row['wall_s']:>7.2f} "
                  f"{row['per_s']:>8.1f} {row['p95_ms']:>8.1f} {row['cpu_ms']:>11.2f}"
                  + (f"  {row['first_error'][0]}" if row["first_error"] else ""), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
