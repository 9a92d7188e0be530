"""The chaos matrix: every money-moving transaction × fault point × fault kind, books compared.

Run: ``.venv/bin/python benchmarks/chaos.py [--kinds sale,void] [--faults drop,late_response]``.

Each cell is a fresh POS (the real client on a journal, signed on, so every money
message carries a MAC) and a fresh simulated terminal (SQLite books) joined by
``sim://`` on a fake clock, with one fault of
the scenario language at one point of the exchange under test:

* ``request``  — the POS's request frame (before the terminal's ACK);
* ``ack``      — the terminal's ACK of it;
* ``response`` — the terminal's response frame (before the POS has it);
* ``pos_ack``  — the POS's ACK of the response (after the response);
* ``reversal`` — the recovery of an in-doubt original (the original's response is
  made late so that there is one): the fault strikes the first recovery exchange,
  the 0400 (a refund, never reversed, is sent again instead: that resend).

Each fault is written as the scenario language says it, pinned to its exchange;
kinds that hit every frame at their point (delay, no_ack, late_response) hit the
link resends of that exchange and nothing after it (the injector counts identical
data after the link's duplicate window as a new exchange). A cell whose fault
never struck where it was aimed FAILs: it would prove nothing.

Recovery is what a shop's POS does (issue 8): every money command, and
``terminal recover``, first runs :func:`terminal.transactions.recovery.recover`
over the journal's store-and-forward queue — in-doubt reversible entries are
reversed (a 25 answer: never booked), refunds are resent unchanged. The harness
restarts the POS (a fresh client on the same journal and port) ``retry_seconds``
later, again and again, until a round has nothing left to do or the attempts
run out; then ``terminal recover`` (on demand, flagged rows too) once more.

After recovery each cell asserts: the journal holds nothing unknown (no pending
or in-doubt entry); the journal's approved money entries equal the simulator's
booked, unreversed ones, kind, trace and amount each; and every failure the POS
saw came as a clear message (an in-doubt error naming its trace). A cell left
with an entry in doubt whose books otherwise agree is OPEN (recovery did not
converge); one whose books disagree beyond that is FAIL. Exit 1 on any FAIL.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import serial

from simulator import SimulatedTerminal, SimulatorSettings
from simulator.faults import FaultInjector, FaultKind, Point, ScenarioError, parse_scenario
from terminal.clock import FakeClock
from terminal.config import TerminalSettings
from terminal.errors import TerminalError
from terminal.journal import EntryState, Journal
from terminal.link import LinkTimers, SerialLink
from terminal.protocol.catalogue import Kind
from terminal.transactions.client import Security, TerminalClient
from terminal.transactions.errors import TransactionInDoubt
from terminal.transactions.recovery import RecoveryLimits, recover

__all__ = ["KINDS", "POINTS", "Cell", "matrix", "run_cell"]

KEY = b"c" * 32
AMOUNT = 1500
#: The money-moving transactions and how to make one (after its original, if any).
KINDS: dict[str, Callable[[TerminalClient, dict[str, Any]], Any]] = {
    "sale": lambda c, o: c.sale(AMOUNT),
    "void": lambda c, o: c.void(rrn=o["sale"].rrn),
    "refund": lambda c, o: c.refund(500, rrn=o["sale"].rrn),
    "preauth": lambda c, o: c.preauth(AMOUNT),
    "preauth_cancel": lambda c, o: c.preauth_cancel(rrn=o["preauth"].rrn),
    "preauth_complete": lambda c, o: c.preauth_complete(AMOUNT, rrn=o["preauth"].rrn),
    "completion_void": lambda c, o: c.completion_void(rrn=o["completion"].rrn),
}
# The originals each needs, made before the fault is armed.
_SETUP: dict[str, tuple[str, ...]] = {
    "sale": (), "preauth": (),
    "void": ("sale",), "refund": ("sale",),
    "preauth_cancel": ("preauth",), "preauth_complete": ("preauth",),
    "completion_void": ("preauth", "completion"),
}
POINTS = ("request", "ack", "response", "pos_ack", "reversal")
FAULTS = tuple(k.value for k in FaultKind if k is not FaultKind.PAPER_OUT)
_SECONDS = {"delay": 5.0, "disconnect": 5.0, "power_cycle": 3.0}
#: What recovers each in-doubt kind: its reversal (a 0400), or, for a refund, itself again.
_RESENT = ("refund",)
_REVERSAL_MTI = "0400"
#: The smallest step of the clock towards a deadline (one already due still moves it).
_MIN_STEP = 1e-4
#: The shop's recovery settings (the ``[recovery]`` defaults).
LIMITS = RecoveryLimits()
_EPOCH = datetime(2026, 1, 5, 9, 0)


@dataclass
class Cell:
    """One cell's result: what the POS saw, whether the books agree, and why not."""

    kind: str
    point: str
    fault: str
    outcome: str = ""  # approved, declined, in doubt → reversal 00, ...
    problems: list[str] = field(default_factory=list)  # money astray, unclear messages
    open: list[str] = field(default_factory=list)  # left in doubt: needs automatic recovery
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems and not self.open

    @property
    def verdict(self) -> str:
        """``ok``; ``OPEN`` (in doubt, journal and books agree otherwise); ``FAIL``."""
        return "FAIL" if self.problems else ("OPEN" if self.open else "ok")


