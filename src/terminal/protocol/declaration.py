"""A dialect table turned into its message construct: the one place that maps
:class:`~terminal.protocol.formats.FieldFormat` rows to construct classes.

``declare(dialect)`` is called when a :class:`~terminal.protocol.dialect.Dialect`
is created (so a table that cannot be declared fails when it is loaded) and
gives the :class:`~terminal.protocol.isomessage.IsoMessage` exposed as
``dialect.struct``.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from construct import Construct

from terminal.protocol.fields import (
    AsciiNumeric,
    AsciiTrack,
    BcdNumeric,
    BcdTrack,
    Binary,
    FieldConstruct,
    Text,
)
from terminal.protocol.formats import FieldFormat
from terminal.protocol.isomessage import IsoMessage, TpduField
from terminal.protocol.lengths import length_prefix
from terminal.protocol.structured import IccTlv, Subfields
from terminal.protocol.subfields import SubfieldLayout

if TYPE_CHECKING:
    from terminal.protocol.dialect import Dialect

__all__ = ["declare", "field_construct"]


def declare(dialect: Dialect) -> IsoMessage:
    """The message construct of ``dialect``: its envelope, and a construct per field."""
    return IsoMessage(
        {number: field_construct(fmt) for number, fmt in dialect.fields.items()},
        tpdu=TpduField() if dialect.tpdu else None,
        header=BcdNumeric(dialect.header_digits) if dialect.header_digits else None,
        mti=BcdNumeric(4) if dialect.mti_encoding == "bcd" else AsciiNumeric(4),
        dialect=dialect.name,
    )


@functools.cache
def field_construct(fmt: FieldFormat) -> Construct:
    """The construct for one table row (shared by equal rows, so the compiled
    module has one function per distinct format)."""
    prefix = length_prefix(fmt.prefix, fmt.prefix_encoding)
    base: FieldConstruct
    if fmt.kind == "b":
        base = Binary(fmt.length, prefix)
    elif fmt.kind in ("an", "ans"):
        base = Text(fmt.length, prefix, kind=fmt.kind, charset=fmt.charset)
    elif fmt.packed:
        packed = BcdTrack if fmt.kind == "z" else BcdNumeric
        base = packed(fmt.length, prefix, align=fmt.align, pad=fmt.pad)
    else:
        base = (AsciiTrack if fmt.kind == "z" else AsciiNumeric)(fmt.length, prefix)
    if fmt.structure == "tlv":
        assert isinstance(base, Binary)  # FieldFormat allows tlv on b fields only
        return IccTlv(base)
    if isinstance(fmt.structure, SubfieldLayout):
        return Subfields(fmt.structure, base)
    return base
