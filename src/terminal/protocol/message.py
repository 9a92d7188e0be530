"""The message model shared by every layer: MTI, envelope and fields by number.

A :class:`Message` is a value: the codec never changes one it is given, and
``with_fields`` returns a new one. Field values are ``str`` for ``n``/``z``/``an``/
``ans`` formats, ``bytes`` for ``b``, and for the fields a dialect structures
(``cup``: 55 as BER-TLV, 60 and 61 as named subfields) the structured types from
:mod:`terminal.protocol.tlv` and plain ``dict[str, str]`` subfields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

__all__ = ["Message", "Tpdu"]


@dataclass(frozen=True, slots=True)
class Tpdu:
    """CUP transport protocol data unit: id byte, destination and source addresses.

    A response swaps the two addresses (:meth:`reply`).
    """

    id: int = 0x60
    destination: int = 0x0006
    source: int = 0x0000

    SIZE = 5

    def __post_init__(self) -> None:
        for name in ("id", "destination", "source"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"TPDU {name} must be an int, got {type(value).__name__}")
        if not 0 <= self.id <= 0xFF:
            raise ValueError(f"TPDU id {self.id!r} does not fit one byte")
        for name in ("destination", "source"):
            value = getattr(self, name)
            if not 0 <= value <= 0xFFFF:
                raise ValueError(f"TPDU {name} {value!r} does not fit two bytes")

    def to_bytes(self) -> bytes:
        return bytes((self.id,)) + self.destination.to_bytes(2, "big") + self.source.to_bytes(
            2, "big"
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Tpdu:
        if len(data) != cls.SIZE:
            raise ValueError(f"a TPDU is {cls.SIZE} bytes, got {len(data)}")
        return cls(data[0], int.from_bytes(data[1:3], "big"), int.from_bytes(data[3:5], "big"))

    def hex(self) -> str:
        return self.to_bytes().hex()

    @classmethod
    def fromhex(cls, text: str) -> Tpdu:
        return cls.from_bytes(bytes.fromhex(text))

    def reply(self) -> Tpdu:
        """The TPDU of the response: the same id, source and destination swapped."""
        return Tpdu(self.id, self.source, self.destination)


@dataclass(frozen=True, slots=True)
class Message:
    """One ISO 8583 message.

    ``tpdu`` and ``header`` (12 digits, e.g. ``"603200320002"``) belong to the
    ``cup`` envelope and are ``None`` in dialects without them. ``fields`` is
    copied on construction, so later changes to the caller's dict do not leak in.
    """

    mti: str
    fields: Mapping[int, Any] = field(default_factory=dict)
    tpdu: Tpdu | None = None
    header: str | None = None

    def __post_init__(self) -> None:
        if not (isinstance(self.mti, str) and len(self.mti) == 4 and self.mti.isdigit()):
            raise ValueError(f"MTI must be 4 digits, got {self.mti!r}")
        object.__setattr__(self, "fields", dict(self.fields))

    def __getitem__(self, number: int) -> Any:
        return self.fields[number]

    def __contains__(self, number: object) -> bool:
        return number in self.fields

    def get(self, number: int, default: Any = None) -> Any:
        return self.fields.get(number, default)

    def with_fields(self, updates: Mapping[int, Any] | None = None, **changes: Any) -> Message:
        """A copy with ``updates`` applied to the fields (``None`` removes a field)
        and any other attribute (``mti``, ``tpdu``, ``header``) replaced."""
        fields = dict(self.fields)
        for number, value in (updates or {}).items():
            if value is None:
                fields.pop(number, None)
            else:
                fields[number] = value
        return replace(self, fields=fields, **changes)


# Decoders build these from bytes they have already checked (an MTI of four
# digits, a fresh dict, TPDU parts read from 5 bytes), so they skip the checks
# and copies of ``__post_init__``: these set the slots of the frozen dataclasses
# directly. Only for values that pass those checks by construction.
_new = object.__new__
_set_mti, _set_fields, _set_tpdu, _set_header = (
    Message.__dict__[name].__set__ for name in ("mti", "fields", "tpdu", "header")
)
_set_id, _set_destination, _set_source = (
    Tpdu.__dict__[name].__set__ for name in ("id", "destination", "source")
)


def decoded_message(
    mti: str, fields: dict[int, Any], tpdu: Tpdu | None, header: str | None
) -> Message:
    """A :class:`Message` from a decoder: ``mti`` four ASCII digits, ``fields`` a
    dict of its own."""
    message: Message = _new(Message)
    _set_mti(message, mti)
    _set_fields(message, fields)
    _set_tpdu(message, tpdu)
    _set_header(message, header)
    return message


def decoded_tpdu(raw: bytes) -> Tpdu:
    """The :class:`Tpdu` in 5 bytes ``raw``."""
    tpdu: Tpdu = _new(Tpdu)
    _set_id(tpdu, raw[0])
    _set_destination(tpdu, (raw[1] << 8) | raw[2])
    _set_source(tpdu, (raw[3] << 8) | raw[4])
    return tpdu
