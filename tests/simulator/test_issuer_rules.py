"""The issuer's table: which rule decides, and in what order."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from simulator.cards import CardProfile, CardStatus, PinOutcome
from simulator.issuer import RULES, Authorisation, decide, is_expired

TODAY = date(2025, 3, 14)
CARD = CardProfile("t", "6226090000000048", "3012", 10_000)


def _decide(card=CARD, amount=100, balance=10_000, today=TODAY):
    return decide(Authorisation(card, amount, balance, today))


def test_a_good_card_with_funds_is_approved():
    assert _decide() == "00"


def test_a_stolen_card_is_reported_stolen_even_when_expired_and_pin_wrong():
    card = replace(CARD, status=CardStatus.STOLEN, expiry="2001", pin=PinOutcome.WRONG)
    assert _decide(card) == "43"


def test_an_expired_card_is_reported_before_a_wrong_pin():
    assert _decide(replace(CARD, expiry="2001", pin=PinOutcome.WRONG)) == "54"


def test_the_card_limit_is_checked_before_the_balance():
    assert _decide(replace(CARD, limit=500), amount=20_000, balance=100) == "61"


def test_amount_equal_to_the_balance_or_limit_is_approved():
    assert _decide(replace(CARD, limit=10_000), amount=10_000, balance=10_000) == "00"
    assert _decide(amount=10_001, balance=10_000) == "51"


def test_an_inquiry_moves_no_money_so_limits_and_balance_do_not_apply():
    assert _decide(replace(CARD, limit=1), amount=None, balance=0) == "00"


def test_a_card_is_good_through_the_last_day_of_its_expiry_month():
    assert not is_expired("2503", date(2025, 3, 31))
    assert is_expired("2503", date(2025, 4, 1))
    assert is_expired("2412", date(2025, 1, 1))


def test_the_table_lists_each_decline_code_once():
    codes = [rule.code for rule in RULES]
    assert codes == ["41", "43", "54", "55", "61", "51"]
