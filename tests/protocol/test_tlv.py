"""BER-TLV for field 55: EMV Book 3 tags and lengths, byte-exact round trips."""

from __future__ import annotations

import pytest
from hypothesis import given
from protocol_strategies import tlvs

from terminal.protocol import IccData, Tlv, TlvError


def test_multi_byte_tags_and_long_lengths_parse() -> None:
    data = bytes.fromhex("9F1E08" + "3530373033363635" + "DF810102AABB" + "5F2A820002" + "0156")
    icc = IccData.from_bytes(data)
    assert [item.tag for item in icc] == ["9F1E", "DF8101", "5F2A"]
    assert icc.get("DF8101") == bytes.fromhex("AABB")
    assert icc.get("5f2a") == bytes.fromhex("0156")
    assert icc.to_bytes() == data  # the non-minimal 82 0002 length is kept


def test_constructed_tags_nest_and_get_looks_inside() -> None:
    data = bytes.fromhex("77079F27018082017C9F36020001")
    icc = IccData.from_bytes(data)
    assert isinstance(icc[0].value, IccData)
    assert icc[0].constructed
    assert icc.get("82") == b"\x7c"
    assert icc.get("9F36") == b"\x00\x01"
    assert icc.get("9F99", b"none") == b"none"
    assert icc.to_bytes() == data


def test_unknown_tags_and_duplicates_are_kept_in_order() -> None:
    data = bytes.fromhex("DF7F01019F2701809F270140")
    icc = IccData.from_bytes(data)
    assert [(item.tag, item.value) for item in icc] == [
        ("DF7F", b"\x01"),
        ("9F27", b"\x80"),
        ("9F27", b"\x40"),
    ]
    assert icc.to_bytes() == data


def test_a_changed_value_gets_a_fresh_minimal_length() -> None:
    original = IccData.from_bytes(bytes.fromhex("9F2781020001"))
    changed = IccData((Tlv("9F27", bytes(200), original[0].length_encoding),))
    assert changed.to_bytes()[:4] == bytes.fromhex("9F2781C8")


@pytest.mark.parametrize(
    ("hex_data", "field", "offset"),
    [
        ("9F", None, 0),  # tag cut short
        ("9F26", "9F26", 2),  # no length
        ("9F2608AA", "9F26", 2),  # value short
        ("9F2680", "9F26", 2),  # indefinite length
        ("70039F2605", "70.9F26", 4),  # inside a template
    ],
)
def test_malformed_tlv_names_tag_and_offset(hex_data: str, field: str | None, offset: int) -> None:
    with pytest.raises(TlvError) as caught:
        IccData.from_bytes(bytes.fromhex(hex_data))
    assert (caught.value.field, caught.value.offset) == (field, offset)


@pytest.mark.parametrize("tag", ["9f26", "9F", "1F", "9F80", "ZZ", "", 0x9F26])
def test_bad_tags_are_refused(tag: object) -> None:
    with pytest.raises(ValueError):
        Tlv(tag, b"")  # type: ignore[arg-type]


@given(tlvs(depth=2))
def test_tlv_round_trips(icc: IccData) -> None:
    assert IccData.from_bytes(icc.to_bytes()) == icc


def test_zero_padding_before_between_and_after_objects_is_skipped_and_kept():
    wire = bytes.fromhex("00" "9F2701" "80" "0000" "9C0100" "000000")
    icc = IccData.from_bytes(wire)
    assert [(t.tag, t.value) for t in icc] == [("9F27", b"\x80"), ("9C", b"\x00")]
    assert icc == IccData((Tlv("9F27", b"\x80"), Tlv("9C", b"\x00")))
    assert icc.to_bytes() == wire


def test_a_message_whose_chip_data_is_zero_padded_decodes_and_encodes_back_unchanged():
    from terminal.protocol import Message, Tpdu, decode, encode

    padded = IccData.from_bytes(bytes.fromhex("9F2701800000"))
    wire = encode(Message("0200", {55: padded}, tpdu=Tpdu(), header="603200320002"))
    message = decode(wire)
    assert message[55].get("9F27") == b"\x80"
    assert encode(message) == wire
