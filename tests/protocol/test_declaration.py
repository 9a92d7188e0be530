"""``dialect.struct``: the whole message as one construct, used with plain construct,
and its compiled form agreeing with the interpreted reference."""

from __future__ import annotations

import gc
import string

import pytest
from construct import (
    Const,
    ConstructError,
    GreedyRange,
    Int16ub,
    Prefixed,
    Struct,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from protocol_strategies import messages, tlvs

from terminal.errors import ProtocolError
from terminal.protocol import (
    BcdError,
    CharacterError,
    Dialect,
    EncodeValueError,
    FieldFormat,
    IccData,
    LengthError,
    Message,
    TlvError,
    Tpdu,
    TruncatedError,
    decode,
    encode,
    get_dialect,
    strip_length_prefix,
)
from terminal.protocol.fields import AsciiNumeric, AsciiTrack, BcdNumeric, BcdTrack, Binary, Text
from terminal.protocol.lengths import AsciiLength, BcdLength, BinaryLength
from terminal.protocol.structured import IccTlv, Subfields
from tests.protocol.test_golden import ECHO, SALE  # the real captures of cup-golden.md

CUP = get_dialect("cup")
ISO = get_dialect("iso87ascii")
SETTINGS = settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)



# -- plain construct ----------------------------------------------------------------


def test_a_length_prefixed_capture_parses_and_builds_with_plain_construct() -> None:
    framed = Prefixed(Int16ub, CUP.struct)
    message = framed.parse(SALE)
    assert message == decode(strip_length_prefix(SALE))
    assert message[55].get("9F26") == bytes.fromhex("ACF958C80FF74403")
    assert framed.build(message) == SALE
    compiled = framed.compile()
    assert compiled.parse(SALE) == message
    assert compiled.build(message) == SALE


def test_the_declaration_nests_in_a_users_struct() -> None:
    record = Struct("magic" / Const(b"CAP1"), "message" / Prefixed(Int16ub, CUP.struct))
    data = b"CAP1" + len(ECHO).to_bytes(2, "big") + ECHO
    for construct in (record, record.compile()):
        parsed = construct.parse(data)
        assert parsed.message.mti == "0820"
        assert parsed.message[60]["network_code"] == "301"
        assert construct.build({"magic": b"CAP1", "message": parsed.message}) == data


def test_a_stream_of_captures_reads_until_the_first_bad_message() -> None:
    bad = bytearray(ECHO)
    bad[12] = 0xAB  # a non-BCD MTI
    stream = SALE + len(ECHO).to_bytes(2, "big") + ECHO + len(bad).to_bytes(2, "big") + bad
    parsed = GreedyRange(Prefixed(Int16ub, CUP.struct)).parse(stream)
    assert [message.mti for message in parsed] == ["0200", "0820"]


def test_errors_are_construct_errors_too() -> None:
    with pytest.raises(ConstructError) as caught:
        CUP.struct.parse(ECHO[:25])
    assert isinstance(caught.value, TruncatedError)
    assert (caught.value.field, caught.value.offset) == ("41", 21)


def test_inside_prefixed_offsets_count_from_the_start_of_the_message() -> None:
    data = bytearray(len(ECHO).to_bytes(2, "big") + ECHO)
    data[2 + 44] = 0xAB  # field 60's length prefix
    for construct in (Prefixed(Int16ub, CUP.struct), Prefixed(Int16ub, CUP.struct).compile()):
        with pytest.raises(BcdError) as caught:
            construct.parse(bytes(data))
        assert (caught.value.field, caught.value.offset) == ("60", 44)
        assert set(caught.value.decoded) == {41, 42}
        assert ">ab<" in caught.value.window


def test_the_table_becomes_one_construct_per_field() -> None:
    fields = CUP.struct.fields
    assert isinstance(fields[2], BcdNumeric) and isinstance(fields[2].prefix, BcdLength)
    assert isinstance(fields[35], BcdTrack)
    assert isinstance(fields[55], IccTlv) and isinstance(fields[55].subcon, Binary)
    assert isinstance(fields[60], Subfields)
    assert isinstance(fields[63], Text) and fields[63].charset == "gbk"
    assert isinstance(ISO.struct.fields[2].prefix, AsciiLength)
    assert set(fields) == set(CUP.fields)


