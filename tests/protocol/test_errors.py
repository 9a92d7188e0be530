"""Every failure is a ProtocolError of the right kind, naming field and offset."""

from __future__ import annotations

import copy

import pytest

from terminal.errors import ProtocolError
from terminal.protocol import (
    BcdError,
    EncodeValueError,
    IccData,
    LengthError,
    Message,
    TlvError,
    Tpdu,
    TrailingBytesError,
    TruncatedError,
    UnknownFieldError,
    add_length_prefix,
    decode,
    encode,
    strip_length_prefix,
)
from terminal.protocol.errors import CharacterError

ECHO = bytes.fromhex(
    "600006000060320099000208200000000000C0001031313030303238343538353239303034383134"
    "303030310011000000013010"
)
TPDU = Tpdu(0x60, 6, 0)
HEADER = "603200320002"


def cup(fields: dict) -> bytes:
    return encode(Message("0200", fields, TPDU, HEADER))


def test_truncated_fixed_field_names_field_and_its_offset() -> None:
    with pytest.raises(TruncatedError) as caught:
        decode(ECHO[:25])  # inside field 41 (starts at 21)
    assert caught.value.field == "41"
    assert caught.value.offset == 21
    assert caught.value.decoded == {}
    assert ">31<" in caught.value.window


def test_truncated_length_prefix_is_reported_after_the_decoded_fields() -> None:
    with pytest.raises(TruncatedError) as caught:
        decode(ECHO[:45])  # one byte of 60's two-byte LLL
    assert (caught.value.field, caught.value.offset) == ("60", 44)
    assert set(caught.value.decoded) == {41, 42}


def test_truncated_variable_data_offset_is_where_the_data_starts() -> None:
    with pytest.raises(TruncatedError) as caught:
        decode(ECHO[:-1])
    assert (caught.value.field, caught.value.offset) == ("60", 46)


@pytest.mark.parametrize(
    ("cut", "field"), [(3, "tpdu"), (8, "header"), (12, "mti"), (15, "bitmap")]
)
def test_truncated_envelope_names_the_part(cut: int, field: str) -> None:
    with pytest.raises(TruncatedError) as caught:
        decode(ECHO[:cut])
    assert caught.value.field == field


def test_truncated_secondary_bitmap() -> None:
    data = encode(Message("0800", {70: "301"}), "iso87ascii")
    with pytest.raises(TruncatedError) as caught:
        decode(data[:14], "iso87ascii")
    assert (caught.value.field, caught.value.offset) == ("bitmap", 4)


def test_bad_bcd_nibble_in_a_field() -> None:
    data = bytearray(cup({3: "310000", 11: "000052"}))
    data[21 + 3 + 1] = 0x0A  # second byte of field 11
    with pytest.raises(BcdError) as caught:
        decode(bytes(data))
    assert (caught.value.field, caught.value.offset) == ("11", 25)
    assert caught.value.decoded == {3: "310000"}


def test_bad_bcd_in_header_mti_and_length_prefix() -> None:
    for index, field in ((6, "header"), (12, "mti"), (44, "60")):
        data = bytearray(ECHO)
        data[index] = 0xAB
        with pytest.raises(BcdError) as caught:
            decode(bytes(data))
        assert (caught.value.field, caught.value.offset) == (field, index)


def test_wrong_pad_nibble_is_a_bcd_error() -> None:
    data = bytearray(cup({22: "051"}))
    data[-1] = 0x1A
    with pytest.raises(BcdError) as caught:
        decode(bytes(data))
    assert (caught.value.field, caught.value.offset) == ("22", len(data) - 1)


def test_non_digit_in_ascii_field_and_prefix() -> None:
    data = bytearray(encode(Message("0200", {2: "1234", 3: "000000"}), "iso87ascii"))
    data[12] = ord("x")  # first length digit of field 2
    with pytest.raises(CharacterError) as caught:
        decode(bytes(data), "iso87ascii")
    assert (caught.value.field, caught.value.offset) == ("2", 12)
    data[12] = ord("0")
    data[15] = ord("A")  # second digit of field 2's data
    with pytest.raises(CharacterError) as caught:
        decode(bytes(data), "iso87ascii")
    assert (caught.value.field, caught.value.offset) == ("2", 15)


