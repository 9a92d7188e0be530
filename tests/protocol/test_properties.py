"""Property tests: round trips, pyiso8583 interop, and no stray exception types."""

from __future__ import annotations

import iso8583
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from iso8583.specs import default as PYISO_SPEC
from protocol_strategies import messages

from terminal.errors import ProtocolError
from terminal.protocol import (
    Message,
    decode,
    encode,
    get_dialect,
    message_from_json,
    message_to_json,
)

CUP = get_dialect("cup")
ISO = get_dialect("iso87ascii")
SETTINGS = settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)


@SETTINGS
@given(messages(CUP))
def test_cup_messages_round_trip(message: Message) -> None:
    data = encode(message, "cup")
    assert decode(data, "cup") == message
    assert encode(decode(data, "cup"), "cup") == data


@SETTINGS
@given(messages(ISO))
def test_iso87ascii_messages_round_trip(message: Message) -> None:
    data = encode(message, "iso87ascii")
    assert decode(data, "iso87ascii") == message


@SETTINGS
@given(
    st.one_of(
        messages(CUP).map(lambda m: (m, "cup")), messages(ISO).map(lambda m: (m, "iso87ascii"))
    )
)
def test_json_shape_round_trips(case: tuple[Message, str]) -> None:
    message, dialect = case
    shown = message_to_json(message, dialect)
    assert list(shown["fields"]) == sorted(shown["fields"], key=int)
    assert message_from_json(shown, dialect) == message


def _as_pyiso(message: Message) -> dict[str, str]:
    doc = {"t": message.mti}
    for number, value in message.fields.items():
        doc[str(number)] = value.hex().upper() if isinstance(value, bytes) else value
    return doc


@SETTINGS
@given(messages(ISO))
def test_pyiso8583_decodes_what_we_encode_to_the_same_values(message: Message) -> None:
    decoded, _ = iso8583.decode(encode(message, "iso87ascii"), PYISO_SPEC)
    expected = _as_pyiso(message)
    assert {k: v for k, v in decoded.items() if k not in ("p", "1")} == expected


@SETTINGS
@given(messages(ISO))
def test_we_decode_what_pyiso8583_encodes_to_the_same_values(message: Message) -> None:
    data, _ = iso8583.encode(_as_pyiso(message), PYISO_SPEC)
    assert bytes(data) == encode(message, "iso87ascii")
    assert decode(bytes(data), "iso87ascii") == message


def _decodes_or_protocol_error(data: bytes, dialect: str) -> None:
    try:
        result = decode(data, dialect)
    except ProtocolError as error:
        assert error.field is not None
        return
    assert isinstance(result, Message)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=120), st.sampled_from(["cup", "iso87ascii"]))
def test_random_bytes_decode_or_raise_protocol_error(data: bytes, dialect: str) -> None:
    _decodes_or_protocol_error(data, dialect)


@SETTINGS
@given(st.data())
def test_mutated_messages_decode_or_raise_protocol_error(data: st.DataObject) -> None:
    dialect = data.draw(st.sampled_from([CUP, ISO]))
    wire = bytearray(encode(data.draw(messages(dialect)), dialect))
    for _ in range(data.draw(st.integers(1, 4))):
        action = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        index = data.draw(st.integers(0, max(0, len(wire) - 1)))
        if action == "flip" and wire:
            wire[index] = data.draw(st.integers(0, 255))
        elif action == "cut":
            del wire[index:]
        else:
            wire.insert(index, data.draw(st.integers(0, 255)))
    _decodes_or_protocol_error(bytes(wire), dialect.name)
