"""Each field format, in both dialects, on the wire exactly as the conventions say."""

from __future__ import annotations

import pytest

from terminal.protocol import (
    DialectError,
    EncodeValueError,
    FieldFormat,
    IccData,
    Message,
    Tlv,
    Tpdu,
    decode,
    encode,
)
from terminal.protocol.dialect import Dialect

TPDU = Tpdu(0x60, 6, 0)
HEADER = "603200320002"
CUP_HEAD = bytes.fromhex("6000060000603200320002")


def cup_body(fields: dict) -> bytes:
    """The bytes after the bitmap of a cup 0200 with ``fields``."""
    data = encode(Message("0200", fields, TPDU, HEADER))
    assert data[:11] == CUP_HEAD
    assert decode(data) == Message("0200", fields, TPDU, HEADER)
    return data[13 + 8 :]


def iso_body(fields: dict) -> bytes:
    data = encode(Message("0200", fields), "iso87ascii")
    assert data[:4] == b"0200"
    assert decode(data, "iso87ascii") == Message("0200", fields)
    return data[4 + (16 if any(n > 64 for n in fields) else 8) :]


@pytest.mark.parametrize(
    ("number", "value", "wire"),
    [
        (3, "310000", "310000"),  # n6 fixed, BCD
        (22, "051", "0510"),  # n3 odd: left-aligned, trailing 0 pad
        (4, "000000001234", "000000001234"),
        (2, "6214830117451467", "166214830117451467"),  # n..19 LL: BCD digit count
        (2, "621483011745146", "156214830117451460"),  # odd LL: pad nibble
        (35, "6214D2403", "096214D24030"),  # z: D separator, packed
        (36, "1" * 101, "0101" + "1" * 101 + "0"),  # z..104 LLL: 2-byte BCD length
        (37, "000000123456", b"000000123456".hex()),  # an12 ASCII
        (41, "T-01 #8a", b"T-01 #8a".hex()),  # ans8
        (44, "AB 12", "05" + b"AB 12".hex()),  # an..25 LL counts bytes
        (48, "12345", "0005" + "123450"),  # n..322 LLL: digits, packed
        (52, bytes.fromhex("0102030405060708"), "0102030405060708"),  # b64
        (59, "x" * 120, "0120" + b"x".hex() * 120),  # ans..999 LLL
        (63, "CUP银联", "0007" + "CUP银联".encode("gbk").hex()),  # GBK text
    ],
)
def test_cup_field_formats_on_the_wire(number: int, value: object, wire: str) -> None:
    assert cup_body({number: value}) == bytes.fromhex(wire)


def test_cup_icc_data_is_tlv_with_lll_byte_length() -> None:
    icc = IccData((Tlv("9F26", bytes(8)), Tlv("70", IccData((Tlv("9F27", b"\x80"),)))))
    assert cup_body({55: icc}) == bytes.fromhex("0017" + "9F2608" + "00" * 8 + "70049F270180")


def test_cup_field_60_subfields_join_in_table_order_and_may_end_partial() -> None:
    value = {"message_type": "22", "batch": "000006", "network_code": "0"}
    assert cup_body({60: value}) == bytes.fromhex("0009" + "2200000600")


def test_cup_field_61_full_layout_round_trips() -> None:
    value = {
        "original_batch": "000001",
        "original_trace": "000052",
        "original_date": "0726",
        "authorization_method": "00",
        "authorization_institution": "12345678901",
    }
    assert cup_body({61: value})[:2] == bytes.fromhex("0029")


@pytest.mark.parametrize(
    ("number", "value", "wire"),
    [
        (3, "310000", b"310000"),  # n6 ASCII
        (22, "051", b"051"),  # odd digits need no pad in ASCII
        (2, "6214830117451467", b"166214830117451467"),  # LL ASCII
        (35, "6214=2403D1", b"116214=2403D1"),  # z ASCII: = and D
        (36, "1" * 104, b"104" + b"1" * 104),  # LLL ASCII
        (28, "C00000100", b"C00000100"),  # x+n as an
        (43, "SHOP 1, BEIJING", None),
        (52, b"\x00" * 8, b"\x00" * 8),
        (55, b"\x9f\x26\x01\x00", b"004\x9f\x26\x01\x00"),  # plain bytes here
        (70, "301", b"301"),  # a secondary-bitmap field
        (102, "ACC-1", b"05ACC-1"),
        (128, b"\x01" * 8, b"\x01" * 8),
    ],
)
def test_iso87ascii_field_formats_on_the_wire(number: int, value: object, wire: bytes) -> None:
    if number == 43:
        with pytest.raises(EncodeValueError):  # ans40 is fixed: no silent padding
            iso_body({number: value})
        assert iso_body({number: value.ljust(40)}) == value.ljust(40).encode()
        return
    assert iso_body({number: value}) == wire


def test_right_aligned_numerics_pad_at_the_front() -> None:
    dialect = Dialect(
        "rightpad",
        {2: FieldFormat("n", 19, "LL", align="right", pad=0xF), 3: FieldFormat("n", 3)},
    )
    data = encode(Message("0200", {2: "123", 3: "051"}), dialect)
    assert data[2 + 8 :] == bytes.fromhex("03F1230510")
    assert decode(data, dialect).fields == {2: "123", 3: "051"}


def test_binary_length_prefix_dialect_round_trips() -> None:
    dialect = Dialect("binlen", {48: FieldFormat("ans", 300, "LLL", prefix_encoding="binary")})
    data = encode(Message("0200", {48: "x" * 300}), dialect)
    assert data[10:12] == (300).to_bytes(2, "big")
    assert decode(data, dialect)[48] == "x" * 300


@pytest.mark.parametrize(
    "make",
    [
        lambda: FieldFormat("q", 3),  # type: ignore[arg-type]
        lambda: FieldFormat("n", 0),
        lambda: FieldFormat("n", 100, "LL"),
        lambda: FieldFormat("n", 3, pad=16),
        lambda: FieldFormat("an", 3, structure="tlv"),
        lambda: FieldFormat("b", 3, charset="gbk"),
        lambda: Dialect("x", {1: FieldFormat("n", 3)}),
        lambda: Dialect("x", {129: FieldFormat("n", 3)}),
        lambda: Dialect("x", {2: "n..19"}),  # type: ignore[dict-item]
        lambda: Dialect("x", {}, header_digits=3),
    ],
)
def test_a_bad_table_is_rejected_when_it_is_built(make) -> None:
    with pytest.raises(DialectError):
        make()


def test_odd_numeric_padded_with_f_by_a_peer_is_read_and_other_pads_are_refused():
    from terminal.protocol import decode, encode
    from terminal.protocol.errors import BcdError
    from terminal.protocol.message import Message, Tpdu

    wire = encode(Message("0200", {22: "051"}, tpdu=Tpdu(), header="603200320002"))
    assert wire.endswith(bytes.fromhex("0510"))
    assert decode(wire[:-1] + b"\x1f")[22] == "051"
    with pytest.raises(BcdError) as caught:
        decode(wire[:-1] + b"\x1a")
    assert caught.value.field == "22" and caught.value.offset == len(wire) - 1