def cells(kinds: tuple[str, ...] = tuple(KINDS), faults: tuple[str, ...] = FAULTS
          ) -> list[tuple[str, str, str]]:
    """Every (kind, point, fault) the scenario language allows (faults checked at load)."""
    found = []
    for kind in kinds:
        for point in POINTS:
            for fault in faults:
                try:
                    _scenario(fault, point, 2 + len(_SETUP[kind]))
                except ScenarioError:
                    continue
                found.append((kind, point, fault))
    return found


def run_cell(kind: str, point: str, fault: str, folder: Path) -> Cell:
    cell = Cell(kind, point, fault)
    started = time.perf_counter()
    clock = FakeClock(1000.0)
    timers = LinkTimers()
    settings = SimulatorSettings(ledger_file=folder / "books.sqlite", link=timers)
    built: list[SimulatedTerminal] = []

    def build() -> SimulatedTerminal:
        built.append(SimulatedTerminal(settings, clock=clock))
        return built[-1]

    exchange = 2 + len(_SETUP[kind])  # after the sign-on and the originals
    injector = FaultInjector(build(), _scenario(fault, point, exchange), clock=clock,
                             restart=build)
    journal = Journal(folder / "journal.sqlite")
    port = serial.serial_for_url("sim://", simulator=injector, clock=clock, timeout=0.05)

    def wall() -> datetime:
        """The fake clock as a date: recovery's retry intervals pass when the clock does."""
        return _EPOCH + timedelta(seconds=clock.now())

    def start_pos() -> TerminalClient:
        """A POS (re)started on the same journal and port; working keys come from the journal."""
        return TerminalClient(SerialLink(port, timers, clock), TerminalSettings(),
                              journal=journal, token_key=KEY, security=Security(),
                              response_timeout=timers.response_timeout, clock=clock,
                              wall_time=wall)

    try:
        client = start_pos()
        assert client.sign_on().approved  # working keys: every money message is MACed
        originals: dict[str, Any] = {}
        for name in _SETUP[kind]:
            make = KINDS[name] if name != "completion" else KINDS["preauth_complete"]
            originals[name] = make(client, originals)
            assert originals[name].approved, f"setup {name}: {originals[name].response}"
        cell.outcome = _run(client, KINDS[kind], originals, cell)
        if cell.outcome != "error":
            cell.outcome += _recover(start_pos, journal, clock, port, cell)
        # Let every fault run its course (a terminal switched off comes back on).
        _let_time_pass(clock, port, 60.0)
        _compare(journal, injector, cell)
        _check_struck(injector, cell, exchange)
    except Exception as exc:  # a harness or setup failure is a failed cell, not a crash
        cell.problems.append(f"{type(exc).__name__}: {exc}")
    finally:
        port.close()
        journal.close()
        for terminal in built:
            terminal.ledger.close()
    cell.seconds = time.perf_counter() - started
    return cell