def test_length_over_the_maximum() -> None:
    data = bytearray(cup({2: "6214830117451467"}))
    data[21] = 0x20  # 20 digits > n..19
    with pytest.raises(LengthError) as caught:
        decode(bytes(data))
    assert (caught.value.field, caught.value.offset) == ("2", 21)


def test_bitmap_bit_without_a_format_is_unknown() -> None:
    data = bytearray(ECHO)
    data[13] |= 0x01  # bit 8: cup has no field 8
    with pytest.raises(UnknownFieldError) as caught:
        decode(bytes(data))
    assert (caught.value.field, caught.value.offset) == ("bitmap", 13)


def test_trailing_bytes_are_rejected() -> None:
    with pytest.raises(TrailingBytesError) as caught:
        decode(ECHO + b"\x00")
    assert caught.value.offset == len(ECHO)
    assert set(caught.value.decoded) == {41, 42, 60}


def test_bad_tlv_names_the_tag_and_offset() -> None:
    data = cup({55: bytes.fromhex("9F260800")})  # 8 bytes announced, 1 present
    with pytest.raises(TlvError) as caught:
        decode(data)
    assert caught.value.field == "55.9F26"
    assert caught.value.offset == 21 + 2 + 2


def test_length_prefix_mismatch() -> None:
    framed = add_length_prefix(ECHO)
    with pytest.raises(LengthError) as caught:
        strip_length_prefix(framed + b"\x00")
    assert caught.value.field == "length"
    with pytest.raises(TruncatedError):
        strip_length_prefix(b"\x01")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({3: "31000"}, "3"),  # fixed field one short: no silent padding
        ({3: "3100000"}, "3"),
        ({3: 310000}, "3"),  # not a str
        ({3: "31000a"}, "3"),  # not digits
        ({3: "３１００００"}, "3"),  # full-width digits are not ASCII digits
        ({2: "1" * 20}, "2"),  # over the maximum
        ({52: "0102030405060708"}, "52"),  # b needs bytes
        ({52: b"\x01" * 7}, "52"),
        ({35: "1234=5678"}, "35"),  # cup z uses D, not =
        ({37: "RRN-12345678"}, "37"),  # an: no punctuation
        ({41: "终端0001"}, "41"),  # ans: ASCII
        ({60: {"batch": "000001"}}, "60.message_type"),  # a gap before batch: the missing one
        # only the last may be short
        ({60: {"message_type": "2", "batch": "000001"}}, "60.message_type"),
        ({60: {"message_type": "22", "batch": "1234567"}}, "60.batch"),
        ({60: {"message_type": "22", "colour": "1"}}, "60.colour"),
        ({55: "9F2601"}, "55"),
    ],
)
def test_encode_rejects_wrong_values_naming_the_field(fields: dict, field: str) -> None:
    with pytest.raises(EncodeValueError) as caught:
        cup(fields)
    assert caught.value.field == field
    assert caught.value.offset is None


def test_encode_rejects_fields_the_dialect_lacks() -> None:
    for number in (1, 5, 200):
        with pytest.raises(UnknownFieldError) as caught:
            cup({number: "1"})
        assert caught.value.field == str(number)
    with pytest.raises(UnknownFieldError):
        cup({"3": "310000"})


def test_encode_needs_the_envelope_of_the_dialect() -> None:
    with pytest.raises(EncodeValueError) as caught:
        encode(Message("0200", {3: "310000"}))
    assert caught.value.field == "tpdu"
    with pytest.raises(EncodeValueError) as caught:
        encode(Message("0200", {}, TPDU, "6032"))
    assert caught.value.field == "header"
    with pytest.raises(EncodeValueError) as caught:
        encode(Message("0200", {}, TPDU, HEADER), "iso87ascii")
    assert caught.value.field == "tpdu"


def test_encode_does_not_change_the_callers_message_or_dict() -> None:
    values = {
        3: "310000",
        55: IccData.from_bytes(bytes.fromhex("9F270180")),
        60: {"message_type": "22", "batch": "000006"},
        64: b"\x00" * 8,
    }
    snapshot = copy.deepcopy(values)
    message = Message("0200", values, TPDU, HEADER)
    before = copy.deepcopy(message)
    encode(message)
    assert message == before
    assert values == snapshot
    assert 1 not in message.fields


def test_decode_rejects_a_non_bytes_input_as_protocol_error() -> None:
    with pytest.raises(ProtocolError):
        decode("6000")  # type: ignore[arg-type]