def test_a_new_table_is_declared_when_it_is_built() -> None:
    dialect = Dialect(
        "tiny",
        {
            3: FieldFormat("n", 6),
            48: FieldFormat("ans", 300, "LLL", prefix_encoding="binary"),
        },
    )
    assert isinstance(dialect.struct.fields[48].prefix, BinaryLength)
    message = Message("0100", {3: "000000", 48: "x" * 300})
    data = dialect.struct.build(message)
    assert data == encode(message, dialect)
    assert dialect.struct.parse(data) == message == decode(data, dialect)


# -- field constructs on their own ---------------------------------------------------


@pytest.mark.parametrize(
    ("construct", "value", "wire"),
    [
        (BcdNumeric(6), "310000", "310000"),
        (BcdNumeric(3), "051", "0510"),
        (BcdNumeric(3, align="right", pad=0xF), "051", "f051"),
        (BcdNumeric(19, BcdLength(2)), "621483011745146", "156214830117451460"),
        (BcdTrack(37, BcdLength(2)), "6214D2403", "096214d24030"),
        (AsciiNumeric(11, AsciiLength(2)), "12345", b"0512345".hex()),
        (Text(25, AsciiLength(2), kind="an"), "AB 12", b"05AB 12".hex()),
        (Text(163, BcdLength(3), charset="gbk"), "银联", "0004" + "银联".encode("gbk").hex()),
        (Binary(8), b"\x01" * 8, "01" * 8),
        (
            IccTlv(Binary(255, BcdLength(3))),
            IccData.from_bytes(b"\x9f\x27\x01\x80"),
            "00049f270180",
        ),
    ],
)
def test_field_constructs_parse_and_build_alone(construct, value, wire) -> None:
    data = bytes.fromhex(wire)
    for form in (construct, construct.compile()):
        assert form.build(value) == data
        assert form.parse(data) == value


@pytest.mark.parametrize(
    ("construct", "data", "kind", "offset"),
    [
        (BcdNumeric(6), bytes.fromhex("31000a"), BcdError, 2),
        (BcdNumeric(6), bytes.fromhex("3100"), TruncatedError, 0),
        (BcdNumeric(19, BcdLength(2)), bytes.fromhex("20") + bytes(10), LengthError, 0),
        (BcdNumeric(19, BcdLength(2)), bytes.fromhex("05123a50"), BcdError, 2),
        (AsciiNumeric(11, AsciiLength(2)), b"0312x", CharacterError, 4),
        (AsciiNumeric(11, AsciiLength(2)), b"1", TruncatedError, 0),
        (Text(8), b"ABC\x00DEFG", CharacterError, 3),
        (IccTlv(Binary(255, BcdLength(3))), bytes.fromhex("00039F2608"), TlvError, 4),
    ],
)
def test_field_construct_errors_count_the_offset_from_where_the_field_starts(
    construct, data, kind, offset
) -> None:
    for form in (construct, construct.compile()):
        with pytest.raises(kind) as caught:
            form.parse(data)
        assert caught.value.offset == offset


# -- compiled against interpreted -----------------------------------------------------


def _outcome(call):
    try:
        return ("ok", call())
    except ProtocolError as error:
        return (type(error), error.field, error.offset, error.reason, error.window, error.decoded)


def _same_parse(data: bytes, dialect: Dialect) -> None:
    reference = _outcome(lambda: dialect.struct.parse(data))
    assert _outcome(lambda: dialect.compiled.parse(data)) == reference
    assert _outcome(lambda: decode(data, dialect)) == reference


@SETTINGS
@given(st.binary(max_size=160), st.sampled_from(["cup", "iso87ascii"]))
def test_compiled_and_interpreted_agree_on_random_bytes(data: bytes, name: str) -> None:
    _same_parse(data, get_dialect(name))


@SETTINGS
@given(st.data())
def test_compiled_and_interpreted_agree_on_mutated_messages(data: st.DataObject) -> None:
    dialect = get_dialect(data.draw(st.sampled_from(["cup", "iso87ascii"])))
    message = data.draw(messages(dialect))
    wire = dialect.struct.build(message)
    assert dialect.compiled.build(message) == wire == encode(message, dialect)
    _same_parse(wire, dialect)
    mutated = bytearray(wire)
    for _ in range(data.draw(st.integers(1, 4))):
        action = data.draw(st.sampled_from(["flip", "cut", "insert", "bitmap"]))
        index = data.draw(st.integers(0, max(0, len(mutated) - 1)))
        if action == "flip" and mutated:
            mutated[index] = data.draw(st.integers(0, 255))
        elif action == "cut":
            del mutated[index:]
        elif action == "insert":
            mutated.insert(index, data.draw(st.integers(0, 255)))
        elif len(mutated) >= dialect.envelope_size + 8:  # a bit in the primary bitmap
            at = dialect.envelope_size + data.draw(st.integers(0, 7))
            mutated[at] ^= 1 << data.draw(st.integers(0, 7))
    _same_parse(bytes(mutated), dialect)


