"""The transaction catalogue: one row per CUP transaction, identified the same on both sides."""

from __future__ import annotations

import pytest

from terminal.protocol import Message, Tpdu
from terminal.protocol.catalogue import CATALOGUE, Kind, identify, reversed_type
from terminal.protocol.response_codes import Action, Rc, describe


def _request(row):
    fields = {11: "000001", 41: "10008060", 42: "898100000000001",
              60: {"message_type": row.message_type, "batch": "000001",
                   "network_code": row.network_code}}
    if row.processing_code is not None:
        fields.update({3: row.processing_code, 25: row.condition_code})
    return Message(row.mti, fields, Tpdu(), "603200320002")


@pytest.mark.parametrize("kind", [k for k in Kind if k is not Kind.REVERSAL])
def test_every_row_is_identified_from_the_request_it_describes(kind):
    row = CATALOGUE[kind]
    assert identify(_request(row)) is row


def test_the_reference_table_is_the_catalogue():
    expected = {
        Kind.BALANCE: ("0200", "310000", "00", "01", False),
        Kind.PREAUTH: ("0100", "030000", "06", "10", True),
        Kind.PREAUTH_CANCEL: ("0100", "200000", "06", "11", True),
        Kind.COMPLETION: ("0200", "000000", "06", "20", True),
        Kind.COMPLETION_VOID: ("0200", "200000", "06", "21", True),
        Kind.SALE: ("0200", "000000", "00", "22", True),
        Kind.VOID: ("0200", "200000", "00", "23", True),
        Kind.REFUND: ("0220", "200000", "00", "25", False),
    }
    for kind, (mti, pc, cc, mt, reversible) in expected.items():
        row = CATALOGUE[kind]
        assert (row.mti, row.processing_code, row.condition_code, row.message_type,
                row.reversible) == (mti, pc, cc, mt, reversible)


def test_voids_refunds_and_completions_point_at_an_original_with_37_38_61():
    for kind in (Kind.VOID, Kind.REFUND, Kind.COMPLETION, Kind.PREAUTH_CANCEL,
                 Kind.COMPLETION_VOID):
        assert {37, 38, 61} <= CATALOGUE[kind].request_fields
        assert CATALOGUE[kind].originals


def test_a_reversal_is_identified_and_names_what_it_reverses():
    sale = _request(CATALOGUE[Kind.SALE]).with_fields({4: "000000000100"})
    reversal = sale.with_fields(mti="0400")
    assert identify(reversal).kind is Kind.REVERSAL
    assert reversed_type(reversal).kind is Kind.SALE
    refund = _request(CATALOGUE[Kind.REFUND]).with_fields(mti="0400")
    assert reversed_type(refund) is None  # a refund is never reversed


def test_a_request_of_no_row_is_not_identified():
    row = CATALOGUE[Kind.SALE]
    assert identify(_request(row).with_fields({3: "400000"})) is None
    assert identify(_request(row).with_fields({60: None})) is None
    assert identify(_request(row).with_fields(mti="0220")) is None


def test_money_requests_carry_a_mac_and_network_ones_do_not():
    assert all(CATALOGUE[k].mac for k in (Kind.SALE, Kind.VOID, Kind.REFUND, Kind.REVERSAL))
    assert not any(CATALOGUE[k].mac for k in (Kind.SIGN_ON, Kind.ECHO, Kind.SETTLEMENT))


def test_response_codes_say_what_the_host_does_next():
    assert describe("00").approved and describe("00").action is Action.DONE
    assert describe(Rc.MAC_ERROR).action is Action.SIGN_ON
    assert describe("98").action is Action.REVERSE
    assert describe("96").action is Action.RETRY
    assert describe("51").operator_message == "余额不足"
    assert describe("51").english == "Insufficient funds"
    unknown = describe("Z9")
    assert (unknown.meaning, unknown.action) == ("unknown response code", Action.DECLINE)
