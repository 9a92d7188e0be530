"""Masking a frame's DATA for a trace: still a message, no card number left in it."""

from __future__ import annotations

from simulator import load_cards
from terminal.card_data import luhn_valid
from terminal.protocol import IccData, Message, Tlv, Tpdu, decode, encode, strip_length_prefix
from terminal.trace import mask_data
from terminal.trace.mask import mask_digits

CARD = load_cards()["approved"]
TPDU, HEADER = Tpdu(0x60, 0x0006, 0x0000), "603200320002"


def _sale_with_card_data() -> bytes:
    icc = IccData((
        Tlv("9F26", bytes(8)),
        Tlv("5A", bytes.fromhex(CARD.pan + ("F" if len(CARD.pan) % 2 else ""))),
        Tlv("57", bytes.fromhex(f"{CARD.pan}D{CARD.expiry}201000012345F"[:38])),
    ))
    fields = {
        2: CARD.pan, 3: "000000", 4: "000000001234", 11: "000001",
        35: f"{CARD.pan}D{CARD.expiry}2010000123", 41: "10008060", 42: "898100000000001",
        49: "156", 52: bytes.fromhex("1234567890ABCDEF"), 55: icc,
    }
    return encode(Message("0200", fields, TPDU, HEADER))


def test_a_masked_request_still_decodes_with_its_card_fields_masked():
    masked = decode(mask_data(_sale_with_card_data()))
    pan = CARD.pan
    assert masked[2] == mask_digits(pan) != pan
    assert masked[2][:6] == pan[:6] and masked[2][-4:] == pan[-4:]
    assert masked[35].startswith(masked[2] + "D")
    assert set(masked[35][len(pan) + 1 :]) == {"0"}
    assert masked[52] == bytes(8)
    assert masked[55].get("5A").hex().startswith(pan[:6] + "000")
    assert masked[55].get("9F26") == bytes(8)
    assert masked[4] == "000000001234" and masked[11] == "000001"


def test_no_card_number_survives_masking_in_hex_or_ascii():
    masked = mask_data(_sale_with_card_data())
    assert CARD.pan not in masked.hex()
    assert CARD.pan.encode() not in masked


def test_the_golden_sale_capture_masks_to_a_message_without_its_card_number():
    from tests.protocol.test_golden import SALE

    data = strip_length_prefix(SALE)
    original = decode(data)
    masked = mask_data(data)
    assert original[2] not in masked.hex()
    assert decode(masked)[2] == mask_digits(original[2])


def test_data_that_does_not_decode_has_its_long_digit_runs_scrubbed():
    broken = b"\x99\x99" + bytes.fromhex(CARD.pan) + b"garbage" + CARD.pan.encode()
    scrubbed = mask_data(broken)
    assert CARD.pan not in scrubbed.hex() and CARD.pan.encode() not in scrubbed
    assert len(scrubbed) == len(broken)


def test_mask_digits_keeps_the_first_six_and_last_four():
    assert mask_digits("6226091234561234") == "6226090000001234"
    short = mask_digits("12345678")  # too short to keep 10 digits: only the last 4
    assert short.endswith("5678") and set(short[:4]) <= {"0", "1"}


def test_a_masked_number_is_never_a_valid_card_number_not_even_the_same_one():
    # This test card has nothing but zeros between its first 6 and last 4 digits.
    pan = CARD.pan
    assert pan[6:-4] == "0" * (len(pan) - 10)
    masked = mask_digits(pan)
    assert masked != pan and not luhn_valid(masked)
