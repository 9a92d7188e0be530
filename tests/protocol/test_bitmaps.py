"""Primary and secondary bitmaps: built from the fields, tolerant of empty secondaries."""

from __future__ import annotations

from terminal.protocol import Message, decode, encode


def test_secondary_bitmap_is_added_only_for_fields_over_64() -> None:
    primary = encode(Message("0800", {11: "000001"}), "iso87ascii")
    assert primary[4] & 0x80 == 0
    both = encode(Message("0800", {11: "000001", 70: "301"}), "iso87ascii")
    assert both[4] & 0x80
    assert both[4:20] == bytes.fromhex("80200000000000000400000000000000")
    assert decode(both, "iso87ascii").fields == {11: "000001", 70: "301"}


def test_a_secondary_bitmap_with_no_bit_set_is_accepted() -> None:
    data = b"0800" + bytes.fromhex("8220000000000000" + "00" * 8) + b"0726120000000001"
    message = decode(data, "iso87ascii")
    assert message.fields == {7: "0726120000", 11: "000001"}
    assert 1 not in message.fields
    assert decode(encode(message, "iso87ascii"), "iso87ascii") == message


def test_the_same_bitmap_with_different_values_decodes_each_value() -> None:
    data = encode(Message("0200", {3: "000000", 4: "000000000100"}), "iso87ascii")
    for amount in range(3):
        again = data[:-1] + str(amount).encode()
        assert decode(again, "iso87ascii")[4] == f"00000000010{amount}"
