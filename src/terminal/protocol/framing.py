"""The 2-byte big-endian length that precedes a message on TCP links.

Checked both ways: a length that does not match what follows is a
:class:`LengthError` (field ``"length"``), never a silently cut message.
"""

from __future__ import annotations

from terminal.protocol.errors import EncodeValueError, LengthError, TruncatedError

__all__ = ["add_length_prefix", "strip_length_prefix"]


def add_length_prefix(data: bytes) -> bytes:
    """``data`` preceded by its length as 2 bytes, big-endian."""
    if len(data) > 0xFFFF:
        raise EncodeValueError(
            f"{len(data)} bytes do not fit a 2-byte length prefix", field="length"
        )
    return len(data).to_bytes(2, "big") + bytes(data)


def strip_length_prefix(data: bytes) -> bytes:
    """What follows the 2-byte length; the length must match it exactly."""
    if len(data) < 2:
        raise TruncatedError(
            f"a length prefix is 2 bytes, got {len(data)}", field="length", offset=0, data=data
        )
    length = int.from_bytes(data[:2], "big")
    if length != len(data) - 2:
        raise LengthError(
            f"the length prefix says {length} bytes, {len(data) - 2} follow",
            field="length",
            offset=0,
            data=data,
        )
    return bytes(data[2:])
