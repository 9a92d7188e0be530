"""The chaos matrix (benchmarks/chaos.py) as a test: every cell recovers, and it sees money astray.

Every money-moving transaction × every fault point × every fault kind the
scenario checks allow, one test per cell, so a failure names its kind, point and
fault. After issue 8's recovery (the POS restarted until it converges), each
cell must leave nothing in doubt, the journal and the simulator's books agreeing
amount by amount, every failure said clearly, and its fault must have struck
where it was aimed. What was in doubt must be settled the way its kind is
recovered: a reversal, or a refund sent again (never reversed), and a fault costs
recovery no failed attempt beyond the one it struck.

The cells' SQLite files go to a RAM disk where there is one: both books are
opened ``synchronous=FULL``, and on a loaded disk the fsyncs cost several times
the cells' own work. The files stay real SQLite files; what is under test here is
the money in them, not their durability (the journal's own tests cover that).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path

import pytest

from benchmarks import chaos

CELLS = chaos.cells()
# How each kind's in-doubt entries must be settled: the last step of its recovery.
_REVERSED = ("reversal reversed 00", "reversal not-booked 25")
_SETTLED_BY = {kind: ("resend answered 00",) if kind == "refund" else _REVERSED
               for kind in chaos.KINDS}
_RAM_DISK = Path("/dev/shm")


@pytest.fixture(scope="module")
def run_cell(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., chaos.Cell]]:
    """Runs a cell once (the summary tests reuse the per-cell tests' results)."""
    base = _RAM_DISK if _RAM_DISK.is_dir() and _writable(_RAM_DISK) else None
    with tempfile.TemporaryDirectory(prefix="chaos-", dir=base or tmp_path_factory.getbasetemp()
                                     ) as root:

        @cache
        def run(kind: str, point: str, fault: str) -> chaos.Cell:
            folder = Path(root) / f"{kind}-{point}-{fault}"
            folder.mkdir()
            return chaos.run_cell(kind, point, fault, folder)

        yield run


@pytest.mark.parametrize(("kind", "point", "fault"), CELLS,
                         ids=[f"{k}-{p}-{f}" for k, p, f in CELLS])
def test_the_cell_recovers_with_nothing_in_doubt_and_no_money_astray(run_cell, kind, point,
                                                                      fault):
    cell = run_cell(kind, point, fault)
    assert (cell.verdict, cell.problems + cell.open) == ("ok", []), cell.outcome
    if cell.outcome.startswith("in doubt"):
        assert cell.outcome.endswith(_SETTLED_BY[kind]), cell.outcome
        if kind == "refund":
            assert "reversal" not in cell.outcome
    # One fault costs recovery at most one failed attempt (the one it struck).
    assert cell.outcome.count(" retry") <= (1 if point == "reversal" else 0), cell.outcome


def test_every_kind_has_cells_left_in_doubt_that_recovery_had_to_settle(run_cell):
    # The faults bite: in each row, the cells whose fault leaves the POS without an
    # answer (lost, late, crossed or unverifiable responses, a dead line, a restart).
    for kind in chaos.KINDS:
        in_doubt = [c for c in (run_cell(*cell) for cell in CELLS if cell[0] == kind)
                    if c.outcome.startswith("in doubt")]
        assert len(in_doubt) >= 15, kind
        # After the response (pos_ack) the POS has its answer: nothing there is in doubt.
        assert {c.point for c in in_doubt} == set(chaos.POINTS) - {"pos_ack"}, kind


def test_the_matrix_covers_every_kind_point_and_the_faults_each_point_allows():
    assert {kind for kind, _, _ in CELLS} == set(chaos.KINDS)
    assert len(CELLS) == len(chaos.KINDS) * len(chaos.cells(("sale",))) == 217
    found = chaos.cells(("sale",))
    assert {point for _, point, _ in found} == set(chaos.POINTS)
    assert ("sale", "response", "late_response") in found
    assert ("sale", "request", "late_response") not in found  # refused by the scenario checks


def test_a_booked_sale_the_journal_does_not_know_is_reported_as_astray(tmp_path):
    from terminal.journal import Journal

    cell = chaos.Cell("sale", "response", "drop")

    class Books:
        class device:
            class ledger:
                @staticmethod
                def entries():
                    from datetime import datetime

                    from simulator.ledger import LedgerEntry

                    return [LedgerEntry(datetime(2025, 1, 1), "000001", "000001", "1", "A",
                                        "0200", "000000", 1500, "00", "approved",
                                        "622609******0048", 0, delta=-1500)]

    journal = Journal(tmp_path / "j.sqlite")
    try:
        chaos._compare(journal, Books(), cell)
    finally:
        journal.close()
    assert cell.verdict == "FAIL" and "books [('sale', '000001', 1500)]" in cell.problems[0]


def test_a_fault_that_never_struck_where_the_cell_aims_it_fails_the_cell():
    from types import SimpleNamespace

    from simulator.faults import FaultEvent, FaultKind, Point

    injector = SimpleNamespace(events=[FaultEvent(0.0, FaultKind.DELAY, Point.REQUEST, 4,
                                                  "0200")])
    missed = chaos.Cell("sale", "request", "delay")
    chaos._check_struck(injector, missed, 3)  # struck exchange 4, the cell aims at 3
    assert missed.verdict == "FAIL" and "never struck request of exchange 3" in missed.problems[0]
    not_a_reversal = chaos.Cell("sale", "reversal", "delay")
    chaos._check_struck(injector, not_a_reversal, 3)  # the recovery's send was no 0400
    assert not_a_reversal.problems == ["the delay fault struck 0200, not the reversal"]
    resent_refund = chaos.Cell("refund", "reversal", "delay")
    chaos._check_struck(injector, resent_refund, 3)  # a refund is recovered by itself again
    assert resent_refund.ok


def _writable(folder: Path) -> bool:
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False
