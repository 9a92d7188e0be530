"""What counts as a card number in text a person typed (terminal.card_data.holds_card_number).

One rule for every free-text field: 16 digits or more in a run (single spaces or
dashes between groups) always, 13 to 15 when the Luhn check passes. Whatever it lets
through, the project's leak scanner (:mod:`tests.leaks.scanner`, both of its default
modes, and the before-stop hook's plain-run check, a subset) finds nothing in.
"""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from terminal.card_data import card_number_spans, holds_card_number
from tests.leaks.scanner import luhn_valid, scan_bytes
from tests.typed_cards import card_number, failing_luhn, typed_forms

PAN16 = card_number("622202")
PAN19 = card_number("622202", 19)
FORMS = ["plain", "spaced", "dashed"]


def _mobile(prefix: str = "86") -> str:
    """An 11-digit Chinese mobile number whose +86 form (13 digits) fails the Luhn check."""
    return next(m for m in (f"138{n:08d}" for n in range(100)) if not luhn_valid(prefix + m))


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("length", [16, 19])
def test_a_card_number_typed_plain_spaced_or_dashed_is_found(form, length):
    number = PAN16 if length == 16 else PAN19
    typed = typed_forms(number)[form]
    assert holds_card_number(f"customer paid with {typed} by mistake")
    assert card_number_spans(f"card {typed}.") == [(5, 5 + len(typed))]


def test_sixteen_digits_are_a_card_number_even_when_the_check_digit_is_wrong():
    wrong = failing_luhn(PAN16)
    assert not luhn_valid(wrong)
    assert holds_card_number(wrong)
    assert holds_card_number(typed_forms(wrong)["spaced"])


def test_a_run_longer_than_nineteen_digits_is_refused_too():
    assert holds_card_number("order " + PAN16 + "12345")


@pytest.mark.parametrize("length", [13, 14, 15])
def test_thirteen_to_fifteen_digits_are_a_card_number_when_the_luhn_check_passes(length):
    valid = card_number("6222", length)
    assert holds_card_number(valid)
    assert holds_card_number(typed_forms(valid)["dashed"])
    assert not holds_card_number(failing_luhn(valid))


def test_a_chinese_mobile_number_passes_with_or_without_its_country_code():
    mobile = _mobile()
    assert not holds_card_number(f"call {mobile} after 6pm")
    assert not holds_card_number(f"call +86 {mobile}")
    assert not holds_card_number(f"call +86-{mobile[:3]}-{mobile[3:7]}-{mobile[7:]}")


def test_a_fifteen_digit_id_that_fails_the_luhn_check_passes():
    assert not holds_card_number("id " + failing_luhn(card_number("1101", 15)))


def test_a_luhn_valid_part_of_whole_groups_is_found_as_an_anchored_scanner_finds_it():
    # 15 digits in all; the 13 after the first group pass the check, the whole run does not.
    thirteen = card_number("6222", 13)
    run = next(f"{d}{d} {thirteen}" for d in "123456789" if not luhn_valid(f"{d}{d}{thirteen}"))
    assert holds_card_number(run)


def _full_width(digits: str) -> str:
    return digits.translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})


def test_full_width_digits_from_a_chinese_input_method_count():
    full_width = _full_width(PAN16)
    assert holds_card_number(f"卡号 {full_width[:8]}\u3000{full_width[8:]}")
    thirteen = card_number("6222", 13)
    assert holds_card_number(_full_width(thirteen))
    assert not holds_card_number(_full_width(failing_luhn(thirteen)))


@pytest.mark.parametrize("text", [
    "customer changed their mind", "2026-11-28 12.34 yuan, 3 items", "order 2026-1128-0042",
    "rrn 101530000012 trace 000042", "退货 2 件", "",
])
def test_everyday_notes_pass(text):
    assert not holds_card_number(text)


_TYPED = st.text(alphabet="0123456789 -x", max_size=48)


@settings(max_examples=400, deadline=None)
@given(_TYPED)
@example("12 " + PAN16[:13])
@example("1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6")
@example(PAN19 + PAN19[:13])
def test_whatever_the_detector_lets_through_the_leak_scanner_does_not_flag(text):
    if not holds_card_number(text):
        assert scan_bytes(text.encode()) == [], text
