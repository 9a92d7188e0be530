"""Regressions from the codec review: field 62, TLV value types, varying bitmaps,
leaking exceptions, key validation and subfield errors."""

from __future__ import annotations

import json
import random

import pytest
from typer.testing import CliRunner

from terminal.cli.app import app
from terminal.errors import ProtocolError
from terminal.protocol import (
    EncodeValueError,
    IccData,
    Message,
    Tlv,
    TlvError,
    Tpdu,
    UnknownFieldError,
    decode,
    encode,
    message_from_json,
    message_to_json,
)
from terminal.protocol.tlv import MAX_DEPTH

TPDU = Tpdu(0x60, 6, 0)
HEADER = "603200320002"
RUNNER = CliRunner()


def cup_message(fields: dict) -> Message:
    return Message("0810", fields, TPDU, HEADER)


def nested(levels: int) -> IccData:
    """``levels`` levels of items: ``70`` templates around one ``9F27``."""
    icc = IccData((Tlv("9F27", b"\x80"),))
    for _ in range(levels - 1):
        icc = IccData((Tlv("70", icc),))
    return icc


# -- 1. cup field 62 is binary ------------------------------------------------------


def test_cup_field_62_carries_binary_working_keys_with_a_bcd_byte_count() -> None:
    keys = bytes(range(256))[:40] + b"\x00\xff\x80"  # any byte, not just printable ASCII
    message = cup_message({39: "00", 62: keys})
    data = encode(message)
    assert data.endswith(bytes.fromhex("0043") + keys)  # LLL: 2-byte BCD count of bytes
    assert decode(data) == message
    shown = message_to_json(message)
    assert shown["fields"]["62"] == keys.hex(":").upper()
    assert message_from_json(json.loads(json.dumps(shown))) == message


def test_cup_field_62_takes_up_to_512_bytes_and_refuses_text() -> None:
    assert decode(encode(cup_message({62: bytes(512)})))[62] == bytes(512)
    for value in (bytes(513), "working key"):
        with pytest.raises(EncodeValueError) as caught:
            encode(cup_message({62: value}))
        assert caught.value.field == "62"


# -- 2. constructed bit against the value type --------------------------------------


@pytest.mark.parametrize(
    ("icc", "field"),
    [
        (IccData((Tlv("70", b"\x01"),)), "55.70"),  # constructed tag holding bytes
        (IccData((Tlv("9F26", IccData((Tlv("82", b"\x7c\x00"),))),)), "55.9F26"),
        (IccData((Tlv("70", IccData((Tlv("9F27", IccData()),))),)), "55.70.9F27"),
        (IccData((Tlv("95", b"\x00"), Tlv("77", b"\x9f\x27\x01\x80"))), "55.77"),
    ],
)
def test_a_tlv_value_must_match_the_constructed_bit_of_its_tag(icc: IccData, field: str) -> None:
    with pytest.raises(EncodeValueError) as caught:
        encode(cup_message({55: icc}))
    assert caught.value.field == field
    with pytest.raises(EncodeValueError) as caught:
        icc.to_bytes()
    assert caught.value.field == field.removeprefix("55.")


def test_matching_tlv_values_still_encode_and_decode_back() -> None:
    icc = IccData((Tlv("9F26", bytes(8)), Tlv("70", IccData((Tlv("9F27", b"\x80"),)))))
    assert decode(encode(cup_message({55: icc})))[55] == icc
    assert Tlv("9F26", b"\x01").to_bytes() == bytes.fromhex("9F260101")


@pytest.mark.parametrize(
    ("shown", "field"),
    [
        ({"70": "01"}, "55.70"),
        ({"9F26": {"82": "7c00"}}, "55.9F26"),
        ({"70": {"9F27": {"82": "00"}}}, "55.70.9F27"),
        ({"70": [{"9F27": "80"}, "01"]}, "55.70"),
    ],
)
def test_json_tlv_must_match_the_constructed_bit_of_its_tag(shown: dict, field: str) -> None:
    obj = {"mti": "0200", "tpdu": TPDU.hex(), "header": HEADER, "fields": {"55": shown}}
    with pytest.raises(EncodeValueError) as caught:
        message_from_json(obj)
    assert caught.value.field == field


