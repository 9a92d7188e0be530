"""The host's refund and void rules: each broken once, refused before anything is sent."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from terminal.journal.entry import EntryState
from terminal.transactions.errors import CardAlarm
from terminal.transactions.rules import Refused, Rule


def refused(rig, action, card="approved"):
    """Run ``action`` on a fresh client; it must be refused with nothing on the wire."""
    books = rig.ledger_size()
    sent = rig.sent
    with rig.client(card) as client, pytest.raises(Refused) as caught:
        action(client)
    assert rig.sent == sent, "the host sent a request it should have refused"
    assert rig.ledger_size() == books
    return caught.value


def sale(rig, amount_fen=1000, card="approved"):
    with rig.client(card) as client:
        return client.sale(amount_fen)


def test_void_of_an_unknown_rrn_is_refused_as_original_not_found(rig):
    error = refused(rig, lambda c: c.void(rrn="999999999999"))
    assert error.rule is Rule.ORIGINAL_NOT_FOUND
    assert error.to_dict()["refused"] is True


def test_refund_of_a_declined_sale_is_refused_as_original_not_approved(rig):
    declined = sale(rig, card="expired")
    assert not declined.approved
    error = refused(rig, lambda c: c.refund(100, trace=declined.trace, reason="returned"))
    assert error.rule is Rule.ORIGINAL_NOT_APPROVED


def test_partial_refunds_repeat_until_nothing_is_left_then_are_refused(rig):
    paid = sale(rig, 1000)
    for part in (600, 400):
        with rig.client() as client:
            assert client.refund(part, rrn=paid.rrn, reason="returned").approved
    error = refused(rig, lambda c: c.refund(1, rrn=paid.rrn, reason="returned"))
    assert error.rule is Rule.OVER_REFUNDABLE
    assert (error.facts["refundable_fen"], error.facts["refunded_fen"]) == (0, 1000)


def test_refund_over_the_remaining_amount_is_refused_with_what_is_left(rig):
    paid = sale(rig, 1000)
    with rig.client() as client:
        client.refund(300, rrn=paid.rrn, reason="wrong-amount")
    error = refused(rig, lambda c: c.refund(701, rrn=paid.rrn, reason="returned"))
    assert error.rule is Rule.OVER_REFUNDABLE
    assert error.facts["refundable_fen"] == 700
    assert "7.00" in error.message and "退货金额超过可退金额" in error.message


def test_refund_after_the_window_is_refused_as_outside_window(rig):
    start = datetime(2026, 1, 5, 10, 0, 0)
    rig.now = start
    paid = sale(rig)
    rig.now = start + timedelta(days=181)
    error = refused(rig, lambda c: c.refund(100, rrn=paid.rrn, reason="returned"))
    assert error.rule is Rule.OUTSIDE_WINDOW
    assert error.facts["age_days"] == 181 and error.facts["window_days"] == 180


def test_refund_on_the_last_day_of_the_window_is_sent(rig):
    start = datetime(2026, 1, 5, 10, 0, 0)
    rig.now = start
    paid = sale(rig)
    rig.now = start + timedelta(days=180)
    with rig.client() as client:
        assert client.refund(100, rrn=paid.rrn, reason="returned").approved


def test_second_void_is_refused_as_already_voided(rig):
    paid = sale(rig)
    with rig.client() as client:
        assert client.void(rrn=paid.rrn).approved
    assert refused(rig, lambda c: c.void(rrn=paid.rrn)).rule is Rule.ALREADY_VOIDED


def test_refund_of_a_voided_sale_is_refused_as_already_voided(rig):
    paid = sale(rig)
    with rig.client() as client:
        client.void(rrn=paid.rrn)
    error = refused(rig, lambda c: c.refund(100, rrn=paid.rrn, reason="returned"))
    assert error.rule is Rule.ALREADY_VOIDED and error.facts["refundable_fen"] == 0


def test_void_of_a_sale_with_a_refund_is_refused_as_has_refund(rig):
    paid = sale(rig)
    with rig.client() as client:
        client.refund(100, rrn=paid.rrn, reason="duplicate")
    assert refused(rig, lambda c: c.void(rrn=paid.rrn)).rule is Rule.HAS_REFUND


def test_void_of_a_settled_sale_is_refused_and_a_refund_offered(rig):
    paid = sale(rig)
    with rig.client() as client:
        assert client.settle().approved
    error = refused(rig, lambda c: c.void(rrn=paid.rrn))
    assert error.rule is Rule.SETTLED_BATCH and "refund it instead" in error.message
    with rig.client() as client:
        assert client.refund(paid.amount_fen, rrn=paid.rrn, reason="returned").approved


@pytest.mark.parametrize(("reason", "note"), [("other", None), ("because", None), ("", None)])
def test_refund_without_a_known_reason_is_refused(rig, reason, note):
    paid = sale(rig)
    error = refused(rig, lambda c: c.refund(100, rrn=paid.rrn, reason=reason, note=note))
    assert error.rule is Rule.BAD_REASON


def test_refund_reason_and_note_are_journaled(rig):
    paid = sale(rig)
    with rig.client() as client:
        result = client.refund(100, rrn=paid.rrn, reason="other", note="顾客投诉 damaged box")
    entry = rig.journal.get(result.journal_id)
    assert (entry.refund_reason, entry.refund_note) == ("other", "顾客投诉 damaged box")


def test_refund_approved_for_another_card_is_an_alarm_in_the_journal(rig):
    paid = sale(rig)
    _pretend_another_card_paid(rig, paid.journal_id)
    with rig.client() as client, pytest.raises(CardAlarm) as caught:
        client.refund(100, rrn=paid.rrn, reason="returned")
    entry = rig.journal.get(caught.value.result.journal_id)
    assert entry.alarm and "not the card that paid" in entry.alarm


def test_void_approved_for_another_card_is_reversed_at_once(rig):
    paid = sale(rig)
    _pretend_another_card_paid(rig, paid.journal_id)
    with rig.client() as client, pytest.raises(CardAlarm) as caught:
        client.void(rrn=paid.rrn)
    assert caught.value.reversal is not None and caught.value.reversal.approved
    void = rig.journal.get(caught.value.result.journal_id)
    assert void.state is EntryState.REVERSED and void.alarm


def _pretend_another_card_paid(rig, entry_id):
    """The acquirer refuses another card; to see the host's own check, the original's
    token is made another card's, so that the same card now counts as a stranger."""
    rig.journal.connection.execute(
        "UPDATE entries SET card_token = ? WHERE id = ?", (bytes(16), entry_id)
    )
