"""Every CUP transaction answered by the simulated acquirer, and each of its rules broken once.

A refused request is answered with its code and leaves the books as they were
(``_books`` compares entries and the paying card's balance before and after).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sim_requests import NOW, network, reversal, sale, transaction

from simulator import Ledger, SimulatorSettings, VirtualTerminal
from terminal.protocol.codec import encode
from terminal.protocol.security import (
    TEST_MASTER_KEY,
    check_value,
    sign,
    unpack_working_keys,
    verify,
)


def _books(terminal, cards, name="approved"):
    return terminal.ledger.entries(), terminal.ledger.balance(cards[name])


def _paid(terminal, amount=10_000, trace="000001", card=None):
    if card:
        terminal.present_card(card)
    response = terminal.handle(sale(amount, trace=trace), NOW)
    assert response[39] == "00"
    return response


def _refused(terminal, cards, request, code, card=None, when=NOW):
    before = _books(terminal, cards)
    if card:
        terminal.present_card(card)
    response = terminal.handle(request, when)
    assert response[39] == code
    assert _books(terminal, cards) == before
    return response


# -- void ----------------------------------------------------------------------------


def test_a_void_of_a_sale_gives_the_money_back_and_leaves_no_debit(terminal, cards):
    paid = _paid(terminal)
    response = terminal.handle(transaction("void", 10_000, trace="000002", original=paid), NOW)
    assert (response.mti, response[39]) == ("0210", "00")
    assert response[37] != paid[37] and len(response[38]) == 6
    assert terminal.ledger.balance(cards["approved"]) == cards["approved"].balance
    assert terminal.ledger.totals("000001").debit_count == 0


def test_a_void_of_an_unknown_original_is_25(terminal, cards):
    paid = _paid(terminal)
    request = transaction("void", 10_000, trace="000002", original=paid,
                          f61={"original_batch": "000001", "original_trace": "000099"})
    _refused(terminal, cards, request, "25")


def test_a_void_with_another_rrn_than_the_original_is_25(terminal, cards):
    paid = _paid(terminal)
    request = transaction("void", 10_000, trace="000002", original=paid, f37="999999999999")
    _refused(terminal, cards, request, "25")


def test_a_void_presenting_another_card_than_the_one_that_paid_is_25(terminal, cards):
    paid = _paid(terminal)
    request = transaction("void", 10_000, trace="000002", original=paid)
    _refused(terminal, cards, request, "25", card="contactless")


def test_a_sale_is_voided_once(terminal, cards):
    paid = _paid(terminal)
    terminal.handle(transaction("void", 10_000, trace="000002", original=paid), NOW)
    _refused(terminal, cards, transaction("void", 10_000, trace="000003", original=paid), "12")


def test_a_sale_with_a_refund_cannot_be_voided(terminal, cards):
    paid = _paid(terminal)
    terminal.handle(transaction("refund", 1_000, trace="000002", original=paid), NOW)
    _refused(terminal, cards, transaction("void", 10_000, trace="000003", original=paid), "12")


def test_a_sale_of_a_settled_batch_cannot_be_voided(terminal, cards):
    paid = _paid(terminal)
    totals = "000000010000001" + "000000000000000" + "0" + "0" * 31
    assert terminal.handle(transaction("settlement", trace="000002", f48=totals), NOW)[39] == "00"
    assert terminal.batch == "000002"
    request = transaction("void", 10_000, trace="000003", original=paid, batch="000002")
    _refused(terminal, cards, request, "12")


def test_a_void_is_of_the_whole_amount(terminal, cards):
    paid = _paid(terminal)
    _refused(terminal, cards, transaction("void", 9_999, trace="000002", original=paid), "64")


def test_a_declined_sale_is_no_original(terminal, cards):
    terminal.present_card("insufficient")
    declined = terminal.handle(sale(99_999, trace="000001"), NOW)
    assert declined[39] == "51"
    request = transaction("void", 99_999, trace="000002", original=declined)
    _refused(terminal, cards, request, "25", card="insufficient")


# -- refund --------------------------------------------------------------------------


def test_partial_refunds_may_repeat_until_the_original_is_used_up(terminal, cards):
    paid = _paid(terminal)
    for trace, amount in (("000002", 4_000), ("000003", 6_000)):
        response = terminal.handle(transaction("refund", amount, trace=trace, original=paid), NOW)
        assert (response.mti, response[39]) == ("0230", "00")
    assert terminal.ledger.balance(cards["approved"]) == cards["approved"].balance
    _refused(terminal, cards, transaction("refund", 1, trace="000004", original=paid), "64")


def test_a_refund_over_the_original_is_64(terminal, cards):
    paid = _paid(terminal)
    _refused(terminal, cards, transaction("refund", 10_001, trace="000002", original=paid), "64")


def test_a_refund_to_another_card_is_25(terminal, cards):
    paid = _paid(terminal)
    request = transaction("refund", 5_000, trace="000002", original=paid)
    _refused(terminal, cards, request, "25", card="limited")


def test_a_refund_outside_the_window_is_12(cards):
    terminal = VirtualTerminal(
        SimulatorSettings(refund_window_days=30), cards=cards, ledger=Ledger()
    )
    paid = _paid(terminal)
    request = transaction("refund", 5_000, trace="000002", original=paid)
    _refused(terminal, cards, request, "12", when=NOW + timedelta(days=31))
    later = terminal.handle(request, NOW + timedelta(days=30))
    assert later[39] == "00"


def test_a_refund_of_another_batch_is_allowed(terminal, cards):
    paid = _paid(terminal)
    totals = "000000010000001" + "0" * 15 + "0"
    terminal.handle(transaction("settlement", trace="000002", f48=totals), NOW)
    request = transaction("refund", 3_000, trace="000003", original=paid, batch="000002")
    assert terminal.handle(request, NOW)[39] == "00"


def test_a_repeated_refund_gets_the_first_answer_and_refunds_once(terminal, cards):
    paid = _paid(terminal)
    request = transaction("refund", 5_000, trace="000002", original=paid)
    first = terminal.handle(request, NOW)
    again = terminal.handle(request, NOW + timedelta(seconds=30))
    assert first == again and first[39] == "00"
    assert terminal.ledger.balance(cards["approved"]) == cards["approved"].balance - 5_000


def test_a_voided_sale_cannot_be_refunded(terminal, cards):
    paid = _paid(terminal)
    terminal.handle(transaction("void", 10_000, trace="000002", original=paid), NOW)
    _refused(terminal, cards, transaction("refund", 100, trace="000003", original=paid), "12")


# -- pre-authorization ---------------------------------------------------------------


def test_a_preauth_holds_and_its_completion_takes_only_the_completed_amount(terminal, cards):
    held = terminal.handle(transaction("preauth", 20_000, trace="000001"), NOW)
    assert (held.mti, held[39]) == ("0110", "00")
    start = cards["approved"].balance
    assert terminal.ledger.balance(cards["approved"]) == start - 20_000
    done = terminal.handle(transaction("preauth_complete", 18_000, trace="000002",
                                       original=held), NOW)
    assert (done.mti, done[39]) == ("0210", "00")
    assert terminal.ledger.balance(cards["approved"]) == start - 18_000
    assert terminal.ledger.totals("000001").debit_amount == 18_000


def test_a_preauth_is_declined_like_a_sale(terminal, cards):
    terminal.present_card("insufficient")
    assert terminal.handle(transaction("preauth", 20_000, trace="000001"), NOW)[39] == "51"


def test_a_completion_may_exceed_the_preauth_by_the_tolerance_only(terminal, cards):
    held = terminal.handle(transaction("preauth", 10_000, trace="000001"), NOW)
    over = transaction("preauth_complete", 11_501, trace="000002", original=held)
    _refused(terminal, cards, over, "64")
    ok = transaction("preauth_complete", 11_500, trace="000003", original=held)
    assert terminal.handle(ok, NOW)[39] == "00"


def test_a_preauth_is_completed_once(terminal, cards):
    held = terminal.handle(transaction("preauth", 10_000, trace="000001"), NOW)
    terminal.handle(transaction("preauth_complete", 5_000, trace="000002", original=held), NOW)
    again = transaction("preauth_complete", 5_000, trace="000003", original=held)
    _refused(terminal, cards, again, "12")


def test_a_cancelled_preauth_releases_the_hold_and_cannot_be_completed(terminal, cards):
    held = terminal.handle(transaction("preauth", 10_000, trace="000001"), NOW)
    cancel = terminal.handle(transaction("preauth_cancel", 10_000, trace="000002",
                                         original=held), NOW)
    assert (cancel.mti, cancel[39]) == ("0110", "00")
    assert terminal.ledger.balance(cards["approved"]) == cards["approved"].balance
    later = transaction("preauth_complete", 5_000, trace="000003", original=held)
    _refused(terminal, cards, later, "12")


def test_a_cancel_is_of_the_authorised_amount(terminal, cards):
    held = terminal.handle(transaction("preauth", 10_000, trace="000001"), NOW)
    cancel = transaction("preauth_cancel", 9_000, trace="000002", original=held)
    _refused(terminal, cards, cancel, "64")


def test_a_completion_void_restores_the_hold(terminal, cards):
    held = terminal.handle(transaction("preauth", 10_000, trace="000001"), NOW)
    done = terminal.handle(transaction("preauth_complete", 8_000, trace="000002",
                                       original=held), NOW)
    undone = terminal.handle(transaction("completion_void", 8_000, trace="000003",
                                         original=done), NOW)
    assert undone[39] == "00"
    assert terminal.ledger.balance(cards["approved"]) == cards["approved"].balance - 10_000
    assert terminal.ledger.totals("000001").debit_count == 0


def test_a_completion_void_of_another_card_is_25(terminal, cards):
    held = terminal.handle(transaction("preauth", 10_000, trace="000001"), NOW)
    done = terminal.handle(transaction("preauth_complete", 8_000, trace="000002",
                                       original=held), NOW)
    request = transaction("completion_void", 8_000, trace="000003", original=done)
    _refused(terminal, cards, request, "25", card="contactless")


# -- reversal --------------------------------------------------------------------------


def test_a_reversal_undoes_the_sale_exactly_once(terminal, cards):
    request = sale(10_000, trace="000001")
    terminal.handle(request, NOW)
    first = terminal.handle(reversal(request), NOW)
    assert (first.mti, first[39]) == ("0410", "00")
    again = terminal.handle(reversal(request), NOW)
    assert again[39] == "00"
    assert terminal.ledger.balance(cards["approved"]) == cards["approved"].balance
    assert terminal.ledger.totals("000001").debit_count == 0


def test_a_reversal_of_a_completion_of_the_whole_hold_drops_it_from_the_books(terminal, cards):
    # The completion moves no balance (the hold becomes the debit), yet it is a debit.
    held = terminal.handle(transaction("preauth", 10_000, trace="000001"), NOW)
    request = transaction("preauth_complete", 10_000, trace="000002", original=held)
    assert terminal.handle(request, NOW)[39] == "00"
    assert terminal.ledger.totals("000001").debit_count == 1
    assert terminal.handle(reversal(request), NOW)[39] == "00"
    assert terminal.ledger.totals("000001").debit_count == 0
    assert terminal.ledger.balance(cards["approved"]) == cards["approved"].balance - 10_000


def test_a_reversal_of_something_never_booked_is_25_and_changes_nothing(terminal, cards):
    _paid(terminal, trace="000001")
    _refused(terminal, cards, reversal(sale(10_000, trace="000002")), "25")
    _refused(terminal, cards, reversal(sale(9_999, trace="000001")), "25")


@pytest.mark.parametrize("kind", ["void", "preauth", "preauth_complete"])
def test_every_reversible_transaction_can_be_reversed(terminal, cards, kind):
    paid = _paid(terminal, trace="000001")
    held = terminal.handle(transaction("preauth", 5_000, trace="000002"), NOW)
    requests = {
        "void": transaction("void", 10_000, trace="000003", original=paid),
        "preauth": transaction("preauth", 7_000, trace="000003"),
        "preauth_complete": transaction("preauth_complete", 5_000, trace="000003",
                                        original=held),
    }
    before = terminal.ledger.balance(cards["approved"])
    assert terminal.handle(requests[kind], NOW)[39] == "00"
    assert terminal.handle(reversal(requests[kind]), NOW)[39] == "00"
    assert terminal.ledger.balance(cards["approved"]) == before


def test_after_a_void_is_reversed_the_sale_can_be_voided_again(terminal, cards):
    paid = _paid(terminal)
    void = transaction("void", 10_000, trace="000002", original=paid)
    terminal.handle(void, NOW)
    terminal.handle(reversal(void), NOW)
    again = transaction("void", 10_000, trace="000003", original=paid)
    assert terminal.handle(again, NOW)[39] == "00"


# -- settlement ------------------------------------------------------------------------


def test_settlement_with_the_acquirers_totals_is_balanced_and_closes_the_batch(terminal):
    paid = _paid(terminal, 10_000, trace="000001")
    terminal.handle(transaction("refund", 2_500, trace="000002", original=paid), NOW)
    totals = "000000010000" "001" "000000002500" "001" "0" + "0" * 31
    response = terminal.handle(transaction("settlement", trace="000003", f48=totals), NOW)
    assert (response.mti, response[39]) == ("0510", "00")
    assert response[48]["reconciliation"] == response[48]["foreign_reconciliation"] == "1"
    assert terminal.batch == "000002"


def test_settlement_that_does_not_balance_waits_for_the_batch_upload(terminal):
    _paid(terminal, 10_000, trace="000001")
    totals = "000000020000" "002" "000000000000" "000" "0" + "0" * 31
    response = terminal.handle(transaction("settlement", trace="000002", f48=totals), NOW)
    assert response[48]["reconciliation"] == "2"
    assert terminal.batch == "000001"
    upload = transaction("batch_upload", trace="000003", f48="0001")
    assert terminal.handle(upload, NOW)[39] == "00"
    end = transaction("batch_upload_end", trace="000004", f48="0001")
    assert (terminal.handle(end, NOW).mti, terminal.batch) == ("0330", "000002")


def test_settlement_without_totals_is_a_format_error(terminal):
    response = terminal.handle(transaction("settlement", trace="000001", f48="12"), NOW)
    assert response[39] == "30"


# -- sign-on, keys and MAC ---------------------------------------------------------------


def _keys(response):
    return unpack_working_keys(TEST_MASTER_KEY, response[62])


def test_sign_on_issues_working_keys_under_the_master_key_with_check_values(terminal):
    response = terminal.handle(network("003"), NOW)
    assert response[39] == "00" and len(response[62]) == 40
    keys = _keys(response)
    assert len(keys.mac_key) == 16
    assert response[62][16:20] == check_value(keys.pin_key)
    single = terminal.handle(network("001"), NOW)
    assert len(single[62]) == 24 and len(_keys(single).mac_key) == 8


def test_a_request_with_a_good_mac_is_answered_with_a_mac_the_host_can_verify(terminal):
    keys = _keys(terminal.handle(network("003"), NOW))
    request, raw = sign(sale(1_000, trace="000010"), keys.mac_key, "cup-ecb")
    response = terminal.handle(request, NOW, raw=raw)
    assert response[39] == "00"
    assert verify(encode(response), keys.mac_key, "cup-ecb")


def test_a_request_with_a_bad_mac_is_answered_a0_and_not_booked(terminal, cards):
    keys = _keys(terminal.handle(network("003"), NOW))
    request, _raw = sign(sale(1_000, trace="000010"), keys.mac_key, "cup-ecb")
    tampered = request.with_fields({4: "000000009999"})
    _refused(terminal, cards, tampered, "A0")


def test_a_mac_before_any_sign_on_is_answered_a0(terminal, cards):
    request, _ = sign(sale(1_000, trace="000010"), bytes(16), "cup-ecb")
    _refused(terminal, cards, request, "A0")


def test_with_require_mac_a_money_request_without_one_is_a0(cards):
    terminal = VirtualTerminal(SimulatorSettings(require_mac=True), cards=cards, ledger=Ledger())
    terminal.handle(network("003"), NOW)
    _refused(terminal, cards, sale(1_000, trace="000010"), "A0")


def test_sign_off_forgets_the_keys(terminal, cards):
    keys = _keys(terminal.handle(network("003"), NOW))
    terminal.handle(network("002", mti="0820"), NOW)
    request, _raw = sign(sale(1_000, trace="000010"), keys.mac_key, "cup-ecb")
    _refused(terminal, cards, request, "A0")


# -- state in the books ------------------------------------------------------------------


def test_the_card_presented_through_the_books_is_read_once(tmp_path, cards):
    path = tmp_path / "books.sqlite3"
    serving = VirtualTerminal(SimulatorSettings(), cards=cards, ledger=Ledger(path))
    controller = VirtualTerminal(SimulatorSettings(), cards=cards, ledger=Ledger(path))
    controller.present_card_in_books("expired")
    assert serving.handle(sale(100, trace="000001"), NOW)[39] == "54"
    assert serving.handle(sale(100, trace="000002"), NOW)[39] == "00"


def test_sign_on_and_keys_survive_a_restart_on_the_same_books(tmp_path, cards):
    path = tmp_path / "books.sqlite3"
    settings = SimulatorSettings(require_sign_on=True)
    first = VirtualTerminal(settings, cards=cards, ledger=Ledger(path))
    keys = _keys(first.handle(network("003"), NOW))
    restarted = VirtualTerminal(settings, cards=cards, ledger=Ledger(path))
    request, raw = sign(sale(1_000, trace="000010"), keys.mac_key, "cup-ecb")
    assert restarted.handle(request, NOW, raw=raw)[39] == "00"