# -- 3. varying bitmaps: one parser, no per-bitmap state ------------------------------


def _iso(fields: dict) -> bytes:
    return encode(Message("0200", fields), "iso87ascii")


def test_messages_with_hundreds_of_distinct_bitmaps_all_round_trip() -> None:
    rnd = random.Random(7)
    pool = [2, 3, 4, 7, 11, 12, 13, 22, 25, 37, 41, 42, 49, 70, 100, 102]
    values = {
        2: "1234567890",
        3: "000000",
        4: "000000000100",
        7: "0726120000",
        11: "000001",
        12: "120000",
        13: "0726",
        22: "051",
        25: "00",
        37: "RRN123456789",
        41: "T0000001",
        42: "MERCHANT 000001",
        49: "156",
        70: "301",
        100: "12345678901",
        102: "ACC-1",
    }
    seen = set()
    while len(seen) < 300:
        numbers = tuple(sorted(rnd.sample(pool, rnd.randint(1, len(pool)))))
        if numbers in seen:
            continue
        seen.add(numbers)
        message = Message("0200", {number: values[number] for number in numbers})
        data = encode(message, "iso87ascii")
        assert decode(data, "iso87ascii") == message


def test_garbage_with_random_bitmaps_is_refused_and_good_messages_decode_the_same() -> None:
    hot = [_iso({3: "000000"}), _iso({11: "000001", 41: "T0000001"})]
    before = [decode(data, "iso87ascii") for data in hot]
    rnd = random.Random(1)
    for _ in range(200):
        bitmap = bytes([rnd.randrange(128)]) + bytes(rnd.randrange(256) for _ in range(7))
        with pytest.raises(ProtocolError):
            decode(b"0200" + bitmap + b"1" * 7, "iso87ascii")
    assert [decode(data, "iso87ascii") for data in hot] == before


def test_a_failed_decode_or_encode_does_not_affect_the_next_one() -> None:
    good = _iso({3: "000000", 4: "000000000100"})
    with pytest.raises(ProtocolError):
        decode(good[:-1], "iso87ascii")  # truncated inside field 4
    with pytest.raises(EncodeValueError):
        encode(Message("0200", {3: "00000x"}), "iso87ascii")
    assert decode(good, "iso87ascii").fields == {3: "000000", 4: "000000000100"}
    assert _iso({3: "000000"}).endswith(b"000000")


# -- 4. no exceptions other than ProtocolError ----------------------------------------


@pytest.mark.parametrize(
    "parts", [(0x60, 6.0, 0), (True, 6, 0), ("60", 6, 0), (0x60, 6, None), (0x60, 6, False)]
)
def test_tpdu_parts_must_be_ints(parts: tuple) -> None:
    with pytest.raises(TypeError):
        Tpdu(*parts)


def test_encoding_a_tpdu_changed_behind_its_back_is_an_encode_value_error() -> None:
    tpdu = Tpdu(0x60, 6, 0)
    object.__setattr__(tpdu, "destination", 6.0)  # bypasses the frozen dataclass
    with pytest.raises(EncodeValueError) as caught:
        encode(Message("0800", {11: "000001"}, tpdu, HEADER))
    assert caught.value.field == "tpdu"
    object.__setattr__(tpdu, "destination", 1 << 20)
    with pytest.raises(EncodeValueError):
        encode(Message("0800", {11: "000001"}, tpdu, HEADER))


