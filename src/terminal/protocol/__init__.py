"""ISO 8583 messages: the model, the dialects and the codec.

``encode(message, dialect)`` / ``decode(data, dialect)`` for the ``cup`` and
``iso87ascii`` dialects (tables in :mod:`terminal.protocol.dialects`), the TCP
length prefix, and the JSON shape the CLI prints. Every failure is a
:class:`~terminal.errors.ProtocolError` (kinds in :mod:`terminal.protocol.errors`).
This package knows nothing of how messages are framed or carried.
"""

from __future__ import annotations

from terminal.protocol.codec import decode, encode
from terminal.protocol.dialect import Dialect
from terminal.protocol.dialects import DIALECTS, get_dialect
from terminal.protocol.errors import (
    BcdError,
    CharacterError,
    DialectError,
    EncodeValueError,
    LengthError,
    ProtocolError,
    TlvError,
    TrailingBytesError,
    TruncatedError,
    UnknownFieldError,
)
from terminal.protocol.formats import FieldFormat
from terminal.protocol.framing import add_length_prefix, strip_length_prefix
from terminal.protocol.json_shape import message_from_json, message_to_json
from terminal.protocol.message import Message, Tpdu
from terminal.protocol.subfields import SubfieldLayout
from terminal.protocol.tlv import IccData, Tlv

__all__ = [
    "DIALECTS",
    "BcdError",
    "CharacterError",
    "Dialect",
    "DialectError",
    "EncodeValueError",
    "FieldFormat",
    "IccData",
    "LengthError",
    "Message",
    "ProtocolError",
    "SubfieldLayout",
    "Tlv",
    "TlvError",
    "Tpdu",
    "TrailingBytesError",
    "TruncatedError",
    "UnknownFieldError",
    "add_length_prefix",
    "decode",
    "encode",
    "get_dialect",
    "message_from_json",
    "message_to_json",
    "strip_length_prefix",
]
