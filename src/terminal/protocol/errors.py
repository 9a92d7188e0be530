"""The kinds of :class:`~terminal.errors.ProtocolError` the codec raises.

Callers that only care that the bytes or values were wrong catch
``ProtocolError``; the subclasses let tests and the CLI say *which* rule was
broken without parsing the message text. Every one carries ``field``,
``offset``, ``reason``, the hex ``window`` and the fields ``decoded`` so far.

Each kind is also a construct ``ConstructError``: the field and message
constructs (:mod:`terminal.protocol.fields`, :mod:`terminal.protocol.isomessage`)
raise them, so a user who nests ``dialect.struct`` in their own construct
catches what construct users catch, and construct's own combinators
(``Select``, ``Optional``, ``GreedyRange``) treat them as parse failures. A
field construct used on its own reports ``offset`` from where it started
reading and ``field`` as the tag path or subfield inside it (or ``None``); the
message construct re-raises the same kind with the field number, the offset
from the start of the message, the hex window and the fields decoded so far.
"""

from __future__ import annotations

from construct import ConstructError

from terminal.errors import ConfigError, ProtocolError

__all__ = [
    "BcdError",
    "CharacterError",
    "DialectError",
    "EncodeValueError",
    "LengthError",
    "ProtocolError",
    "TlvError",
    "TrailingBytesError",
    "TruncatedError",
    "UnknownFieldError",
]


class TruncatedError(ProtocolError, ConstructError):
    """The input ended inside a part of the message (envelope, length, data)."""


class BcdError(ProtocolError, ConstructError):
    """A nibble that is not a decimal digit where BCD was expected, or a wrong pad nibble."""


class CharacterError(ProtocolError, ConstructError):
    """A byte outside the field's character set (``n`` digits, ``an``, ``ans``, ``z``)."""


class LengthError(ProtocolError, ConstructError):
    """A length prefix over the field's maximum, or a length that does not match."""


class UnknownFieldError(ProtocolError, ConstructError):
    """A bitmap bit (or a field number given to ``encode``) the dialect has no format for."""


class TrailingBytesError(ProtocolError, ConstructError):
    """Bytes left over after the last field the bitmap announced."""


class TlvError(ProtocolError, ConstructError):
    """Field 55 (ICC data) is not well-formed BER-TLV."""


class EncodeValueError(ProtocolError, ConstructError):
    """A value given to ``encode`` has the wrong type, size or characters for its field."""


class DialectError(ConfigError):
    """A dialect table is inconsistent; raised when the table is loaded, never mid-message."""
