"""A dialect: the envelope and the table of field formats a peer speaks.

Dialects are data (see :mod:`terminal.protocol.dialects`). A :class:`Dialect`
checks itself when constructed, so a wrong table fails at import time, and
turns the table into its message construct then (``struct``, by
:func:`~terminal.protocol.declaration.declare`), compiled once, on first use
(``compiled``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from terminal.protocol.declaration import declare
from terminal.protocol.errors import DialectError
from terminal.protocol.formats import FieldFormat
from terminal.protocol.isomessage import IsoMessage

__all__ = ["Dialect"]


@dataclass(frozen=True, eq=False)
class Dialect:
    """Envelope + ``fields`` (field number 2..128 -> :class:`FieldFormat`).

    Envelope: ``tpdu`` (5 bytes first), ``header_digits`` (a BCD header of that
    many digits after the TPDU; 0 for none), ``mti_encoding`` (``bcd``: 2 bytes,
    ``ascii``: 4 bytes). The bitmap is always binary, 8 bytes, or 16 when bit 1
    announces the secondary. Field 1 is the secondary bitmap and is never in
    the table. Dialects compare by identity (one object per registered name).

    ``struct`` is the whole message as one construct (an
    :class:`~terminal.protocol.isomessage.IsoMessage`): ``struct.parse(data)``
    gives a :class:`~terminal.protocol.message.Message`, ``struct.build(message)``
    the bytes, and it nests in other constructs (``Prefixed(Int16ub,
    cup.struct)``). ``compiled`` is ``struct.compile()``, made once on first use;
    ``encode`` and ``decode`` run it.
    """

    name: str
    fields: Mapping[int, FieldFormat]
    mti_encoding: Literal["bcd", "ascii"] = "bcd"
    tpdu: bool = False
    header_digits: int = 0
    description: str = ""
    struct: IsoMessage = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not (isinstance(self.name, str) and self.name.isidentifier()):
            raise DialectError(f"dialect name {self.name!r} must be an identifier")
        if self.mti_encoding not in ("bcd", "ascii"):
            raise DialectError(f"{self.name}: mti_encoding must be bcd or ascii")
        if not (isinstance(self.header_digits, int) and self.header_digits >= 0):
            raise DialectError(f"{self.name}: header_digits must be >= 0")
        if self.header_digits % 2:
            raise DialectError(f"{self.name}: a BCD header needs an even number of digits")
        for number, fmt in self.fields.items():
            if type(number) is not int or not 2 <= number <= 128:
                raise DialectError(f"{self.name}: field number {number!r} is not in 2..128")
            if not isinstance(fmt, FieldFormat):
                raise DialectError(f"{self.name}: field {number} is not a FieldFormat")
        ordered = dict(sorted(self.fields.items()))
        object.__setattr__(self, "fields", MappingProxyType(ordered))
        object.__setattr__(self, "struct", declare(self))

    @functools.cached_property
    def compiled(self) -> Any:
        """``struct.compile()``, made on first use (tens of milliseconds, so a
        program that never encodes does not pay it at import) and kept: after
        that it is a plain attribute."""
        return self.struct.compile()

    @property
    def mti_size(self) -> int:
        return int(self.struct.mti.sizeof())

    @property
    def envelope_size(self) -> int:
        """Bytes before the bitmap: TPDU, header and MTI."""
        return self.struct.envelope_size
