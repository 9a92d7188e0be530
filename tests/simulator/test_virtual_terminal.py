"""VirtualTerminal: CUP requests in, the responses a real terminal and acquirer give out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sim_requests import (
    HEADER,
    MERCHANT_ID,
    NOW,
    TERMINAL_ID,
    TPDU,
    balance_inquiry,
    network,
    sale,
)

from simulator import Ledger, SimulatorSettings, UnknownCardError, VirtualTerminal, load_cards
from simulator.host import format_balance
from terminal.protocol.message import Message


@pytest.mark.parametrize(
    ("card", "amount", "code"),
    [
        ("approved", 1234, "00"),
        ("insufficient", 1_001, "51"),
        ("expired", 1234, "54"),
        ("wrong-pin", 1234, "55"),
        ("lost", 1234, "41"),
        ("stolen", 1234, "43"),
        ("limited", 50_001, "61"),
        ("limited", 50_000, "00"),
        ("contactless", 1234, "00"),
    ],
)
def test_each_card_profile_gets_its_response_code(terminal, card, amount, code):
    terminal.present_card(card)
    assert terminal.handle(sale(amount), NOW)[39] == code


def test_approved_sale_debits_the_balance_and_a_sale_over_the_rest_gets_51(terminal, cards):
    card = cards["insufficient"]  # 1000 fen
    terminal.default_card = "insufficient"
    assert terminal.handle(sale(600, trace="000001"), NOW)[39] == "00"
    assert terminal.ledger.balance(card) == 400
    assert terminal.handle(sale(401, trace="000002"), NOW)[39] == "51"
    assert terminal.ledger.balance(card) == 400
    assert terminal.handle(sale(400, trace="000003"), NOW)[39] == "00"
    assert terminal.ledger.balance(card) == 0


def test_declined_sale_is_booked_without_moving_money(terminal, cards):
    terminal.present_card("wrong-pin")
    terminal.handle(sale(1234), NOW)
    (entry,) = terminal.ledger.entries()
    assert (entry.response_code, entry.amount, entry.auth_code) == ("55", 1234, "")
    assert entry.balance_after == cards["wrong-pin"].balance
    assert terminal.ledger.totals(entry.batch).debit_count == 0


def test_approved_sale_response_carries_what_a_real_terminal_returns(terminal, cards):
    request = sale(1234, trace="000052")
    response = terminal.handle(request, NOW)
    card = cards["approved"]
    assert response.mti == "0210"
    assert response.tpdu == TPDU.reply()
    assert response.header == HEADER
    for echoed in (3, 4, 11, 25, 41, 42):
        assert response[echoed] == request[echoed]
    assert response[2] == card.pan
    assert (response[12], response[13], response[15]) == ("103015", "0314", "0314")
    assert response[14] == card.expiry
    assert response[32] == "00010000"
    assert len(response[37]) == 12 and response[37].startswith("103015")
    assert len(response[38]) == 6 and response[38] != response[37][-6:]
    assert response[39] == "00"
    assert response[49] == "156"
    assert response[60] == {"message_type": "22", "batch": "000001", "network_code": "000"}
    assert response[63] == "CUP"


def test_declined_sale_has_no_auth_code_but_a_reference(terminal):
    terminal.present_card("expired")
    response = terminal.handle(sale(), NOW)
    assert response[39] == "54"
    assert 38 not in response
    assert len(response[37]) == 12


def test_every_exchange_gets_its_own_rrn(terminal):
    rrns = {terminal.handle(sale(100, trace=f"{n:06d}"), NOW)[37] for n in range(1, 21)}
    assert len(rrns) == 20


def test_balance_inquiry_returns_the_balance_in_field_54(terminal, cards):
    terminal.handle(sale(2_345, trace="000001"), NOW)
    response = terminal.handle(balance_inquiry(trace="000002"), NOW)
    assert response.mti == "0210"
    assert response[39] == "00"
    assert response[54] == format_balance(cards["approved"].balance - 2_345)
    assert 4 not in response
    assert terminal.ledger.totals(terminal.batch).debit_count == 1


def test_balance_inquiry_on_a_lost_card_is_declined_without_a_balance(terminal):
    terminal.present_card("lost")
    response = terminal.handle(balance_inquiry(), NOW)
    assert response[39] == "41"
    assert 54 not in response


def test_balance_field_follows_the_cup_layout():
    assert format_balance(12_345) == "1002156C000000012345"
    assert format_balance(-5) == "1002156D000000000005"


def test_sign_on_returns_the_open_batch():
    terminal = VirtualTerminal(SimulatorSettings(batch=7), cards=load_cards(), ledger=Ledger())
    response = terminal.handle(network("001"), NOW)
    assert response.mti == "0810"
    assert response[39] == "00"
    assert response[60]["batch"] == "000007"
    assert response[60]["network_code"] == "001"
    assert terminal.signed_on
    assert terminal.handle(sale(), NOW)[60]["batch"] == "000007"


def test_sign_off_ends_the_session(terminal):
    terminal.handle(network("001"), NOW)
    response = terminal.handle(network("002", mti="0820"), NOW)
    assert (response.mti, response[39]) == ("0830", "00")
    assert not terminal.signed_on


def test_financial_request_before_required_sign_on_gets_a0():
    settings = SimulatorSettings(require_sign_on=True)
    terminal = VirtualTerminal(settings, cards=load_cards(), ledger=Ledger())
    assert terminal.handle(sale(trace="000001"), NOW)[39] == "A0"
    assert terminal.handle(network("301", mti="0820"), NOW)[39] == "00"
    assert terminal.handle(network("001"), NOW)[39] == "00"
    assert terminal.handle(sale(trace="000002"), NOW)[39] == "00"
    assert len(terminal.ledger) == 1


def test_sale_without_sign_on_is_approved_when_not_required(terminal):
    assert terminal.handle(sale(), NOW)[39] == "00"


@pytest.mark.parametrize(("mti", "reply"), [("0820", "0830"), ("0800", "0810")])
def test_echo_test_is_answered(terminal, mti, reply):
    response = terminal.handle(network("301", mti=mti), NOW)
    assert (response.mti, response[39]) == (reply, "00")
    assert response[60]["network_code"] == "301"
    assert response[11] == "000001"
    assert len(terminal.ledger) == 0


def test_echo_test_may_leave_out_the_ids_but_not_give_wrong_ones(terminal):
    assert terminal.handle(network("301", mti="0820", f41=None, f42=None), NOW)[39] == "00"
    assert terminal.handle(network("301", mti="0820", f41="99999999"), NOW)[39] == "97"
    assert terminal.handle(network("001", f41=None, f42=None), NOW)[39] == "30"


def test_unknown_network_management_code_is_an_invalid_transaction(terminal):
    assert terminal.handle(network("999"), NOW)[39] == "12"


def test_trace_is_echoed_when_present(terminal):
    assert terminal.handle(sale(trace="004711"), NOW)[11] == "004711"


def test_trace_is_assigned_when_absent_and_continues_after_the_pos_trace(terminal):
    first = terminal.handle(sale(trace=None), NOW)[11]
    second = terminal.handle(sale(trace=None), NOW)[11]
    assert (first, second) == ("000001", "000002")
    terminal.handle(sale(trace="000100"), NOW)
    assert terminal.handle(sale(trace=None), NOW)[11] == "000101"
    assert [e.trace for e in terminal.ledger.entries()] == ["000001", "000002", "000100", "000101"]


def test_assigned_trace_wraps_from_999999_to_000001(terminal):
    terminal.handle(sale(trace="999999"), NOW)
    assert terminal.handle(sale(trace=None), NOW)[11] == "000001"


def test_identical_repeat_gets_the_same_response_and_is_booked_once(terminal, cards):
    first = terminal.handle(sale(5_000, trace="000007"), NOW)
    again = terminal.handle(sale(5_000, trace="000007"), NOW + timedelta(seconds=40))
    assert again == first
    assert len(terminal.ledger) == 1
    assert terminal.ledger.balance(cards["approved"]) == cards["approved"].balance - 5_000


def test_repeat_of_a_decline_is_the_same_decline_and_does_not_use_the_presented_card(terminal):
    terminal.present_card("insufficient")
    first = terminal.handle(sale(9_999, trace="000008"), NOW)
    terminal.present_card("approved")
    assert terminal.handle(sale(9_999, trace="000008"), NOW) == first
    assert first[39] == "51"
    assert terminal.presented_card == "approved"


def test_different_request_reusing_a_trace_in_the_batch_gets_94(terminal):
    terminal.handle(sale(5_000, trace="000009"), NOW)
    response = terminal.handle(sale(6_000, trace="000009"), NOW)
    assert response[39] == "94"
    assert (response[11], response[4]) == ("000009", "000000006000")
    assert 37 not in response and 2 not in response
    assert len(terminal.ledger) == 1


def test_balance_inquiry_reusing_a_sale_trace_gets_94(terminal):
    terminal.handle(sale(5_000, trace="000010"), NOW)
    assert terminal.handle(balance_inquiry(trace="000010"), NOW)[39] == "94"


def test_presented_card_applies_to_the_next_financial_exchange_only(terminal):
    terminal.present_card("expired")
    assert terminal.handle(network("301", mti="0820"), NOW)[39] == "00"
    assert terminal.presented_card == "expired"
    assert terminal.handle(sale(trace="000001"), NOW)[39] == "54"
    assert terminal.presented_card is None
    assert terminal.handle(sale(trace="000002"), NOW)[39] == "00"


def test_card_presented_is_not_used_by_a_refused_request(terminal):
    terminal.present_card("expired")
    assert terminal.handle(sale(0), NOW)[39] == "13"
    assert terminal.handle(sale(100), NOW)[39] == "54"


def test_default_card_is_settable(terminal):
    terminal.default_card = "lost"
    assert terminal.handle(sale(trace="000001"), NOW)[39] == "41"
    assert terminal.handle(sale(trace="000002"), NOW)[39] == "41"


def test_unknown_card_is_refused_listing_the_known_ones(terminal):
    with pytest.raises(UnknownCardError) as caught:
        terminal.present_card("platinum")
    assert caught.value.name == "platinum"
    assert "approved" in caught.value.known
    assert "expired" in str(caught.value) and "platinum" in str(caught.value)
    with pytest.raises(UnknownCardError):
        terminal.default_card = "platinum"
    assert terminal.default_card == "approved"


def test_unknown_default_card_in_the_settings_fails_at_start():
    with pytest.raises(UnknownCardError):
        VirtualTerminal(SimulatorSettings(default_card="gold"), cards=load_cards(), ledger=Ledger())


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"f41": "99999999"}, "97"),
        ({"f42": "898100000000999"}, "03"),
        ({"f41": None}, "30"),
        ({"f4": None}, "30"),
        ({"f4": "12.34"}, "30"),
        ({"f25": None}, "30"),
        ({"f60": None}, "30"),
        ({"f11": "12"}, "30"),
        ({"f4": "000000000000"}, "13"),
        ({"f3": "400000"}, "12"),
        ({"f3": "200000", "f60": {"message_type": "23", "batch": "000001"}}, "30"),
        ({"f25": "06", "f60": {"message_type": "20", "batch": "000001"}}, "30"),
    ],
)
def test_requests_failing_checks_are_refused_and_not_booked(terminal, changes, code):
    response = terminal.handle(sale(**changes), NOW)
    assert response.mti == "0210"
    assert response[39] == code
    assert 2 not in response and 38 not in response
    assert len(terminal.ledger) == 0


@pytest.mark.parametrize(("mti", "reply"), [("0220", "0230"), ("0400", "0410"), ("0500", "0510")])
def test_money_and_settlement_requests_without_field_60_are_format_errors(terminal, mti, reply):
    request = Message(mti, {41: TERMINAL_ID, 42: MERCHANT_ID, 11: "000001"}, TPDU, HEADER)
    response = terminal.handle(request, NOW)
    assert (response.mti, response[39], response[11]) == (reply, "30", "000001")


def test_a_response_sent_as_a_request_is_an_invalid_transaction(terminal):
    request = Message("0210", {41: TERMINAL_ID, 42: MERCHANT_ID}, TPDU, HEADER)
    assert terminal.handle(request, NOW)[39] == "12"


def test_expiry_is_judged_on_the_transaction_date(cards):
    terminal = VirtualTerminal(SimulatorSettings(), cards=cards, ledger=Ledger())
    terminal.default_card = "expired"  # expiry 2012: good through 2020-12-31
    last_good_day, first_bad_day = NOW.replace(2020, 12, 31), NOW.replace(2021, 1, 1)
    assert terminal.handle(sale(trace="000001"), last_good_day)[39] == "00"
    assert terminal.handle(sale(trace="000002"), first_bad_day)[39] == "54"


def test_a_restarted_terminal_keeps_its_books_batch_and_answers_repeats(tmp_path, cards):
    path = tmp_path / "ledger.json"
    settings = SimulatorSettings(batch=3)
    first = VirtualTerminal(settings, cards=cards, ledger=Ledger(path))
    answered = first.handle(sale(7_000, trace="000021"), NOW)

    restarted = VirtualTerminal(SimulatorSettings(batch=1), cards=cards, ledger=Ledger(path))
    assert restarted.batch == "000003"
    assert restarted.handle(sale(7_000, trace="000021"), NOW) == answered
    assert restarted.handle(sale(trace=None), NOW)[11] == "000022"
    assert restarted.ledger.balance(cards["approved"]) == cards["approved"].balance - 7_000 - 1234
