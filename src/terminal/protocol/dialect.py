"""A dialect: the envelope and the table of field formats a peer speaks.

Dialects are data (see :mod:`terminal.protocol.dialects`). A :class:`Dialect`
checks itself when constructed, so a wrong table fails at import time, and the
codec builds its construct pieces for it once, when it is registered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from terminal.protocol.errors import DialectError
from terminal.protocol.formats import FieldFormat

__all__ = ["Dialect"]


@dataclass(frozen=True, eq=False)
class Dialect:
    """Envelope + ``fields`` (field number 2..128 -> :class:`FieldFormat`).

    Envelope: ``tpdu`` (5 bytes first), ``header_digits`` (a BCD header of that
    many digits after the TPDU; 0 for none), ``mti_encoding`` (``bcd``: 2 bytes,
    ``ascii``: 4 bytes). The bitmap is always binary, 8 bytes, or 16 when bit 1
    announces the secondary. Field 1 is the secondary bitmap and is never in
    the table. Dialects compare by identity (one object per registered name).
    """

    name: str
    fields: Mapping[int, FieldFormat]
    mti_encoding: Literal["bcd", "ascii"] = "bcd"
    tpdu: bool = False
    header_digits: int = 0
    description: str = ""

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

    @property
    def mti_size(self) -> int:
        return 2 if self.mti_encoding == "bcd" else 4

    @property
    def envelope_size(self) -> int:
        """Bytes before the bitmap: TPDU, header and MTI."""
        return (5 if self.tpdu else 0) + self.header_digits // 2 + self.mti_size