def _scenario(fault: str, point: str, exchange: int):
    """One fault of the scenario language at ``point`` of the ``exchange``-th exchange.

    At the ``reversal`` point the original's answer is made late (so the POS must
    recover it) and the fault strikes the next exchange, the recovery's first send.
    """
    entry: dict[str, Any] = {"kind": fault}
    if fault in _SECONDS:
        entry["seconds"] = _SECONDS[fault]
    faults = []
    if point == "reversal":
        faults.append({"kind": "late_response", "exchange": exchange})
        entry.update(exchange=exchange + 1, point=_reversal_point(fault).value)
    else:
        entry.update(exchange=exchange, point=point)
    faults.append(entry)
    return parse_scenario({"version": 1, "name": f"{fault}@{point}", "faults": faults})


def _reversal_point(fault: str) -> Point:
    """Where a fault strikes the recovery's request: on the frame itself if it may."""
    return Point.ACK if fault == FaultKind.NO_ACK.value else Point.REQUEST


def _check_struck(injector: FaultInjector, cell: Cell, exchange: int) -> None:
    """The fault under test must have struck where the cell aims it, or the cell proves nothing."""
    if cell.point == "reversal":
        exchange, point = exchange + 1, _reversal_point(cell.fault)
    else:
        point = Point(cell.point)
    struck = [e for e in injector.events
              if e.kind.value == cell.fault and e.point is point and e.exchange == exchange]
    if not struck:
        cell.problems.append(f"the {cell.fault} fault never struck {point.value} of "
                             f"exchange {exchange}")
    elif cell.point == "reversal" and cell.kind not in _RESENT and any(
            e.mti != _REVERSAL_MTI for e in struck):
        cell.problems.append(f"the {cell.fault} fault struck {struck[0].mti}, not the reversal")


def _run(client, make, originals, cell: Cell) -> str:
    """The transaction under test; an in-doubt failure must name its trace."""
    try:
        result = make(client, originals)
        return "approved" if result.approved else f"declined {result.response.code}"
    except TransactionInDoubt as exc:
        if not exc.trace or (str(exc.trace) not in str(exc) and "trace" not in str(exc)):
            cell.problems.append(f"in-doubt message names no trace: {exc}")
        return "in doubt"
    except TerminalError as exc:
        cell.problems.append(f"unclear failure {type(exc).__name__}: {exc}")
        return "error"


def _recover(start_pos, journal: Journal, clock: FakeClock, port: serial.SerialBase,
             cell: Cell) -> str:
    """Restart the POS ``retry_seconds`` apart, each start running recovery first, until a
    start finds nothing to do; then ``terminal recover`` once on demand if anything is left.

    Each outcome must name its trace (what the operator reads on stderr), and every
    unresolved one must say why.
    """
    said = []
    rounds = [False] * (LIMITS.max_attempts + 1) + [True]
    for on_demand in rounds:
        _let_time_pass(clock, port, LIMITS.retry_seconds + 1.0)  # the POS restarted later
        if on_demand and not _open_entries(journal):
            break
        outcomes = recover(start_pos(), limits=LIMITS, on_demand=on_demand)
        for o in outcomes:
            if not o.trace or (not o.resolved and not o.error):
                cell.problems.append(f"unclear recovery message: {o}")
            said.append(f"{o.action} {o.outcome}" + (f" {o.response_code}"
                                                      if o.response_code else ""))
        if not outcomes and not on_demand:
            break
    return "".join(f" → {s}" for s in said)


def _let_time_pass(clock: FakeClock, port: serial.SerialBase, seconds: float) -> None:
    """Move the clock on while the POS is not reading, as a running terminal lives it.

    The terminal wakes at each of its deadlines (a held frame arrives, a resend
    is due, power comes back), and what it sends waits in the POS's input buffer
    (``in_waiting`` pumps the line), instead of everything that fell due in
    between happening at once when the clock has jumped.
    """
    end = clock.now() + seconds
    while True:
        _ = port.in_waiting  # run the terminal's due timers; its output waits in the buffer
        deadline = port.simulator.next_deadline()
        if deadline is None or deadline > end:
            break
        clock.advance(max(deadline - clock.now(), _MIN_STEP))
    clock.advance(max(end - clock.now(), 0.0))
    _ = port.in_waiting


