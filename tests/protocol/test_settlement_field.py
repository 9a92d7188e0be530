"""Field 48 of a settlement: named subfields in the message and its JSON, the same digits on
the wire, and the readers the host and the simulator share."""

from __future__ import annotations

import json
import re

import pytest

from terminal.protocol import EncodeValueError, Message, Tpdu, decode, encode
from terminal.protocol.dialects.cup import FIELD_48
from terminal.protocol.json_shape import message_from_json, message_to_json
from terminal.protocol.settlement import (
    Reconciliation,
    SettlementFigures,
    answer_field,
    reconciliation,
    settlement_field,
    settlement_figures,
)
from tests.leaks.scanner import Mode, luhn_valid, scan_bytes

TPDU = Tpdu(0x60, 6, 0)
HEADER = "603200320002"
# 1234.65 yuan of debits in 7, 25.00 of credits in 1; its first 19 digits pass the Luhn
# check, so the totals as one string would be reported by an unanchored scanner.
DOMESTIC = "000000123465" "007" "000000002500" "001" "0"
TOTALS = DOMESTIC + "0" * 31
SUBFIELDS = {
    "debit_amount": "000000123465", "debit_count": "007", "credit_amount": "000000002500",
    "credit_count": "001", "reconciliation": "0", "foreign_debit_amount": "000000000000",
    "foreign_debit_count": "000", "foreign_credit_amount": "000000000000",
    "foreign_credit_count": "000", "foreign_reconciliation": "0",
}
# Bitmap of a message carrying field 48 alone (bit 48: the last bit of byte 6).
ONLY_48 = "0000000000010000"


def settlement(field48: object) -> Message:
    return Message("0500", {48: field48}, TPDU, HEADER)


def test_the_totals_go_on_the_wire_as_the_same_62_digits_from_subfields_or_one_string():
    wire = bytes.fromhex("6000060000" + HEADER + "0500" + ONLY_48 + "0062" + TOTALS)
    assert encode(settlement(SUBFIELDS)) == encode(settlement(TOTALS)) == wire


def test_a_decoded_settlement_holds_its_totals_as_named_subfields():
    assert decode(encode(settlement(TOTALS)))[48] == SUBFIELDS
    assert FIELD_48.total == len(TOTALS)


def test_a_settlements_json_shows_each_total_apart_and_no_scanner_reads_a_card_number():
    assert luhn_valid(TOTALS[:19])
    assert scan_bytes(json.dumps({"48": TOTALS}).encode(), mode=Mode.GREEDY)  # as it was
    for given in (TOTALS, SUBFIELDS):  # as code builds it, as decoding gives it
        shown = json.dumps(message_to_json(settlement(given)))
        assert json.loads(shown)["fields"]["48"] == SUBFIELDS
        assert max(len(run) for run in re.findall(r"\d+", shown)) <= 12
        assert [str(f) for f in scan_bytes(shown.encode(), mode=tuple(Mode))] == []
        assert encode(message_from_json(json.loads(shown))) == encode(settlement(TOTALS))


@pytest.mark.parametrize("digits", ["0003", DOMESTIC, TOTALS + "1"])
def test_a_48_of_another_length_stays_its_digits(digits):
    # A batch-upload end's record count (n4), or a peer's own layout: no totals subfield
    # names it, so it is neither split nor cut.
    message = settlement(digits)
    assert decode(encode(message))[48] == digits
    assert message_to_json(message)["fields"]["48"] == digits


def test_totals_missing_a_subfield_are_refused_naming_it():
    partial = {name: value for name, value in SUBFIELDS.items() if name != "foreign_reconciliation"}
    with pytest.raises(EncodeValueError) as caught:
        encode(settlement(partial))
    assert caught.value.field == "48.foreign_reconciliation"


def test_the_hosts_figures_become_the_domestic_totals_with_nothing_foreign():
    figures = SettlementFigures(debit_amount=123465, debit_count=7, credit_amount=2500,
                                credit_count=1)
    assert settlement_field(figures) == SUBFIELDS
    assert settlement_figures(SUBFIELDS) == settlement_figures(TOTALS) == figures
    assert settlement_figures(DOMESTIC) == figures


@pytest.mark.parametrize(
    "unreadable",
    [None, "12", DOMESTIC[:-1], "x" * 62, {"debit_amount": "000000123465"},
     {**SUBFIELDS, "debit_count": "7"}, {**SUBFIELDS, "credit_amount": 2500}],
)
def test_totals_that_cannot_be_read_are_none(unreadable):
    assert settlement_figures(unreadable) is None
    assert reconciliation(unreadable) is None


@pytest.mark.parametrize("verdict", [Reconciliation.BALANCED, Reconciliation.NOT_BALANCED])
def test_the_answer_sets_every_reconciliation_code_and_keeps_the_figures(verdict):
    for given in (SUBFIELDS, TOTALS):
        answer = answer_field(given, verdict)
        assert answer == {**SUBFIELDS, "reconciliation": verdict.value,
                          "foreign_reconciliation": verdict.value}
        assert reconciliation(answer) is verdict
        assert settlement_figures(answer) == settlement_figures(SUBFIELDS)
    assert answer_field(DOMESTIC, verdict) == DOMESTIC[:-1] + verdict.value


def test_a_code_that_is_no_verdict_is_none():
    assert reconciliation({**SUBFIELDS, "reconciliation": "7"}) is None
    assert reconciliation(SUBFIELDS) is Reconciliation.NOT_SET
