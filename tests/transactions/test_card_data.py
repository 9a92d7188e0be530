import os

from terminal.card_data import load_token_key, luhn_valid, mask_pan, protect_pan

PAN = "6214830117451467"  # golden vector test card


def test_mask_keeps_first_six_and_last_four():
    assert mask_pan(PAN) == "621483******1467"
    assert mask_pan("6200000000000000005") == "620000*********0005"


def test_short_values_never_show_in_full():
    assert mask_pan("123456789") == "*****6789"
    assert mask_pan("1234") == "****"


def test_token_matches_same_card_and_differs_across_cards_and_keys():
    key = b"k" * 32
    assert protect_pan(PAN, key).token == protect_pan(PAN, key).token
    assert protect_pan(PAN, key).token != protect_pan("6214830117451475", key).token
    assert protect_pan(PAN, key).token != protect_pan(PAN, b"j" * 32).token
    assert PAN not in repr(protect_pan(PAN, key)) and PAN not in str(protect_pan(PAN, key))


def test_token_key_is_created_private_once_and_reused(tmp_path):
    path = tmp_path / "sub" / "token.key"
    first = load_token_key(path)
    assert len(first) == 32
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert load_token_key(path) == first


def test_luhn():
    assert luhn_valid(PAN)
    assert not luhn_valid("6214830117451468")
    assert not luhn_valid("62148301174514x7")
