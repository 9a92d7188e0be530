"""A whole ISO 8583 message as one construct, its field presence read from the bitmap.

:class:`IsoMessage` parses ``[envelope][MTI][bitmap][fields...]`` into a
:class:`~terminal.protocol.message.Message` and builds one back. The envelope
parts (:class:`TpduField`, a BCD header, the MTI) and every field are
constructs of their own (:mod:`terminal.protocol.fields`,
:mod:`terminal.protocol.structured`); the message reads the primary bitmap,
the secondary one when bit 1 says so, and then exactly the fields whose bits
are set, in order, each by its construct. So one declaration, and one compiled
parser, serves every bitmap: nothing is built or kept per bitmap.

The message reads to the end of its stream (an ISO 8583 message carries no
length of its own): bytes after the last field are a
:class:`~terminal.protocol.errors.TrailingBytesError`. Nest it in ``Prefixed``
(or ``FixedSized``) to bound it inside a bigger construct.

Errors, from ``_parse``/``_build`` and from the compiled code alike, are
:mod:`terminal.protocol.errors` kinds naming the part (``"tpdu"``, ``"header"``,
``"mti"``, ``"bitmap"``, a field number, ``"55.9F26"``, ``"60.batch"``,
``"message"`` for trailing bytes), the byte offset from the start of the
message, a hex window around it and the fields decoded before it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from construct import Construct, ConstructError, SizeofError, StreamError

from terminal.errors import ProtocolError
from terminal.protocol import emit
from terminal.protocol.errors import (
    EncodeValueError,
    TrailingBytesError,
    TruncatedError,
    UnknownFieldError,
)
from terminal.protocol.fields import AsciiNumeric, BcdNumeric
from terminal.protocol.message import Message, Tpdu

__all__ = ["BITS", "NUMBERS_AT", "IsoMessage", "TpduField"]

_SET_BITS: tuple[tuple[int, ...], ...] = tuple(
    tuple(bit for bit in range(1, 9) if byte & (0x100 >> bit)) for byte in range(256)
)
#: ``NUMBERS_AT[i][byte]``: the field numbers whose bits are set in ``byte`` at
#: bitmap position ``i`` (bit 1, the secondary-bitmap flag, is no field).
NUMBERS_AT: tuple[tuple[tuple[int, ...], ...], ...] = (
    tuple(tuple(bit for bit in bits if bit != 1) for bits in _SET_BITS),
    *(
        tuple(tuple(8 * index + bit for bit in bits) for bits in _SET_BITS)
        for index in range(1, 16)
    ),
)
#: ``BITS[number]``: the bit of field ``number`` in a 128-bit bitmap read as an int.
BITS: tuple[int, ...] = (0, *(1 << (128 - number) for number in range(1, 129)))
SECONDARY = BITS[1]


class TpduField(Construct):
    """The CUP TPDU: 5 bytes <-> :class:`~terminal.protocol.message.Tpdu`."""

    def __repr__(self) -> str:
        return "TpduField()"

    def _sizeof(self, context: Any, path: Any) -> int:
        return Tpdu.SIZE

    def _parse(self, stream: Any, context: Any, path: Any) -> Tpdu:
        raw = stream.read(Tpdu.SIZE)
        if len(raw) != Tpdu.SIZE:
            raise short_tpdu(len(raw))
        return Tpdu.from_bytes(raw)

    def _build(self, obj: Any, stream: Any, context: Any, path: Any) -> Tpdu:
        stream.write(tpdu_bytes(obj))
        return obj

    def _emitparse(self, code: Any) -> str:
        code.append(
            "from terminal.protocol.isomessage import short_tpdu, tpdu_bytes\n"
            "from terminal.protocol.message import decoded_tpdu"
        )
        code.append(
            """
            def parse_tpdu(io, this):
                raw = io.read(5)
                if len(raw) != 5:
                    raise short_tpdu(len(raw))
                return decoded_tpdu(raw)
            """
        )
        return "parse_tpdu(io, this)"

    def _emitbuild(self, code: Any) -> str:
        code.append("from terminal.protocol.isomessage import short_tpdu, tpdu_bytes")
        return "(io.write(tpdu_bytes(obj)), obj)[1]"


class IsoMessage(Construct):
    """``fields`` (number 2..128 -> construct) behind ``mti``, with the optional
    ``tpdu`` and ``header`` in front; ``dialect`` names it in error texts.

    Parses to a :class:`Message`, builds from one. Envelope parts must have a
    fixed size. ``fields`` is exposed read-only, so ``cup.struct.fields[4]`` is the
    construct of field 4 and can be used on its own.
    """

    def __init__(
        self,
        fields: Mapping[int, Construct],
        *,
        mti: Construct,
        tpdu: Construct | None = None,
        header: Construct | None = None,
        dialect: str = "iso8583",
    ) -> None:
        super().__init__()
        for number in fields:
            if type(number) is not int or not 2 <= number <= 128:
                raise ValueError(f"field number {number!r} is not in 2..128")
        self.fields = MappingProxyType(dict(sorted(fields.items())))
        self.dialect = dialect
        self.tpdu = tpdu
        self.header = header
        self.mti = mti
        self.envelope: tuple[tuple[str, Construct, int], ...] = ()
        at = 0
        for part, construct in (("tpdu", tpdu), ("header", header), ("mti", mti)):
            if construct is None:
                continue
            try:
                size = construct.sizeof()
            except SizeofError:
                raise ValueError(f"the {part} construct must have a fixed size") from None
            self.envelope += ((part, construct, at),)
            at += size
        #: Bytes before the bitmap.
        self.envelope_size = at
        unknown = 0
        for number in range(2, 129):
            if number not in self.fields:
                unknown |= BITS[number]
        self._unknown = unknown

    def __repr__(self) -> str:
        return f"<IsoMessage {self.dialect}: {len(self.fields)} fields>"

    def _sizeof(self, context: Any, path: Any) -> int:
        raise SizeofError("an ISO 8583 message has no fixed size", path=path)

    # -- interpreted: the reference -------------------------------------------------

    def _parse(self, stream: Any, context: Any, path: Any) -> Message:
        start = stream.tell()
        envelope: dict[str, Any] = {"tpdu": None, "header": None}
        for part, construct, at in self.envelope:
            try:
                envelope[part] = construct._parsereport(stream, context, path)
            except ConstructError as error:
                raise moved(error, part, at, stream, start, {}) from None
        at = self.envelope_size
        bitmap = stream.read(8)
        if len(bitmap) == 8 and bitmap[0] & 0x80:
            bitmap += stream.read(8)
            if len(bitmap) != 16:
                raise short_bitmap(16, len(bitmap), at, stream, start)
        elif len(bitmap) != 8:
            raise short_bitmap(8, len(bitmap), at, stream, start)
        numbers = [
            index * 8 + bit + 1
            for index, byte in enumerate(bitmap)
            for bit in range(8)
            if byte & (0x80 >> bit) and (index or bit)
        ]
        if any(number not in self.fields for number in numbers):
            raise unknown_bit(bitmap, self._unknown, self.dialect, at, stream, start)
        fields: dict[int, Any] = {}
        for number in numbers:
            at = stream.tell() - start
            try:
                fields[number] = self.fields[number]._parsereport(stream, context, path)
            except ConstructError as error:
                raise moved(error, str(number), at, stream, start, fields) from None
        if stream.read(1):
            raise trailing(stream, start, fields)
        return Message(envelope["mti"], fields, envelope["tpdu"], envelope["header"])

    def _build(self, obj: Any, stream: Any, context: Any, path: Any) -> Message:
        if not isinstance(obj, Message):
            raise not_a_message(obj)
        values = obj.fields
        for number in values:
            if type(number) is not int:
                raise bad_numbers(values)
        numbers = sorted(values)
        for number in numbers:
            if number not in self.fields:
                raise unknown_numbers(numbers, self.fields.keys(), self.dialect)
        for part in ("tpdu", "header", "mti"):
            construct, value = getattr(self, part), getattr(obj, part)
            try:
                if construct is None:
                    if value is not None:
                        raise unexpected(part, self.dialect)
                    continue
                if value is None:
                    raise missing(part, self.dialect)
                construct._build(value, stream, context, path)
            except ConstructError as error:
                raise moved_encode(error, part) from None
        stream.write(bitmap_bytes(numbers))
        for number in numbers:
            try:
                self.fields[number]._build(values[number], stream, context, path)
            except ConstructError as error:
                raise moved_encode(error, str(number)) from None
        return obj

    # -- compiled -----------------------------------------------------------------------

    def _emitparse(self, code: Any) -> str:
        ident = code.allocateId()
        code.append(
            "from construct import ConstructError\n"
            "from terminal.protocol.message import Message, decoded_message\n"
            "from terminal.protocol.isomessage import (NUMBERS_AT, moved, short_bitmap,\n"
            "    trailing, unknown_bit)"
        )
        parsers = [
            _callable(field._compileparse(code), "io, this", code) for field in self.fields.values()
        ]
        table = ["None"] * 129
        for number, parser in zip(self.fields, parsers, strict=True):
            table[number] = parser
        code.append(f"parsers_{ident} = ({', '.join(table)},)")
        lines = ["start = io.tell()", "tpdu = header = None"]
        if self.envelope:
            lines.append("try:")
            for part, construct, at in self.envelope:
                lines += [
                    f"    part, at = {part!r}, {at}",
                    f"    {part} = {construct._compileparse(code)}",
                ]
            lines += [
                "except ConstructError as error:",
                "    raise moved(error, part, at, io, start, {}) from None",
            ]
        size = self.envelope_size
        unknown_args = f"{self._unknown}, {self.dialect!r}, {size}, io, start"

        def numbers(count: int) -> str:
            return " + ".join(f"NUMBERS_AT[{i}][bitmap[{i}]]" for i in range(count))

        lines += [
            "bitmap = io.read(8)",
            "if len(bitmap) == 8 and bitmap[0] & 128:",
            "    bitmap += io.read(8)",
            "    if len(bitmap) != 16:",
            f"        raise short_bitmap(16, len(bitmap), {size}, io, start)",
            f"    if int.from_bytes(bitmap, 'big') & {self._unknown}:",
            f"        raise unknown_bit(bitmap, {unknown_args})",
            f"    numbers = {numbers(16)}",
            "elif len(bitmap) != 8:",
            f"    raise short_bitmap(8, len(bitmap), {size}, io, start)",
            "else:",
            f"    if int.from_bytes(bitmap, 'big') & {self._unknown >> 64}:",
            f"        raise unknown_bit(bitmap, {unknown_args})",
            f"    numbers = {numbers(8)}",
            "fields = {}",
            "tell = io.tell",
            "try:",
            "    for number in numbers:",
            "        at = tell()",
            f"        fields[number] = parsers_{ident}[number](io, this)",
            "except ConstructError as error:",
            "    raise moved(error, str(number), at - start, io, start, fields) from None",
            "if io.read(1):",
            "    raise trailing(io, start, fields)",
            f"return {self._message_call()}(mti, fields, tpdu, header)",
        ]
        return emit.function(code, "parse", "message", lines)

    def _message_call(self) -> str:
        """``decoded_message`` (no checks) when the MTI construct can only give four
        digits, else the checking ``Message``."""
        mti = self.mti
        trusted = type(mti) in (BcdNumeric, AsciiNumeric) and mti.length == 4 and not mti.prefix
        return "decoded_message" if trusted else "Message"

    def _emitbuild(self, code: Any) -> str:
        ident = code.allocateId()
        code.append(
            "from construct import ConstructError\n"
            "from terminal.protocol.message import Message\n"
            "from terminal.protocol.isomessage import (BITS, SECONDARY, bad_numbers, missing,\n"
            "    moved_encode, not_a_message, unexpected, unknown_numbers)"
        )
        builders = [
            _callable(field._compilebuild(code), "obj, io, this", code)
            for field in self.fields.values()
        ]
        table = ["None"] * 129
        for number, builder in zip(self.fields, builders, strict=True):
            table[number] = builder
        code.append(f"builders_{ident} = ({', '.join(table)},)")
        code.append(f"known_{ident} = frozenset({sorted(self.fields)!r})")
        dialect = repr(self.dialect)
        lines = [
            "message = obj",
            "if message.__class__ is not Message and not isinstance(message, Message):",
            "    raise not_a_message(message)",
            "values = message.fields",
            "if list(map(type, values)).count(int) != len(values):",
            "    raise bad_numbers(values)",
            "numbers = sorted(values)",
            f"if not known_{ident}.issuperset(numbers):",
            f"    raise unknown_numbers(numbers, known_{ident}, {dialect})",
            "part = None",
            "try:",
        ]
        for part in ("tpdu", "header", "mti"):
            construct = getattr(self, part)
            lines.append(f"    part = {part!r}")
            if construct is None:
                lines += [
                    f"    if message.{part} is not None:",
                    f"        raise unexpected({part!r}, {dialect})",
                ]
                continue
            lines += [
                f"    obj = message.{part}",
                "    if obj is None:",
                f"        raise missing({part!r}, {dialect})",
                f"    {construct._compilebuild(code)}",
            ]
        lines += [
            "    part = None",
            "    bits = sum(map(BITS.__getitem__, numbers))",
            "    if numbers and numbers[-1] > 64:",
            "        io.write((bits | SECONDARY).to_bytes(16, 'big'))",
            "    else:",
            "        io.write((bits >> 64).to_bytes(8, 'big'))",
            "    for number in numbers:",
            f"        builders_{ident}[number](values[number], io, this)",
            "except ConstructError as error:",
            "    raise moved_encode(error, part or str(number)) from None",
            "return message",
        ]
        return emit.function(code, "build", "message", lines)


def _callable(expression: str, args: str, code: Any) -> str:
    """A name to call with ``args`` for a construct's emitted ``expression``: the
    helper function itself when the expression is just a call of one, else a
    small wrapper."""
    found = re.fullmatch(rf"(\w+)\({re.escape(args)}\)", expression)
    if found:
        return found.group(1)
    name = f"call_{code.allocateId()}"
    code.append(f"def {name}({args}):\n    return {expression}")
    return name


def bitmap_bytes(numbers: list[int]) -> bytes:
    """The bitmap for the sorted field ``numbers``: 16 bytes (bit 1 set) when a field
    is over 64, else 8."""
    bits = sum(BITS[number] for number in numbers)
    if numbers and numbers[-1] > 64:
        return (bits | SECONDARY).to_bytes(16, "big")
    return (bits >> 64).to_bytes(8, "big")


# -- the error path (shared by the interpreted and the generated code) -------------


def message_bytes(stream: Any, start: int) -> bytes | None:
    """The message from its start to the end of the stream, for the hex window;
    ``None`` when the stream cannot go back."""
    try:
        stream.seek(start)
        data: bytes = stream.read()
    except (OSError, ValueError):
        return None
    return data


def moved(
    error: ConstructError, field: str, at: int, stream: Any, start: int, decoded: dict[int, Any]
) -> ProtocolError:
    """``error`` from the part ``field`` that began ``at`` bytes into the message,
    as the same kind naming the field, the offset in the message and the window."""
    data = message_bytes(stream, start)
    if isinstance(error, ProtocolError):
        name = f"{field}.{error.field}" if error.field else field
        offset = at + (error.offset or 0)
        return type(error)(error.reason, field=name, offset=offset, data=data, decoded=decoded)
    # A construct that is not ours (a user's own prefix, say) failed.
    kind = TruncatedError if isinstance(error, StreamError) else ProtocolError
    return kind(str(error), field=field, offset=at, data=data, decoded=decoded)


def moved_encode(error: ConstructError, field: str) -> ProtocolError:
    if isinstance(error, ProtocolError):
        name = f"{field}.{error.field}" if error.field else field
        return type(error)(error.reason, field=name)
    return EncodeValueError(str(error), field=field)


def short_tpdu(left: int) -> TruncatedError:
    return TruncatedError(f"input ends inside the TPDU: needs 5 byte(s), {left} left", offset=0)


def tpdu_bytes(value: Any) -> bytes:
    if not isinstance(value, Tpdu):
        raise EncodeValueError(f"needs a Tpdu, got {type(value).__name__}")
    try:
        return value.to_bytes()
    except (AttributeError, TypeError, ValueError, OverflowError) as error:
        # Tpdu checks its parts when built; this is one changed behind its back.
        raise EncodeValueError(f"bad TPDU {value!r}: {error}") from None


def short_bitmap(size: int, got: int, at: int, stream: Any, start: int) -> TruncatedError:
    return TruncatedError(
        f"input ends inside the bitmap: needs {size} byte(s), {got} there",
        field="bitmap",
        offset=at,
        data=message_bytes(stream, start),
    )


def unknown_bit(
    bitmap: bytes, unknown: int, dialect: str, at: int, stream: Any, start: int
) -> UnknownFieldError:
    """For the first bit of ``bitmap`` that is also in the 128-bit ``unknown`` mask."""
    bits = int.from_bytes(bitmap, "big") << (128 - 8 * len(bitmap))
    number = next(n for n in range(2, 129) if bits & unknown & BITS[n])
    return UnknownFieldError(
        f"bit {number} is set but dialect {dialect} has no field {number}",
        field="bitmap",
        offset=at + (number - 1) // 8,
        data=message_bytes(stream, start),
    )


def trailing(stream: Any, start: int, decoded: dict[int, Any]) -> TrailingBytesError:
    end = stream.tell() - 1
    extra = 1 + len(stream.read())
    return TrailingBytesError(
        f"{extra} byte(s) after the last field",
        field="message",
        offset=end - start,
        data=message_bytes(stream, start),
        decoded=decoded,
    )


def not_a_message(value: Any) -> EncodeValueError:
    return EncodeValueError(f"encode needs a Message, not {type(value).__name__}")


def bad_numbers(values: Mapping[Any, Any]) -> UnknownFieldError:
    bad = next(key for key in values if type(key) is not int)
    return UnknownFieldError(
        f"field numbers must be ints, got {bad!r} ({type(bad).__name__})", field=str(bad)
    )


def unknown_numbers(numbers: list[int], known: Any, dialect: str) -> UnknownFieldError:
    number = next(number for number in numbers if number not in known)
    return UnknownFieldError(f"dialect {dialect} has no field {number!r}", field=str(number))


def missing(part: str, dialect: str) -> EncodeValueError:
    what = {"tpdu": "a Tpdu", "header": "a header", "mti": "an MTI"}[part]
    return EncodeValueError(f"dialect {dialect} needs {what}")


def unexpected(part: str, dialect: str) -> EncodeValueError:
    return EncodeValueError(f"dialect {dialect} has no {part}")
