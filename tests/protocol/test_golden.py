"""The two real CUP captures in cup-golden.md decode to the listed values and back."""

from __future__ import annotations

from terminal.protocol import (
    IccData,
    Tpdu,
    add_length_prefix,
    decode,
    encode,
    strip_length_prefix,
)

SALE = bytes.fromhex(
    "010D60000600006032003200020200702406C020C09A111662148301174514670000000000000000"
    "010000522403051000000012376214830117451467D2403220119630075963103130303038303630"
    "383938313030303030303030303031313536587582A52626330E260000000000000001389F2608AC"
    "F958C80FF744039F2701809F101307010103A0A802010A010000000000328E7BDA9F37045FEA9AF8"
    "9F360201969505008004E0009A031607269C01009F02060000000000015F2A02015682027C009F1A"
    "0201569F3303E0F0C89F34034203009F3501228408A0000003330101019F090200309F1E08353037"
    "30333636359F03060000000000000014220000060006014432463142464232"
)
ECHO = bytes.fromhex(
    "600006000060320099000208200000000000C0001031313030303238343538353239303034383134"
    "303030310011000000013010"
)


def test_sale_capture_decodes_to_the_listed_values() -> None:
    assert len(SALE) == 271
    message = decode(strip_length_prefix(SALE))
    assert message.tpdu == Tpdu(0x60, 0x0006, 0x0000)
    assert message.header == "603200320002"
    assert message.mti == "0200"
    assert sorted(message.fields) == [
        2,
        3,
        4,
        11,
        14,
        22,
        23,
        25,
        26,
        35,
        41,
        42,
        49,
        52,
        53,
        55,
        60,
        64,
    ]
    expected = {
        2: "6214830117451467",
        3: "000000",
        4: "000000000001",
        11: "000052",
        14: "2403",
        22: "051",
        23: "000",
        25: "00",
        26: "12",
        35: "6214830117451467D24032201196300759631",
        41: "10008060",
        42: "898100000000001",
        49: "156",
        52: bytes.fromhex("587582a52626330e"),
        53: "2600000000000000",
        64: bytes.fromhex("4432463142464232"),
    }
    for number, value in expected.items():
        assert message[number] == value, number
    assert message[60] == {
        "message_type": "22",
        "batch": "000006",
        "network_code": "000",
        "terminal_read_capability": "6",
        "ic_condition": "0",
        "partial_approval": "1",
    }


def test_sale_capture_icc_data_is_parsed_tlv_in_wire_order() -> None:
    icc = decode(strip_length_prefix(SALE))[55]
    assert isinstance(icc, IccData)
    assert len(icc.to_bytes()) == 138
    assert [item.tag for item in icc] == [
        "9F26",
        "9F27",
        "9F10",
        "9F37",
        "9F36",
        "95",
        "9A",
        "9C",
        "9F02",
        "5F2A",
        "82",
        "9F1A",
        "9F33",
        "9F34",
        "9F35",
        "84",
        "9F09",
        "9F1E",
        "9F03",
    ]
    assert icc.get("9F26") == bytes.fromhex("ACF958C80FF74403")
    assert icc.get("9F27") == b"\x80"
    assert len(icc.get("9F10")) == 19
    assert icc.get("9A") == bytes.fromhex("160726")
    assert icc.get("9F02") == bytes.fromhex("000000000001")
    assert icc.get("84") == bytes.fromhex("A000000333010101")
    assert icc.get("9F1E") == b"50703665"
    assert icc.get("9F03") == bytes(6)


def test_sale_capture_encodes_back_byte_for_byte() -> None:
    message = decode(strip_length_prefix(SALE))
    assert add_length_prefix(encode(message)) == SALE


def test_echo_capture_decodes_and_encodes_back() -> None:
    message = decode(ECHO)
    assert message.tpdu == Tpdu(0x60, 0x0006, 0x0000)
    assert message.header == "603200990002"
    assert message.mti == "0820"
    assert message.fields == {
        41: "11000284",
        42: "585290048140001",
        60: {"message_type": "00", "batch": "000001", "network_code": "301"},
    }
    assert encode(message) == ECHO


def test_odd_length_numerics_are_left_aligned_with_a_trailing_zero_nibble() -> None:
    body = strip_length_prefix(SALE)
    assert bytes.fromhex("0510") in body  # field 22 "051"
    assert (
        bytes.fromhex("37") + bytes.fromhex("6214830117451467D24032201196300759631" + "0") in body
    )
