"""Write-ahead and recovery: nothing left unknown, nothing booked twice."""

from __future__ import annotations

import pytest
from sim_rig import money_in_books, money_in_journal

from terminal.errors import LinkTimeout
from terminal.journal import saf
from terminal.journal.entry import EntryState
from terminal.protocol.json_shape import message_from_json
from terminal.transactions.errors import TransactionInDoubt
from terminal.transactions.recovery import RecoveryLimits, recover


def queue_row(rig, entry_id):
    return saf.item_for(rig.journal.connection, entry_id)


def test_the_reversal_is_prepared_in_the_same_write_as_the_pending_row(rig):
    seen = {}

    class Inspecting:
        def __init__(self, link):
            self.link = link

        def send(self, data):
            row = rig.journal.connection.execute(
                "SELECT e.state, s.state, s.request FROM entries e JOIN saf s"
                " ON s.entry_id = e.id WHERE e.kind = 'sale'").fetchone()
            seen["at_send"] = tuple(row) if row else None
            self.link.send(data)

        def receive(self, timeout=None):
            return self.link.receive(timeout)

    with rig.client() as client:
        client.link = Inspecting(client.link)
        result = client.sale(1234)
    entry_state, queue_state, request = seen["at_send"]
    assert (entry_state, queue_state) == ("pending", "prepared")
    reversal = message_from_json(__import__("json").loads(request), "cup")
    assert reversal.mti == "0400" and reversal[11] == result.trace and reversal[4] == "000000001234"
    assert reversal[39] == "98"
    assert queue_row(rig, result.journal_id).state is saf.SafState.CLEARED


def test_a_sale_whose_answer_is_lost_is_reversed_by_recovery(rig):
    with rig.client(fault="lose-answer") as client, pytest.raises(TransactionInDoubt) as caught:
        client.sale(5000)
    entry = rig.journal.entries()[-1]
    assert entry.state is EntryState.IN_DOUBT and caught.value.trace == entry.trace
    assert queue_row(rig, entry.id).state is saf.SafState.QUEUED
    assert [e.kind for e in rig.ledger() if e.approved] == ["sale"]  # money moved there
    with rig.client() as client:
        outcomes = recover(client)
    assert [(o.journal_id, o.outcome) for o in outcomes] == [(entry.id, "reversed")]
    assert rig.journal.get(entry.id).state is EntryState.REVERSED
    assert money_in_journal(rig.journal) == money_in_books(rig.ledger()) == []


def test_a_refund_whose_answer_is_lost_is_resent_with_the_same_trace_never_reversed(rig):
    with rig.client() as client:
        paid = client.sale(1000)
    with rig.client(fault="lose-answer") as client, pytest.raises(TransactionInDoubt):
        client.refund(400, rrn=paid.rrn, reason="returned")
    refund = rig.journal.entries()[-1]
    with rig.client() as client:
        outcomes = recover(client)
    assert [(o.action, o.outcome, o.response_code) for o in outcomes] == [
        ("resend", "answered", "00")]
    assert rig.journal.get(refund.id).state is EntryState.APPROVED
    assert not [e for e in rig.ledger() if e.kind == "reversal"]
    refunds = [e for e in rig.ledger() if e.kind == "refund"]
    assert [(e.trace, e.amount) for e in refunds] == [(refund.trace, 400)]  # once, same trace
    assert money_in_journal(rig.journal) == money_in_books(rig.ledger())


def test_a_reversal_that_cannot_be_sent_is_retried_then_flagged(rig):
    limits = RecoveryLimits(max_attempts=2, retry_seconds=0.0)
    with rig.client(fault="lose-answer") as client, pytest.raises(TransactionInDoubt):
        client.sale(700)
    sale = rig.journal.entries()[-1]
    with rig.client(fault="down") as client:
        first = recover(client, limits=limits)
        second = recover(client, limits=limits)
        third = recover(client, limits=limits)
    assert [o.outcome for o in (*first, *second, *third)] == ["retry", "flagged", "flagged"]
    assert queue_row(rig, sale.id).attempts == 2  # flagged rows wait for the operator
    with rig.client() as client:
        assert [o.outcome for o in recover(client, limits=limits, on_demand=True)] == [
            "reversed"]
    assert money_in_journal(rig.journal) == money_in_books(rig.ledger()) == []


def test_retries_wait_for_their_interval_unless_asked_on_demand(rig):
    limits = RecoveryLimits(max_attempts=5, retry_seconds=3600.0)
    with rig.client(fault="lose-answer") as client, pytest.raises(TransactionInDoubt):
        client.sale(700)
    with rig.client(fault="down") as client:
        assert [o.outcome for o in recover(client, limits=limits)] == ["retry"]
        assert [o.outcome for o in recover(client, limits=limits)] == ["waiting"]
    with rig.client() as client:
        assert [o.outcome for o in recover(client, limits=limits, on_demand=True)] == [
            "reversed"]


def test_a_prepared_row_of_a_live_process_elsewhere_is_left_alone(rig):
    with rig.client(fault="lose-answer") as client, pytest.raises(TransactionInDoubt):
        client.sale(700)
    sale = rig.journal.entries()[-1]
    rig.journal.connection.execute(
        "UPDATE saf SET state = 'prepared', owner = 'till-2:1' WHERE entry_id = ?", (sale.id,))
    with rig.client() as client:
        assert recover(client) == []
        later = recover(client, limits=RecoveryLimits(stale_seconds=-1))
    assert [o.outcome for o in later] == ["reversed"]


def test_an_answered_exchange_whose_row_was_not_cleared_is_just_cleared(rig):
    with rig.client() as client:
        paid = client.sale(100)
    rig.journal.connection.execute(
        "UPDATE saf SET state = 'prepared', owner = 'gone:1' WHERE entry_id = ?",
        (paid.journal_id,))
    with rig.client() as client:
        outcomes = recover(client, limits=RecoveryLimits(stale_seconds=-1))
    assert [o.outcome for o in outcomes] == ["cleared"]
    assert rig.journal.get(paid.journal_id).state is EntryState.APPROVED


def test_an_echo_left_without_answer_is_abandoned_not_left_unknown(rig):
    with rig.client(fault="lose-answer") as client, pytest.raises(LinkTimeout):
        client.echo()
    with rig.client() as client:
        outcomes = recover(client)
    assert [(o.transaction, o.outcome) for o in outcomes] == [("echo", "abandoned")]
    assert {e.state for e in rig.journal.entries()} <= {
        EntryState.APPROVED, EntryState.ABANDONED}
