import pytest
from hypothesis import given
from hypothesis import strategies as st

from terminal.transactions.amount import MAX_AMOUNT_FEN, format_fen, parse_yuan


@pytest.mark.parametrize(
    ("text", "fen"),
    [("12.34", 1234), ("0.01", 1), ("1", 100), ("1.5", 150), (" 100.00 ", 10000),
     ("9999999999.99", MAX_AMOUNT_FEN)],
)
def test_yuan_text_becomes_exact_fen(text, fen):
    assert parse_yuan(text) == fen


@pytest.mark.parametrize("text", ["12.345", "-1", "1e3", "abc", "", "0", "0.00", "1,00", "."])
def test_amounts_that_are_not_plain_yuan_are_refused(text):
    with pytest.raises(ValueError):
        parse_yuan(text)


@given(st.integers(min_value=1, max_value=MAX_AMOUNT_FEN))
def test_formatting_and_parsing_fen_round_trip(fen):
    assert parse_yuan(format_fen(fen)) == fen


def test_negative_fen_formats_with_a_sign():
    assert format_fen(-5) == "-0.05"