def _open_entries(journal: Journal) -> list[Any]:
    return [e for e in journal.entries() if e.state in (EntryState.PENDING, EntryState.IN_DOUBT)]


def _compare(journal: Journal, injector: FaultInjector, cell: Cell) -> None:
    """Journal against books; an entry the journal holds in doubt is open, not astray."""
    entries = journal.entries()
    unknown = [e for e in entries if e.state in (EntryState.PENDING, EntryState.IN_DOUBT)]
    cell.open += [f"{e.kind.value} {e.trace} {e.state.value}" for e in unknown]
    device = injector.device
    if device is None:
        cell.problems.append("terminal still switched off")
        return
    doubtful = {(e.kind.value, e.trace) for e in unknown}
    for e in unknown:  # an in-doubt reversal leaves its original's fate open too
        if e.kind is Kind.REVERSAL and e.original_trace:
            doubtful |= {(o.kind.value, o.trace) for o in entries if o.trace == e.original_trace}
    host = Counter((e.kind.value, e.trace, e.amount_fen) for e in entries
                   if e.state is EntryState.APPROVED and e.kind is not Kind.REVERSAL
                   and e.type.effect.value != "none")
    books = Counter((e.kind, e.trace, e.amount) for e in device.ledger.entries()
                    if e.approved and not e.reversed and e.kind != Kind.REVERSAL.value
                    and e.effect.value != "none")
    astray = [k for k in (host - books) + (books - host) if (k[0], k[1]) not in doubtful]
    if astray:
        cell.problems.append(f"journal and books disagree: journal {sorted(host - books)}, "
                             f"books {sorted(books - host)}")


def matrix(kinds: tuple[str, ...] = tuple(KINDS), faults: tuple[str, ...] = FAULTS,
           progress: Callable[[Cell], None] | None = None) -> list[Cell]:
    results = []
    for kind, point, fault in cells(kinds, faults):
        with TemporaryDirectory(prefix="chaos-") as folder:
            cell = run_cell(kind, point, fault, Path(folder))
        results.append(cell)
        if progress:
            progress(cell)
    return results


def print_table(results: list[Cell], out: Callable[[str], None] = print) -> None:
    kinds = sorted({c.kind for c in results}, key=list(KINDS).index)
    verdicts = Counter(c.verdict for c in results)
    out(f"{len(results)} cells: {verdicts['ok']} ok, {verdicts['OPEN']} open (left in doubt, "
        f"books otherwise agree), {verdicts['FAIL']} fail (money astray or unclear)")
    out("")
    out(f"{'point / fault':<30}" + "".join(f"{k[:10]:>11}" for k in kinds))
    by = {(c.kind, c.point, c.fault): c for c in results}
    for point in POINTS:
        for fault in FAULTS:
            row = [by.get((k, point, fault)) for k in kinds]
            if not any(row):
                continue
            marks = "".join(f"{'-' if c is None else c.verdict:>11}" for c in row)
            out(f"{point + ' / ' + fault:<30}{marks}")
    failed = [c for c in results if not c.ok]
    if failed:
        out("")
        for c in failed:
            out(f"{c.verdict} {c.kind} {c.point} {c.fault}: {c.outcome}; "
                f"{'; '.join(c.problems + c.open)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--faults", default=",".join(FAULTS))
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)  # every cell's in-doubt warning would bury the table
    started = time.perf_counter()
    results = matrix(tuple(args.kinds.split(",")), tuple(args.faults.split(",")),
                     progress=lambda c: print(".", end="", flush=True, file=sys.stderr))
    print(file=sys.stderr)
    print_table(results)
    print(f"\n{time.perf_counter() - started:.1f} s")
    return 0 if not any(c.problems for c in results) else 1


if __name__ == "__main__":
    sys.exit(main())
