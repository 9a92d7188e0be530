"""A POS driving the library gets the same refusals as the command line for typed card numbers.

Through :class:`~terminal.transactions.client.TerminalClient` and
:class:`~terminal.operators.Operators` against the simulator, the journal a real
file held open (its write-ahead log on disk): a refund note or an operator id that
holds a card number is refused before anything is sent or written, and the number
is in no exception text, no log record at DEBUG and no file of the rig, read raw.
"""

from __future__ import annotations

import logging

import pytest

from terminal.journal import audit
from terminal.operators import OperatorError, OperatorRefused, Role
from terminal.transactions.rules import Refused, Rule
from tests.typed_cards import card_number, leaked, typed_forms

LANE = "10008060"
PAN = card_number("622202")
FORMS = ["plain", "spaced", "dashed"]


@pytest.fixture
def sold(rig):
    with rig.client(operator="carl") as client:
        sale = client.sale(1000)
    assert sale.approved
    return sale


def _trail(rig) -> list[audit.AuditRecord]:
    return audit.trail(rig.journal.connection)


@pytest.mark.parametrize("form", FORMS)
def test_a_refund_note_holding_a_card_number_is_refused_before_anything_is_sent(
        rig, sold, caplog, form):
    caplog.set_level(logging.DEBUG)
    books, sent, entries = rig.ledger_size(), rig.sent, len(rig.journal.entries())
    with rig.client(operator="carl") as client, pytest.raises(Refused) as caught:
        client.refund(500, rrn=sold.rrn, reason="other",
                      note=f"card {typed_forms(PAN)[form]} used by mistake")
    assert caught.value.rule is Rule.BAD_REASON
    assert "--note must not hold a card number" in caught.value.message
    assert (rig.ledger_size(), rig.sent, len(rig.journal.entries())) == (books, sent, entries)
    assert leaked(PAN, [str(caught.value), caplog.text], [rig.root]) == []


@pytest.mark.parametrize("form", FORMS)
def test_operators_refuse_a_card_number_as_an_id_and_write_it_nowhere(rig, staff, caplog, form):
    caplog.set_level(logging.DEBUG)
    typed = typed_forms(PAN)[form]
    said = []
    with pytest.raises(OperatorError) as added:
        staff.add(typed, Role.CASHIER, "new-pw", by="boss")
    with pytest.raises(OperatorRefused) as on_duty:
        staff.on_duty(typed, action="sale")
    with pytest.raises(Refused) as as_supervisor:
        staff.authorise(typed, "sup-pw", role=Role.SUPERVISOR, action="void", operator="carl")
    with pytest.raises(Refused) as as_cashier:
        staff.authorise("sue", "sup-pw", role=Role.SUPERVISOR, action="void", operator=typed)
    for command in (staff.passwd, staff.unlock, staff.remove):
        with pytest.raises(OperatorError) as changed:
            command(typed, *(["new-pw"] if command == staff.passwd else []), by="boss")
        said.append(str(changed.value))
    said += [str(added.value), str(on_duty.value), str(as_supervisor.value),
             str(as_cashier.value)]
    assert all("must not be a card number" in text for text in said), said
    assert on_duty.value.why == "malformed" and on_duty.value.name is None
    assert as_supervisor.value.rule is as_cashier.value.rule is Rule.NEEDS_SUPERVISOR
    refused = [(r.operator, r.authorised_by, r.detail) for r in _trail(rig)[-3:]]
    assert refused == [(None, None, "not an operator id"), ("carl", None, "not an operator id"),
                       (None, None, "not an operator id")]
    assert [op.name for op in staff.list()] == ["boss", "carl", "sue"]
    assert leaked(PAN, [*said, caplog.text], [rig.root]) == []


@pytest.mark.parametrize("staffed", [False, True])
def test_a_client_for_a_card_number_as_cashier_is_refused_before_any_exchange(
        rig, request, staffed):
    if staffed:
        request.getfixturevalue("staff")
    books, entries = rig.ledger_size(), len(rig.journal.entries())
    with pytest.raises(Refused) as caught, rig.client(operator=typed_forms(PAN)["spaced"]):
        pass
    assert caught.value.rule is Rule.NOT_ON_DUTY
    assert caught.value.facts == {"operator": None, "operator_refused": "malformed"}
    assert (rig.ledger_size(), len(rig.journal.entries())) == (books, entries)
    assert leaked(PAN, [str(caught.value)], [rig.root]) == []


@pytest.mark.parametrize("staffed", [False, True])
def test_a_card_number_as_the_supervisor_is_refused_before_anything_is_sent(
        rig, sold, request, staffed):
    if staffed:
        request.getfixturevalue("staff")
    books, sent, entries = rig.ledger_size(), rig.sent, len(rig.journal.entries())
    with rig.client(operator="carl") as client, pytest.raises(Refused) as caught:
        client.void(rrn=sold.rrn, supervisor=typed_forms(PAN)["dashed"])
    assert caught.value.rule is Rule.NEEDS_SUPERVISOR
    assert (rig.ledger_size(), rig.sent, len(rig.journal.entries())) == (books, sent, entries)
    assert leaked(PAN, [str(caught.value)], [rig.root]) == []
