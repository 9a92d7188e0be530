"""The kinds of :class:`~terminal.errors.ProtocolError` the codec raises.

Callers that only care that the bytes or values were wrong catch
``ProtocolError``; the subclasses let tests and the CLI say *which* rule was
broken without parsing the message text. Every one carries ``field``,
``offset``, ``reason``, the hex ``window`` and the fields ``decoded`` so far.
"""

from __future__ import annotations

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


class TruncatedError(ProtocolError):
    """The input ended inside a part of the message (envelope, length, data)."""


class BcdError(ProtocolError):
    """A nibble that is not a decimal digit where BCD was expected, or a wrong pad nibble."""


class CharacterError(ProtocolError):
    """A byte outside the field's character set (``n`` digits, ``an``, ``ans``, ``z``)."""


class LengthError(ProtocolError):
    """A length prefix over the field's maximum, or a length that does not match."""


class UnknownFieldError(ProtocolError):
    """A bitmap bit (or a field number given to ``encode``) the dialect has no format for."""


class TrailingBytesError(ProtocolError):
    """Bytes left over after the last field the bitmap announced."""


class TlvError(ProtocolError):
    """Field 55 (ICC data) is not well-formed BER-TLV."""


class EncodeValueError(ProtocolError):
    """A value given to ``encode`` has the wrong type, size or characters for its field."""


class DialectError(ConfigError):
    """A dialect table is inconsistent; raised when the table is loaded, never mid-message."""
