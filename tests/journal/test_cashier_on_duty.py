"""On a lane with operators only a current one rings up money, in the library too.

A POS that drives :class:`~terminal.transactions.client.TerminalClient` with its own
cashier ids gets the rule ``terminal sale --operator`` has: an unknown, removed or
locked id, or none, is refused before anything is journaled or sent, and audited
(naming only someone who is an operator of the lane). Recovery is never refused.
"""

from __future__ import annotations

import pytest

from terminal.journal import audit
from terminal.journal.entry import EntryState
from terminal.operators import MAX_FAILURES, Operators, Role
from terminal.protocol.catalogue import Kind
from terminal.transactions.rules import Refused, Rule

LANE = "10008060"


@pytest.fixture
def staff(rig):
    ops = Operators(rig.journal, LANE)
    ops.add("boss", Role.ADMIN, "admin-pw", by=None)
    ops.add("sue", Role.SUPERVISOR, "sup-pw", by="boss")
    ops.add("carl", Role.CASHIER, "cash-pw", by="boss")
    ops.add("dora", Role.CASHIER, "dora-pw", by="boss")
    return ops


def refused(rig, operator, action=lambda c: c.sale(1000)):
    books, sent, entries = rig.ledger_size(), rig.sent, len(rig.journal.entries())
    with rig.client(operator=operator) as client, pytest.raises(Refused) as caught:
        action(client)
    assert caught.value.rule is Rule.NOT_ON_DUTY, caught.value
    assert rig.sent == sent, "a request went out for someone who may not ring up"
    assert rig.ledger_size() == books
    assert len(rig.journal.entries()) == entries
    return caught.value


def last_audit(rig):
    rows = rig.journal.connection.execute("SELECT * FROM audit ORDER BY id DESC LIMIT 1")
    return rows.fetchone()


def test_a_current_cashier_rings_up_and_is_journaled(rig, staff):
    with rig.client(operator="carl") as client:
        sale = client.sale(1000)
    assert sale.approved
    assert rig.journal.get(sale.journal_id).operator == "carl"


@pytest.mark.parametrize(("operator", "why"), [(None, "missing"), ("mallory", "unknown")])
def test_nobody_or_someone_who_is_no_operator_here_is_refused_unnamed(rig, staff, operator, why):
    error = refused(rig, operator)
    assert error.facts == {"operator": None, "operator_refused": why}
    row = last_audit(rig)
    assert (row["action"], row["operator"], row["outcome"]) == ("sale", None, f"operator-{why}")
    assert "mallory" not in str(error) + (row["detail"] or "")


def test_a_removed_cashier_is_refused_and_named(rig, staff):
    staff.remove("dora", by="boss")
    error = refused(rig, "dora")
    assert error.facts == {"operator": "dora", "operator_refused": "removed"}
    assert (last_audit(rig)["operator"], last_audit(rig)["outcome"]) == ("dora", "operator-removed")


def test_a_locked_cashier_is_refused_for_a_refund_as_well(rig, staff):
    with rig.client(operator="carl") as client:
        sale = client.sale(1000)
    for _ in range(MAX_FAILURES):
        with pytest.raises(Refused):
            staff.authorise("dora", "guess", role=Role.CASHIER, action="sale")
    refused(rig, "dora", lambda c: c.refund(100, rrn=sale.rrn, reason="returned",
                                            supervisor="sue"))


def test_a_lane_without_operators_takes_any_id_or_none(rig):
    for operator in (None, "anyone"):
        with rig.client(operator=operator) as client:
            assert client.sale(1000).approved


def test_a_reversal_runs_whoever_the_client_names(rig, staff):
    with rig.client(operator="carl") as client:
        sale = client.sale(1000)
    staff.remove("carl", by="boss")
    with rig.client(operator="carl") as client:
        reversal = client.reverse(sale.trace)
    assert reversal.approved
    assert rig.journal.get(sale.journal_id).state is EntryState.REVERSED
    kinds = [e.kind for e in rig.journal.entries()]
    assert kinds[-1] is Kind.REVERSAL
    assert not [r for r in audit.trail(rig.journal.connection) if r.outcome == "operator-removed"]
