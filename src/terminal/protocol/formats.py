"""The vocabulary of field formats: what one ISO 8583 field looks like on the wire.

A :class:`FieldFormat` is data, not code: a dialect is a table of them,
:func:`terminal.protocol.declaration.declare` turns the table into the message
construct, and the JSON shape reads it too. Every inconsistency is caught in
``__post_init__``, so a bad table fails when its module is imported, not on the
first message that uses it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from terminal.protocol.errors import DialectError
from terminal.protocol.lengths import length_prefix
from terminal.protocol.subfields import SubfieldLayout

__all__ = [
    "KINDS",
    "NIBBLE_KINDS",
    "FieldFormat",
    "Kind",
    "Prefix",
    "PrefixEncoding",
]

Kind = Literal["n", "z", "an", "ans", "b"]
Prefix = Literal["fixed", "LL", "LLL"]
PrefixEncoding = Literal["bcd", "ascii", "binary"]
DataEncoding = Literal["bcd", "ascii"]
Align = Literal["left", "right"]
Structure = Literal["tlv"] | SubfieldLayout | None

KINDS: tuple[str, ...] = ("n", "z", "an", "ans", "b")
#: Kinds whose length counts digits (nibbles when packed), not bytes.
NIBBLE_KINDS: frozenset[str] = frozenset({"n", "z"})

_PREFIX_DIGITS = {"fixed": 0, "LL": 2, "LLL": 3}
_CHARSETS = ("ascii", "gbk")


@dataclass(frozen=True, slots=True)
class FieldFormat:
    """How one field is encoded.

    ``length`` is the fixed length, or the maximum for ``LL``/``LLL`` fields; it
    counts digits for ``n``/``z`` and bytes for ``an``/``ans``/``b`` (a ``b64``
    field of the standard is ``FieldFormat("b", 8)``). ``data_encoding`` says
    whether ``n``/``z`` digits are packed BCD or ASCII; ``align`` and ``pad``
    place an odd-length packed value in its bytes (``left`` = the pad nibble
    trails: ``051`` -> ``05 10``). ``charset`` is the text encoding of
    ``an``/``ans`` data (``gbk`` for fields that carry Chinese text).
    ``structure`` is ``"tlv"`` (BER-TLV, ``b`` fields) or a
    :class:`SubfieldLayout` (``n`` fields split into named subfields).
    """

    kind: Kind
    length: int
    prefix: Prefix = "fixed"
    prefix_encoding: PrefixEncoding = "bcd"
    data_encoding: DataEncoding = "bcd"
    align: Align = "left"
    pad: int = 0
    charset: str = "ascii"
    structure: Structure = None

    def __post_init__(self) -> None:
        problems = list(self._problems())
        if problems:
            raise DialectError(f"bad field format {self!r}: {'; '.join(problems)}")

    def _problems(self) -> Iterator[str]:
        if self.kind not in KINDS:
            yield f"kind must be one of {KINDS}"
        if self.prefix not in _PREFIX_DIGITS:
            yield "prefix must be fixed, LL or LLL"
        if self.prefix_encoding not in ("bcd", "ascii", "binary"):
            yield "prefix_encoding must be bcd, ascii or binary"
        if self.data_encoding not in ("bcd", "ascii"):
            yield "data_encoding must be bcd or ascii"
        if self.align not in ("left", "right"):
            yield "align must be left or right"
        if not (isinstance(self.pad, int) and 0 <= self.pad <= 15):
            yield "pad must be a nibble 0..15"
        if self.charset not in _CHARSETS:
            yield f"charset must be one of {_CHARSETS}"
        if self.charset != "ascii" and self.kind not in ("an", "ans"):
            yield "only an/ans fields have a charset"
        if not isinstance(self.length, int) or self.length < 1:
            yield "length must be a positive int"
        elif (
            self.prefix in _PREFIX_DIGITS
            and self.prefix_encoding in ("bcd", "ascii", "binary")
            and self.length > self.capacity
        ):
            yield f"length {self.length} does not fit a {self.prefix} prefix"
        if self.structure == "tlv" and self.kind != "b":
            yield "a tlv structure needs a b field"
        if isinstance(self.structure, SubfieldLayout):
            if self.kind != "n":
                yield "subfields need an n field"
            elif self.structure.total > self.length:
                yield f"subfields need {self.structure.total} digits, field holds {self.length}"
        elif self.structure not in (None, "tlv"):
            yield "structure must be None, 'tlv' or a SubfieldLayout"

    @property
    def variable(self) -> bool:
        """True for LL/LLL fields (a length prefix precedes the data)."""
        return self.prefix != "fixed"

    @property
    def capacity(self) -> int:
        """The largest length the prefix can express."""
        prefix = length_prefix(self.prefix, self.prefix_encoding)
        return self.length if prefix is None else prefix.capacity

    @property
    def prefix_width(self) -> int:
        """Bytes of the length prefix on the wire (0 for fixed fields)."""
        prefix = length_prefix(self.prefix, self.prefix_encoding)
        return 0 if prefix is None else prefix.width

    @property
    def packed(self) -> bool:
        """True when digits are packed two a byte (``n``/``z`` in BCD)."""
        return self.kind in NIBBLE_KINDS and self.data_encoding == "bcd"

    def describe(self) -> str:
        """The usual short notation: ``n6``, ``n..19 LL``, ``b..255 LLL``."""
        if self.prefix == "fixed":
            return f"{self.kind}{self.length}"
        return f"{self.kind}..{self.length} {self.prefix}"
