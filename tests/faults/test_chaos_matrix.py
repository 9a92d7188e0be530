"""The chaos matrix harness (benchmarks/chaos.py): whole rows recover, and it sees money astray.

The full matrix (every money-moving kind) is the benchmark; its table is in the
notes. Here the rows of each way recovery settles an in-doubt entry: the sale
(a reversal) and the refund (resent unchanged, never reversed) whole, and the
completion of the whole hold (a reversal that moves no balance yet drops a
debit) for the faults that leave it in doubt at each point (the whole matrix
takes longer than a test should). After issue 8's recovery, restarted until it
converges, every fault at every point leaves nothing in doubt and the journal
and the simulator's books agreeing amount by amount.
"""

from __future__ import annotations

import pytest

from benchmarks import chaos

# How each row's in-doubt entries must be settled: the last step of its recovery.
_SETTLED_BY = {"sale": ("reversal reversed 00", "reversal not-booked 25"),
               "refund": ("resend answered 00",),
               "preauth_complete": ("reversal reversed 00", "reversal not-booked 25")}


_COMPLETION_FAULTS = ("late_response", "drop", "disconnect", "power_cycle")


@pytest.fixture(scope="module")
def rows():
    return (chaos.matrix(kinds=("sale", "refund"))
            + chaos.matrix(kinds=("preauth_complete",), faults=_COMPLETION_FAULTS))


def test_every_fault_in_the_rows_recovers_with_nothing_in_doubt_and_no_money_astray(rows):
    assert len(rows) == (len(chaos.cells(("sale", "refund")))
                         + len(chaos.cells(("preauth_complete",), _COMPLETION_FAULTS))) >= 70
    left = [(c.kind, c.point, c.fault, c.verdict, c.problems + c.open) for c in rows if not c.ok]
    assert left == []


def test_what_was_in_doubt_is_settled_by_reversal_or_by_resending_a_refund(rows):
    for kind, settled in _SETTLED_BY.items():
        in_doubt = [c for c in rows if c.kind == kind and c.outcome.startswith("in doubt")]
        assert len(in_doubt) >= (15 if kind != "preauth_complete" else 7), kind  # they bite
        for cell in in_doubt:
            assert cell.outcome.endswith(settled), (cell.point, cell.fault, cell.outcome)
        if kind == "refund":
            assert not any("reversal" in c.outcome for c in in_doubt)


def test_the_matrix_covers_every_point_and_the_faults_each_allows():
    found = chaos.cells(("sale",))
    points = {point for _, point, _ in found}
    assert points == set(chaos.POINTS)
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
