"""The AMOUNT argument: reasons a cashier can act on, never "No such option"."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from terminal.cli.app import app
from terminal.transactions.amount import MAX_AMOUNT_FEN, parse_yuan

runner = CliRunner()


@pytest.mark.parametrize("amount", ["-1", "-0.01", "0", "0.00"])
def test_a_negative_or_zero_amount_says_it_must_be_positive(amount):
    outcome = runner.invoke(app, ["sale", amount])
    assert outcome.exit_code == 2
    assert "amount must be positive" in outcome.stderr
    assert "No such option" not in outcome.stderr


def test_a_too_large_amount_says_the_maximum():
    outcome = runner.invoke(app, ["sale", "10000000000"])
    assert outcome.exit_code == 2
    assert "maximum of 9999999999.99 yuan" in outcome.stderr
    assert parse_yuan("9999999999.99") == MAX_AMOUNT_FEN


def test_more_than_two_decimals_is_refused_not_rounded():
    outcome = runner.invoke(app, ["sale", "12.345"])
    assert outcome.exit_code == 2
    assert "more than two decimals" in outcome.stderr


def test_full_width_digits_are_read_as_the_same_amount_on_purpose():
    assert parse_yuan("１２．３４") == 1234
    assert parse_yuan("１２.34") == 1234
    outcome = runner.invoke(app, ["sale", "１２．３４", "--json"])
    assert outcome.exit_code == 0, outcome.output
    assert json.loads(outcome.stdout)["amount_fen"] == 1234


@pytest.mark.parametrize("amount", ["١٢.٣٤", "१२", "12.3４5"], ids=["arabic-indic", "devanagari",
                                                                    "mixed-three-decimals"])
def test_digits_of_other_scripts_are_refused(amount):
    with pytest.raises(ValueError):
        parse_yuan(amount)
