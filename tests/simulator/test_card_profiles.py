"""Card profiles: the packaged test cards and the checks made when a card file is loaded."""

from __future__ import annotations

import pytest

from simulator import CardProfile, load_cards
from simulator.cards import CardStatus, PinOutcome
from terminal.card_data import luhn_valid
from terminal.errors import ConfigError

GOOD_CARD = """
[[card]]
name = "mine"
pan = "6226090000000048"
expiry = "3012"
balance = 100
"""


def _write(tmp_path, text):
    path = tmp_path / "cards.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_packaged_book_has_the_profiles_tests_rely_on():
    book = load_cards()
    for name in ("approved", "insufficient", "expired", "wrong-pin", "lost", "limited"):
        assert name in book
    assert book["limited"].limit == 50_000
    assert book["lost"].status is CardStatus.LOST
    assert book["wrong-pin"].pin is PinOutcome.WRONG


def test_packaged_cards_are_luhn_valid_unionpay_test_numbers():
    for card in load_cards():
        assert card.pan.startswith("62"), card.name
        assert luhn_valid(card.pan), card.name
        assert isinstance(card.balance, int)


def test_profile_repr_and_masked_form_never_show_the_full_number():
    card = load_cards()["approved"]
    assert card.masked_pan == "622609******0048"
    assert card.pan not in repr(card)
    assert "622609******0048" in repr(card)


def test_a_card_file_of_ones_own_is_loaded(tmp_path):
    book = load_cards(_write(tmp_path, "version = 1\n" + GOOD_CARD))
    assert book.names() == ["mine"]
    assert book["mine"] == CardProfile("mine", "6226090000000048", "3012", 100)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("balance = 10.5", "balance must be an integer number of fen"),
        ("balance = -1", "must not be negative"),
        ("limit = 99.0", "limit must be an integer"),
        ('pan = "6226090000000049"', "fails the Luhn check"),
        ('pan = "62260900"', "13 to 19 digits"),
        ('expiry = "3013"', "expiry must be YYMM"),
        ("expiry = 3012", "expiry must be YYMM"),
        ('status = "blocked"', "status must be one of"),
        ('pin = "maybe"', "pin must be one of"),
        ('entry_mode = "51"', "entry_mode must be a string of 3 digits"),
        ('colour = "gold"', "unknown keys colour"),
    ],
)
def test_a_bad_entry_is_refused_naming_the_file_and_the_card(tmp_path, line, reason):
    key = line.split(" = ")[0]
    body = "\n".join(row for row in GOOD_CARD.splitlines() if not row.startswith(f"{key} ="))
    path = _write(tmp_path, f"version = 1\n{body}\n{line}\n")
    with pytest.raises(ConfigError, match=reason) as caught:
        load_cards(path)
    assert str(path) in str(caught.value)
    assert "card 'mine'" in str(caught.value)


def test_a_failing_pan_is_reported_masked(tmp_path):
    path = _write(tmp_path, "version = 1\n" + GOOD_CARD.replace("0048", "0049"))
    with pytest.raises(ConfigError) as caught:
        load_cards(path)
    assert "6226090000000049" not in str(caught.value)
    assert "622609******0049" in str(caught.value)


def test_a_missing_key_is_named(tmp_path):
    path = _write(tmp_path, "version = 1\n" + GOOD_CARD.replace('expiry = "3012"\n', ""))
    with pytest.raises(ConfigError, match="missing expiry"):
        load_cards(path)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (GOOD_CARD, "version must be 1"),
        ("version = 2\n" + GOOD_CARD, "version must be 1"),
        ("version = 1\n", "at least one"),
        ("version = 1\n" + GOOD_CARD + GOOD_CARD, "defined twice"),
        ("version = 1\n" + GOOD_CARD + GOOD_CARD.replace('"mine"', '"twin"'), "same PAN"),
        ("version = 1\nversion = 1", "cannot parse"),
    ],
)
def test_a_bad_card_file_is_refused(tmp_path, text, reason):
    with pytest.raises(ConfigError, match=reason):
        load_cards(_write(tmp_path, text))


def test_a_missing_card_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read card file"):
        load_cards(tmp_path / "none.toml")
