"""A supervisor's password authorises one void, refund or settlement, in the library too.

Driven through :class:`~terminal.transactions.client.TerminalClient` as a POS
that uses the library (no CLI) does, against the simulator with its books and the
journal in files: a refusal sends nothing and books nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from terminal.journal import audit
from terminal.journal.chain import verify
from terminal.journal.entry import EntryState
from terminal.journal.store import GrantUsed
from terminal.operators import Operators, Role
from terminal.protocol.catalogue import Kind
from terminal.protocol.message import Message
from terminal.transactions.rules import GRANT_WINDOW, Refused, Rule

LANE = "10008060"
ACTIONS = ("void", "refund", "preauth void", "settle", "operator-add")
AUTHORISED_AT = datetime(2026, 11, 28, 10, 0, 0)


def staff(rig, now=AUTHORISED_AT):
    """The lane's admin, supervisor and cashier, with their passwords (``now``: when they act)."""
    ops = Operators(rig.journal, LANE, now=now)
    if ops.get("boss") is None:
        ops.add("boss", Role.ADMIN, "admin-pw", by=None)
        ops.add("sue", Role.SUPERVISOR, "sup-pw", by="boss")
        ops.add("carl", Role.CASHIER, "cash-pw", by="boss")
    return ops


def authorise(rig, action, now=AUTHORISED_AT, name="sue"):
    return staff(rig, now).authorise(name, "sup-pw", role=Role.SUPERVISOR, action=action,
                                     operator="carl")


def a_sale(rig, amount_fen=1000):
    with rig.client(operator="carl") as client:
        return client.sale(amount_fen)


def refused(rig, action):
    """``action`` on a fresh client is refused as needs-supervisor with nothing sent or booked."""
    books, sent = rig.ledger_size(), rig.sent
    with rig.client(operator="carl") as client, pytest.raises(Refused) as caught:
        action(client)
    assert caught.value.rule is Rule.NEEDS_SUPERVISOR, caught.value
    assert rig.sent == sent, "a request went out without the supervisor's authorisation"
    assert rig.ledger_size() == books
    return caught.value


def last_audit(rig):
    """The newest row of the audit table (the trail merges in the entries too)."""
    records = [r for r in audit.trail(rig.journal.connection) if r.action in ACTIONS]
    return records[-1]


def grant_rows(rig):
    return rig.journal.connection.execute(
        "SELECT id, action, authorised_by, entry_id FROM audit WHERE outcome = 'authorised'"
        " ORDER BY id").fetchall()


@pytest.fixture
def sold(rig):
    """A staffed lane with one approved sale, rung up a minute after the supervisor's time."""
    staff(rig)
    rig.now = AUTHORISED_AT + timedelta(minutes=1)
    sale = a_sale(rig)
    assert sale.approved
    return sale


def test_a_refund_named_with_a_supervisor_who_gave_no_password_is_refused_and_audited(rig, sold):
    error = refused(rig, lambda c: c.refund(400, rrn=sold.rrn, reason="returned",
                                            supervisor="sue"))
    assert "sue's password" in str(error)
    record = last_audit(rig)
    assert (record.operator, record.action, record.authorised_by, record.outcome) == (
        "carl", "refund", "sue", "needs-supervisor")
    assert [e.kind for e in rig.journal.entries()] == [Kind.SIGN_ON, Kind.SALE]


def test_a_void_naming_no_supervisor_is_refused(rig, sold):
    refused(rig, lambda c: c.void(rrn=sold.rrn))
    assert last_audit(rig).authorised_by is None


def test_a_grant_authorises_one_transaction_and_the_audit_trail_names_it(rig, sold):
    authorise(rig, "refund", now=rig.now)
    with rig.client(operator="carl") as client:
        first = client.refund(400, rrn=sold.rrn, reason="returned", supervisor="sue")
    assert first.approved
    ((_, action, by, entry_id),) = grant_rows(rig)
    assert (action, by, entry_id) == ("refund", "sue", first.journal_id)
    refused(rig, lambda c: c.refund(100, rrn=sold.rrn, reason="returned", supervisor="sue"))
    assert rig.journal.get(first.journal_id).supervisor == "sue"
    assert verify(rig.journal.connection).ok  # spending the grant is chained like any write


def test_a_grant_for_a_void_does_not_authorise_a_refund(rig, sold):
    authorise(rig, "void", now=rig.now)
    refused(rig, lambda c: c.refund(400, rrn=sold.rrn, reason="returned", supervisor="sue"))
    with rig.client(operator="carl") as client:
        assert client.void(rrn=sold.rrn, supervisor="sue").approved


def test_another_supervisors_grant_does_not_authorise_this_one(rig, sold):
    staff(rig).add("sam", Role.SUPERVISOR, "sam-pw", by="boss")
    staff(rig, rig.now).authorise("sam", "sam-pw", role=Role.SUPERVISOR, action="void")
    refused(rig, lambda c: c.void(rrn=sold.rrn, supervisor="sue"))


@pytest.mark.parametrize(("after", "good"), [
    (GRANT_WINDOW - timedelta(seconds=1), True),
    (GRANT_WINDOW + timedelta(seconds=1), False),
    (timedelta(seconds=-60), False),  # written "later" than now: the clock was set back
])
def test_a_grant_is_good_only_within_its_window(rig, sold, after, good):
    authorise(rig, "void", now=AUTHORISED_AT)
    rig.now = AUTHORISED_AT + after
    if good:
        with rig.client(operator="carl") as client:
            assert client.void(rrn=sold.rrn, supervisor="sue").approved
    else:
        refused(rig, lambda c: c.void(rrn=sold.rrn, supervisor="sue"))


def test_a_name_that_is_nobody_here_is_refused_without_being_written_down(rig, sold):
    refused(rig, lambda c: c.void(rrn=sold.rrn, supervisor="someone-else"))
    record = last_audit(rig)
    assert record.outcome == "needs-supervisor" and record.authorised_by is None
    assert "someone-else" not in (record.detail or "")


def test_a_lane_without_operators_asks_for_no_grant(rig):
    sale = a_sale(rig)
    with rig.client() as client:
        assert client.refund(400, rrn=sale.rrn, reason="returned").approved
    assert grant_rows(rig) == []


def test_a_settlement_spends_a_grant_and_journals_who_settled_and_who_authorised(rig, sold):
    refused(rig, lambda c: c.settle())
    authorise(rig, "settle", now=rig.now)
    with rig.client(operator="carl") as client:
        result = client.settle(supervisor="sue")
    assert result.approved
    settlement = rig.journal.get(result.journal_id)
    assert (settlement.kind, settlement.operator, settlement.supervisor) == (
        Kind.SETTLEMENT, "carl", "sue")
    assert grant_rows(rig)[-1]["entry_id"] == result.journal_id


def test_a_grant_spent_meanwhile_by_another_transaction_records_and_sends_nothing(rig, sold):
    authorise(rig, "void", now=rig.now)
    ((grant, *_),) = grant_rows(rig)
    with rig.client(operator="carl") as client:
        found = client.rules.authorisation(Kind.VOID, "sue", operator="carl", now=rig.now)
        assert found == grant
        rig.journal.connection.execute(  # another till spends it first
            "UPDATE audit SET entry_id = ? WHERE id = ?", (sold.journal_id, grant))
        entries = len(rig.journal.entries())
        with pytest.raises(GrantUsed):
            rig.journal.begin(LANE, Kind.ECHO, lambda t, b: Message("0820", {11: t}),
                              now=rig.now, grant=grant)
    assert len(rig.journal.entries()) == entries
    assert rig.journal.get(sold.journal_id).state is EntryState.APPROVED
