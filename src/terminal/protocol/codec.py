"""``encode`` and ``decode``: a dialect's compiled message construct, called directly.

``dialect.compiled`` is ``dialect.struct.compile()``, made when the dialect is
created (:mod:`terminal.protocol.dialect`); these two functions only resolve
the dialect and run its generated parse or build function on an in-memory
stream, skipping the context ``Container`` that construct's ``parse()`` and
``build()`` make per call (the generated code does not read it). Every
failure is a :class:`~terminal.errors.ProtocolError` subclass naming the field,
the byte offset and the fields decoded so far (see
:mod:`terminal.protocol.isomessage`).
"""

from __future__ import annotations

from io import BytesIO

from terminal.errors import ProtocolError
from terminal.protocol.dialect import Dialect
from terminal.protocol.dialects import get_dialect
from terminal.protocol.message import Message

__all__ = ["decode", "encode"]


def encode(message: Message, dialect: str | Dialect = "cup") -> bytes:
    """The wire bytes of ``message`` (from the TPDU, or the MTI, on; no length prefix).

    Never changes ``message``. Raises :class:`EncodeValueError` (a value of the
    wrong type, size or characters) or :class:`UnknownFieldError`.
    """
    stream = BytesIO()
    _dialect(dialect).compiled.buildfunc(message, stream, None)
    return stream.getvalue()


def decode(data: bytes, dialect: str | Dialect = "cup") -> Message:
    """The message in ``data``, which must hold exactly one message."""
    parse = _dialect(dialect).compiled.parsefunc
    if data.__class__ is not bytes:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise ProtocolError(f"input must be bytes, not {type(data).__name__}")
        data = bytes(data)
    message: Message = parse(BytesIO(data), None)
    return message


def _dialect(dialect: str | Dialect) -> Dialect:
    if dialect.__class__ is str:
        return get_dialect(dialect)  # type: ignore[arg-type]
    if not isinstance(dialect, Dialect):
        raise TypeError(f"dialect must be a name or a Dialect, not {type(dialect).__name__}")
    return dialect
