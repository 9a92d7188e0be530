"""Construct pieces for a dialect, and one compiled Struct per distinct bitmap.

Why this shape (measured, see docs/protocol.md): construct's interpreted path,
Adapters and per-field ``If`` slots are several times slower than pyiso8583,
while ``.compile()`` of a Struct made only of ``IntXXub`` length prefixes,
``Bytes(this-expression)`` and ``GreedyBytes`` turns into straight-line Python.
A terminal's traffic uses a handful of bitmaps, so a :class:`Plan` (the
compiled Struct for one set of fields plus the table of what each member
holds) is built on first sight of a bitmap and, once a message has decoded
with it, cached: bounded, least recently used dropped first.

The compiled Struct only slices: it checks no lengths, digits or trailing
bytes. :mod:`terminal.protocol.codec` does that, in table-driven Python,
against each piece the Struct returns.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from construct import (
    Bytes,
    Compiled,
    Construct,
    GreedyBytes,
    Int8ub,
    Int16ub,
    Int24ub,
    Struct,
    this,
)

from terminal.protocol.dialect import Dialect
from terminal.protocol.fieldcodec import FieldCodec, make_field_codec
from terminal.protocol.formats import FieldFormat

__all__ = ["RUN", "VAR", "Plan", "PlanCache", "Prefix", "prefix_for"]

#: Op kinds in :attr:`Plan.ops`.
RUN = 0
VAR = 1

HEAD = "head"
REST = "rest"
_INTS: dict[int, Construct] = {1: Int8ub, 2: Int16ub, 3: Int24ub}


@dataclass(frozen=True, slots=True)
class Prefix:
    """A length prefix: its construct piece, and tables between the raw integer the
    piece reads and the length it means (``counts`` has only valid encodings)."""

    encoding: str
    width: int
    construct: Construct
    counts: dict[int, int]
    raws: tuple[int, ...]
    count_expr: Callable[[Any], Any]


@functools.cache
def prefix_for(encoding: str, width: int, capacity: int) -> Prefix:
    """The prefix for ``encoding`` (bcd/ascii/binary) and ``width`` bytes."""
    if encoding == "binary":
        raws = tuple(range(capacity + 1))

        def expr(ref: Any) -> Any:
            return ref

    elif encoding == "bcd":
        raws = tuple(int(f"{count:0{2 * width}d}", 16) for count in range(10 ** (2 * width)))

        def expr(ref: Any) -> Any:
            total: Any = ref & 15
            for place in range(1, 2 * width):
                total = total + ((ref >> (4 * place)) & 15) * 10**place
            return total

    else:
        raws = tuple(
            int.from_bytes(f"{count:0{width}d}".encode(), "big") for count in range(10**width)
        )

        def expr(ref: Any) -> Any:
            total: Any = (ref & 255) - 48
            for place in range(1, width):
                total = total + (((ref >> (8 * place)) & 255) - 48) * 10**place
            return total

    return Prefix(
        encoding, width, _INTS[width], {raw: count for count, raw in enumerate(raws)}, raws, expr
    )


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything per-message work needs for one set of fields.

    ``ops`` are, in wire order, either
    ``(RUN, member, size, ((number, codec, start, end), ...))`` - consecutive
    fixed fields read as one ``Bytes`` - or
    ``(VAR, number, codec, length_member, data_member, prefix, maximum, packed)``.
    ``members`` lists ``(name, uncompiled piece or None)`` for the slow re-walk
    that pins the field and offset when the compiled parse itself fails.
    """

    numbers: tuple[int, ...]
    bitmap: bytes
    head_size: int
    struct: Compiled
    ops: tuple[tuple[Any, ...], ...]
    members: tuple[tuple[str, Construct], ...]


