"""The JSON shape other tools read, and the TCP length prefix."""

from __future__ import annotations

import pytest

from terminal.protocol import (
    EncodeValueError,
    Message,
    Tpdu,
    UnknownFieldError,
    add_length_prefix,
    decode,
    message_from_json,
    message_to_json,
    strip_length_prefix,
)

ECHO = bytes.fromhex(
    "600006000060320099000208200000000000C0001031313030303238343538353239303034383134"
    "303030310011000000013010"
)


def test_json_shape_of_a_cup_message() -> None:
    message = Message(
        "0200",
        {
            64: b"\xaa" * 8,
            3: "000000",
            55: message_from_json(
                {
                    "mti": "0200",
                    "fields": {"55": {"9F27": "80", "70": {"82": "7c00"}, "95": ["00", "01"]}},
                }
            )[55],
            60: {"message_type": "22"},
        },
        Tpdu(0x60, 6, 0),
        "603200320002",
    )
    assert message_to_json(message) == {
        "mti": "0200",
        "tpdu": "6000060000",
        "header": "603200320002",
        "fields": {
            "3": "000000",
            "55": {"9F27": "80", "70": {"82": "7c00"}, "95": ["00", "01"]},
            "60": {"message_type": "22"},
            "64": "AA:AA:AA:AA:AA:AA:AA:AA",  # colons: a CUP MAC's plain hex is all digits
        },
    }
    assert list(message_to_json(message)["fields"]) == ["3", "55", "60", "64"]


def test_iso87ascii_json_has_no_envelope_and_55_is_hex() -> None:
    message = Message("0200", {55: b"\x9f\x27\x01\x80", 2: "1234"})
    assert message_to_json(message, "iso87ascii") == {
        "mti": "0200",
        "fields": {"2": "1234", "55": "9F:27:01:80"},
    }


@pytest.mark.parametrize(
    ("obj", "kind", "field"),
    [
        ({"mti": "02", "fields": {}}, EncodeValueError, "mti"),
        ({"mti": "0200", "tpdu": "xyz", "fields": {}}, EncodeValueError, "tpdu"),
        ({"mti": "0200", "fields": {"x": "1"}}, UnknownFieldError, "x"),
        ({"mti": "0200", "fields": {"9": "1"}}, UnknownFieldError, "9"),
        ({"mti": "0200", "fields": {"52": "zz"}}, EncodeValueError, "52"),
        ({"mti": "0200", "fields": {"3": 310000}}, EncodeValueError, "3"),
        ({"mti": "0200", "fields": {"55": {"9f26": "00"}}}, EncodeValueError, "55.9f26"),
        ({"mti": "0200", "colour": "red"}, EncodeValueError, "message"),
    ],
)
def test_bad_json_raises_naming_the_part(obj: dict, kind: type, field: str) -> None:
    with pytest.raises(kind) as caught:
        message_from_json(obj)
    assert caught.value.field == field


def test_length_prefix_round_trip() -> None:
    framed = add_length_prefix(ECHO)
    assert framed[:2] == len(ECHO).to_bytes(2, "big")
    assert decode(strip_length_prefix(framed)) == decode(ECHO)