_ANY_VALUE = st.one_of(
    st.text(string.digits, max_size=20),
    st.text(max_size=12),
    st.binary(max_size=20),
    st.integers(),
    st.none(),
    st.dictionaries(st.sampled_from(["message_type", "batch", "colour"]), st.text(max_size=7)),
    tlvs(),
)


@SETTINGS
@given(st.data())
def test_compiled_and_interpreted_agree_on_any_values_to_encode(data: st.DataObject) -> None:
    dialect = get_dialect(data.draw(st.sampled_from(["cup", "iso87ascii"])))
    numbers = data.draw(st.lists(st.integers(1, 130), max_size=6, unique=True))
    fields = {number: data.draw(_ANY_VALUE) for number in numbers}
    tpdu, header = (Tpdu(), "603200320002") if dialect is CUP else (None, None)
    if data.draw(st.booleans()):
        tpdu, header = data.draw(st.sampled_from([(None, None), (Tpdu(), "12"), (Tpdu(), None)]))
    message = Message(data.draw(st.sampled_from(["0200", "０２００"])), fields, tpdu, header)
    reference = _outcome(lambda: dialect.struct.build(message))
    assert _outcome(lambda: dialect.compiled.build(message)) == reference
    assert _outcome(lambda: encode(message, dialect)) == reference
    if reference[0] != "ok":
        assert reference[0] is not ProtocolError and reference[2] is None  # no offset


#: Every option of every field class, including ones no registered dialect uses.
FIELD_CONSTRUCTS = [
    BcdNumeric(5),
    BcdNumeric(5, align="right", pad=0xF),
    BcdNumeric(19, BcdLength(2), align="right", pad=0xF),
    BcdNumeric(12, BinaryLength(1)),
    BcdTrack(37, BcdLength(2)),
    BcdTrack(7, align="right"),
    AsciiNumeric(3),
    AsciiNumeric(104, AsciiLength(3)),
    AsciiTrack(37, AsciiLength(2)),
    Text(4, kind="an"),
    Text(99, BinaryLength(2)),
    Text(12, BcdLength(2), charset="gbk"),
    Binary(4),
    Binary(300, BinaryLength(2)),
    IccTlv(Binary(255, AsciiLength(3))),
    Subfields(CUP.fields[61].structure, BcdNumeric(29, BcdLength(3))),
]


@SETTINGS
@given(st.sampled_from(range(len(FIELD_CONSTRUCTS))), st.binary(max_size=24), st.data())
def test_each_field_construct_compiled_agrees_with_its_interpreted_form(
    index: int, data: bytes, draw: st.DataObject
) -> None:
    construct = FIELD_CONSTRUCTS[index]
    compiled = construct.compile()
    assert _outcome(lambda: compiled.parse(data)) == _outcome(lambda: construct.parse(data))
    value = draw.draw(_ANY_VALUE)
    assert _outcome(lambda: compiled.build(value)) == _outcome(lambda: construct.build(value))
    parsed = _outcome(lambda: construct.parse(data))
    if parsed[0] == "ok":  # what parses builds again, the same way in both forms
        assert _outcome(lambda: compiled.build(parsed[1])) == _outcome(
            lambda: construct.build(parsed[1])
        )


# -- memory -----------------------------------------------------------------------------


def test_decoding_and_encoding_leave_no_garbage_cycles() -> None:
    message = decode(strip_length_prefix(SALE))
    iso = encode(Message("0200", {3: "000000", 11: "000001", 70: "301"}), "iso87ascii")
    gc.collect()
    gc.disable()
    try:
        for _ in range(200):
            decode(encode(message))
            decode(iso, "iso87ascii")
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_encode_of_a_changed_tpdu_names_the_tpdu_in_both_forms() -> None:
    tpdu = Tpdu()
    object.__setattr__(tpdu, "source", -1)
    message = Message("0800", {11: "000001"}, tpdu, "603200320002")
    for build in (CUP.struct.build, CUP.compiled.build):
        with pytest.raises(EncodeValueError) as caught:
            build(message)
        assert caught.value.field == "tpdu"