class PlanCache:
    """Plans for one dialect: field codecs built once, Structs built per bitmap.

    Bounded and least-recently-used: the codec moves a plan it uses to the end
    (``move_to_end``) and, when ``limit`` plans exist, :meth:`keep_bitmap` /
    :meth:`keep_fields` drop the one used longest ago. :meth:`for_bitmap` and
    :meth:`for_fields` only build; the codec keeps a new plan once a message
    has decoded (or encoded) with it, so garbage with random bitmaps neither
    grows memory nor evicts the plans of real traffic.
    """

    def __init__(self, dialect: Dialect, limit: int = 256) -> None:
        self.dialect = dialect
        self.limit = limit
        self.codecs: dict[int, FieldCodec] = {
            number: make_field_codec(fmt) for number, fmt in dialect.fields.items()
        }
        self.prefixes: dict[int, Prefix] = {
            number: prefix_for(fmt.prefix_encoding, fmt.prefix_width, fmt.capacity)
            for number, fmt in dialect.fields.items()
            if fmt.variable
        }
        self.by_bitmap: OrderedDict[bytes, Plan] = OrderedDict()
        self.by_fields: OrderedDict[tuple[int, ...], Plan] = OrderedDict()

    def for_bitmap(self, bitmap: bytes, numbers: tuple[int, ...]) -> Plan:
        """A new plan for a decoded bitmap (``numbers`` already checked against the
        table); not cached until :meth:`keep_bitmap`."""
        return self._build(numbers, len(bitmap) == 16)

    def for_fields(self, numbers: tuple[int, ...]) -> Plan:
        """A new plan for encoding ``numbers`` (sorted, checked against the table);
        not cached until :meth:`keep_fields`."""
        return self._build(numbers, any(number > 64 for number in numbers))

    def keep_bitmap(self, bitmap: bytes, plan: Plan) -> None:
        """Cache ``plan`` for ``bitmap`` as the most recently used."""
        self._store(self.by_bitmap, bitmap, plan)

    def keep_fields(self, numbers: tuple[int, ...], plan: Plan) -> None:
        """Cache ``plan`` for encoding ``numbers`` as the most recently used."""
        self._store(self.by_fields, numbers, plan)

    @staticmethod
    def recall(cache: OrderedDict[Any, Plan], key: Any) -> Plan | None:
        """The cached plan for ``key`` (``by_bitmap`` or ``by_fields``), marked as
        the most recently used; ``None`` when there is none."""
        plan = cache.get(key)
        if plan is not None:
            try:
                cache.move_to_end(key)
            except KeyError:  # pragma: no cover - evicted by another thread just now
                cache[key] = plan
        return plan

    def _store(self, cache: OrderedDict[Any, Plan], key: Any, plan: Plan) -> None:
        if key not in cache:
            while len(cache) >= self.limit:
                try:
                    cache.popitem(last=False)
                except KeyError:  # pragma: no cover - emptied by another thread
                    break
        cache[key] = plan
        cache.move_to_end(key)

    def _build(self, numbers: tuple[int, ...], secondary: bool) -> Plan:
        bitmap = bitmap_bytes(numbers, secondary)
        head_size = self.dialect.envelope_size + len(bitmap)
        members: list[tuple[str, Construct]] = [(HEAD, Bytes(head_size))]
        compiled_members: list[Construct] = [HEAD / Bytes(head_size)]
        ops: list[tuple[Any, ...]] = []
        run: list[tuple[int, FieldCodec, int, int]] = []

        def close_run() -> None:
            if run:
                name = f"run{run[0][0]}"
                size = run[-1][3]
                ops.append((RUN, name, size, tuple(run)))
                members.append((name, Bytes(size)))
                compiled_members.append(name / Bytes(size))
                run.clear()

        for number in numbers:
            fmt: FieldFormat = self.dialect.fields[number]
            codec = self.codecs[number]
            if not fmt.variable:
                start = run[-1][3] if run else 0
                run.append((number, codec, start, start + fmt.wire_size(fmt.length)))
                continue
            close_run()
            prefix = self.prefixes[number]
            length_member, data_member = f"len{number}", f"data{number}"
            count = prefix.count_expr(this[length_member])
            size = (count + 1) // 2 if fmt.packed else count
            compiled_members += [length_member / prefix.construct, data_member / Bytes(size)]
            members += [(length_member, prefix.construct), (data_member, Bytes(0))]
            ops.append(
                (VAR, number, codec, length_member, data_member, prefix, fmt.length, fmt.packed)
            )
        close_run()
        compiled_members.append(REST / GreedyBytes)
        struct = Struct(*compiled_members).compile()
        return Plan(numbers, bitmap, head_size, struct, tuple(ops), tuple(members))


def bitmap_bytes(numbers: tuple[int, ...], secondary: bool) -> bytes:
    """The binary bitmap for ``numbers``; 16 bytes (bit 1 set) when ``secondary``."""
    bits = bytearray(16 if secondary else 8)
    if secondary:
        bits[0] |= 0x80
    for number in numbers:
        bits[(number - 1) >> 3] |= 0x80 >> ((number - 1) & 7)
    return bytes(bits)


def bitmap_numbers(bitmap: bytes) -> tuple[int, ...]:
    """Field numbers whose bits are set, without bit 1 (the secondary bitmap itself)."""
    return tuple(
        index * 8 + bit + 1
        for index, byte in enumerate(bitmap)
        if byte
        for bit in range(8)
        if byte & (0x80 >> bit) and (index or bit)
    )