def test_tlv_nesting_deeper_than_the_limit_is_a_tlv_error_not_a_recursion_error() -> None:
    deep = b""
    for _ in range(2000):
        deep = b"\x70\x82" + len(deep).to_bytes(2, "big") + deep
    with pytest.raises(TlvError):
        IccData.from_bytes(deep)
    assert IccData.from_bytes(nested(MAX_DEPTH).to_bytes()) == nested(MAX_DEPTH)
    too_deep = IccData((Tlv("70", IccData((Tlv("70", IccData()),))),)).to_bytes()
    for _ in range(MAX_DEPTH - 2):
        too_deep = b"\x70" + bytes([len(too_deep)]) + too_deep
    with pytest.raises(TlvError) as caught:
        decode(encode(cup_message({55: too_deep})))  # raw bytes are sent as they are
    assert caught.value.field == "55" + ".70" * MAX_DEPTH


def test_encoding_tlv_nested_deeper_than_the_limit_is_an_encode_value_error() -> None:
    assert decode(encode(cup_message({55: nested(MAX_DEPTH)})))[55] == nested(MAX_DEPTH)
    with pytest.raises(EncodeValueError) as caught:
        encode(cup_message({55: nested(MAX_DEPTH + 1)}))
    assert caught.value.field == "55" + ".70" * MAX_DEPTH
    with pytest.raises(EncodeValueError):
        nested(2000).to_bytes()


def _deep_json_55(levels: int) -> dict:
    inner: dict = {"9F27": "80"}
    for _ in range(levels - 1):
        inner = {"70": inner}
    return {"mti": "0200", "tpdu": TPDU.hex(), "header": HEADER, "fields": {"55": inner}}


def test_json_tlv_nesting_deeper_than_the_limit_is_an_encode_value_error() -> None:
    assert message_from_json(_deep_json_55(MAX_DEPTH)).fields[55] == nested(MAX_DEPTH)
    with pytest.raises(EncodeValueError) as caught:
        message_from_json(_deep_json_55(250))
    assert caught.value.field == "55" + ".70" * MAX_DEPTH


def test_cli_encode_of_deeply_nested_json_exits_2_without_a_traceback() -> None:
    for text in ("[" * 100_000 + "]" * 100_000, json.dumps(_deep_json_55(250))):
        result = RUNNER.invoke(app, ["encode", "-"], input=text)
        assert result.exit_code == 2, result.output
        assert "nested" in result.stderr and "Traceback" not in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)


# -- 5. field numbers must be ints ----------------------------------------------------


@pytest.mark.parametrize("key", [3.0, True, "3", None])
def test_encode_refuses_non_int_field_numbers_that_equal_a_valid_one(key: object) -> None:
    encode(Message("0200", {3: "000000"}), "iso87ascii")  # the int key itself is fine
    for _ in range(2):
        with pytest.raises(UnknownFieldError) as caught:
            encode(Message("0200", {key: "000000"}), "iso87ascii")
        assert caught.value.field == str(key)
        with pytest.raises(UnknownFieldError):
            encode(Message("0200", {key: "000000", 11: "000001"}), "iso87ascii")


# -- 6. subfield errors name the subfield ---------------------------------------------


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ({"message_type": "2a"}, "60.message_type"),
        ({"message_type": "22", "batch": "00000x"}, "60.batch"),
        ({"message_type": "22", "batch": "０００００１"}, "60.batch"),  # full-width digits
        ({"message_type": "22", "batch": "0000011"}, "60.batch"),  # too long
        ({"message_type": "22", "batch": 1}, "60.batch"),
        ({"message_type": "22", "batch": "000001", "network_code": "3011"}, "60.network_code"),
    ],
)
def test_subfield_errors_name_the_subfield(value: dict, field: str) -> None:
    with pytest.raises(EncodeValueError) as caught:
        encode(cup_message({60: value}))
    assert caught.value.field == field
    assert field.split(".")[1] in caught.value.reason


def test_field_61_subfield_errors_name_the_subfield() -> None:
    with pytest.raises(EncodeValueError) as caught:
        encode(cup_message({61: {"original_batch": "000001", "original_trace": "00001?"}}))
    assert caught.value.field == "61.original_trace"
