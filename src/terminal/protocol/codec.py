"""Encode and decode ISO 8583 messages for a dialect.

The per-message path: envelope and bitmap in Python, then the bitmap's cached
compiled construct Struct slices the fields (:mod:`terminal.protocol.compiled`),
then each piece is checked and converted here, in table order, tracking byte
offsets. Every failure is a :class:`~terminal.errors.ProtocolError` subclass
naming the field, the offset and the fields decoded so far.
"""

from __future__ import annotations

from typing import Any

from construct import ConstructError

from terminal.errors import ProtocolError
from terminal.protocol.compiled import (
    HEAD,
    REST,
    RUN,
    Plan,
    PlanCache,
    Prefix,
    bitmap_numbers,
)
from terminal.protocol.dialect import Dialect
from terminal.protocol.dialects import get_dialect
from terminal.protocol.errors import (
    BcdError,
    CharacterError,
    EncodeValueError,
    LengthError,
    TrailingBytesError,
    TruncatedError,
    UnknownFieldError,
)
from terminal.protocol.fieldcodec import FieldProblem
from terminal.protocol.message import Message, Tpdu

__all__ = ["DialectCodec", "codec_for", "decode", "encode"]


def encode(message: Message, dialect: str | Dialect = "cup") -> bytes:
    """The wire bytes of ``message`` (from the TPDU, or the MTI, on; no length prefix).

    Never changes ``message``. Raises :class:`EncodeValueError` (a value of the
    wrong type, size or characters) or :class:`UnknownFieldError`.
    """
    return codec_for(dialect).encode(message)


def decode(data: bytes, dialect: str | Dialect = "cup") -> Message:
    """The message in ``data``, which must hold exactly one message."""
    return codec_for(dialect).decode(data)


def codec_for(dialect: str | Dialect) -> DialectCodec:
    """The (cached) codec of a registered dialect name or a :class:`Dialect` object."""
    key = dialect if isinstance(dialect, str) else id(dialect)
    codec = _CODECS.get(key)
    if codec is None or (not isinstance(dialect, str) and codec.dialect is not dialect):
        if isinstance(dialect, str):
            dialect = get_dialect(dialect)
        if not isinstance(dialect, Dialect):
            raise TypeError(f"dialect must be a name or a Dialect, not {type(dialect).__name__}")
        codec = DialectCodec(dialect)
        _CODECS[key] = codec
    return codec


class DialectCodec:
    """Encoder and decoder for one dialect; holds its plan caches."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.plans = PlanCache(dialect)
        self._tpdu_size = 5 if dialect.tpdu else 0
        self._header_size = dialect.header_digits // 2
        self._mti_ascii = dialect.mti_encoding == "ascii"
        self._envelope = dialect.envelope_size

    # -- decoding ---------------------------------------------------------------

    def decode(self, data: bytes) -> Message:
        if type(data) is not bytes:
            if not isinstance(data, bytes | bytearray | memoryview):
                raise ProtocolError(f"input must be bytes, not {type(data).__name__}")
            data = bytes(data)
        tpdu, header, mti = self._decode_envelope(data)
        at = self._envelope
        if len(data) < at + 8:
            self._truncated("bitmap", at, 8, data, {})
        size = 16 if data[at] & 0x80 else 8
        if len(data) < at + size:
            self._truncated("bitmap", at, size, data, {})
        bitmap = data[at : at + size]
        plan = self.plans.recall(self.plans.by_bitmap, bitmap)
        fresh = plan is None
        if plan is None:
            plan = self._plan_for_bitmap(bitmap, data)
        try:
            pieces: Any = plan.struct.parse(data)
        except Exception:
            # The compiled code raised (a length prefix cut short, in practice):
            # re-walk member by member with the uncompiled pieces to see where.
            pieces = self._walk(plan, data)
        fields = self._check(plan, pieces, data)
        if fresh:
            # Kept only now: a plan for input that fails to decode is dropped.
            self.plans.keep_bitmap(bitmap, plan)
        return Message(mti, fields, tpdu, header)

    def _decode_envelope(self, data: bytes) -> tuple[Tpdu | None, str | None, str]:
        pos = 0
        tpdu = header = None
        if self._tpdu_size:
            if len(data) < 5:
                self._truncated("tpdu", 0, 5, data, {})
            tpdu = Tpdu.from_bytes(data[:5])
            pos = 5
        if self._header_size:
            end = pos + self._header_size
            if len(data) < end:
                self._truncated("header", pos, self._header_size, data, {})
            header = data[pos:end].hex()
            if not header.isdigit():
                self._bad_bcd("header", header, pos, data)
            pos = end
        if self._mti_ascii:
            raw = data[pos : pos + 4]
            if len(raw) < 4:
                self._truncated("mti", pos, 4, data, {})
            if not raw.isdigit():
                bad = next(i for i, byte in enumerate(raw) if not 48 <= byte <= 57)
                raise CharacterError(
                    "the MTI must be 4 ASCII digits", field="mti", offset=pos + bad, data=data
                )
            mti = raw.decode("ascii")
        else:
            raw = data[pos : pos + 2]
            if len(raw) < 2:
                self._truncated("mti", pos, 2, data, {})
            mti = raw.hex()
            if not mti.isdigit():
                self._bad_bcd("mti", mti, pos, data)
        return tpdu, header, mti

    def _plan_for_bitmap(self, bitmap: bytes, data: bytes) -> Plan:
        numbers = bitmap_numbers(bitmap)
        fields = self.dialect.fields
        for number in numbers:
            if number not in fields:
                raise UnknownFieldError(
                    f"bit {number} is set but dialect {self.dialect.name} has no field {number}",
                    field="bitmap",
                    offset=self._envelope + (number - 1) // 8,
                    data=data,
                )
        return self.plans.for_bitmap(bitmap, numbers)

    def _walk(self, plan: Plan, data: bytes) -> dict[str, Any]:
        """The pieces the compiled Struct would have returned, read one member at a
        time with uncompiled construct pieces; stops at the first member that
        cannot be read, leaving the rest absent (``_check`` reports it)."""
        pieces: dict[str, Any] = {}
        pos = 0
        count_of: dict[str, int] = {}
        for name, piece in plan.members:
            if name.startswith("len"):
                width = piece.sizeof()
                try:
                    raw = piece.parse(data[pos : pos + width])
                except ConstructError:
                    return pieces
                pieces[name] = raw
                op = next(op for op in plan.ops if op[0] != RUN and op[3] == name)
                count = op[5].counts.get(raw)
                if count is None:
                    return pieces
                count_of["data" + name[3:]] = (count + 1) // 2 if op[7] else count
                pos += width
                continue
            size = count_of.get(name, piece.sizeof() if not name.startswith("data") else 0)
            chunk = data[pos : pos + size]
            pieces[name] = chunk
            if len(chunk) < size:
                return pieces
            pos += size
        pieces[REST] = data[pos:]
        return pieces

    def _check(self, plan: Plan, pieces: Any, data: bytes) -> dict[int, Any]:
        """Validate and convert every piece, in wire order, tracking the offset."""
        fields: dict[int, Any] = {}
        pos = plan.head_size
        get = pieces.get
        for op in plan.ops:
            if op[0] == RUN:
                blob = get(op[1], b"")
                short = len(blob) < op[2]
                for number, codec, start, end in op[3]:
                    if short and end > len(blob):
                        self._truncated(str(number), pos + start, end - start, data, fields)
                    try:
                        fields[number] = codec.decode(blob[start:end], codec.format.length)
                    except FieldProblem as problem:
                        self._problem(number, problem, pos + start, data, fields)
                pos += op[2]
                continue
            _, number, codec, length_member, data_member, prefix, maximum, packed = op
            raw = get(length_member)
            if raw is None:
                self._truncated(str(number), pos, prefix.width, data, fields, "length prefix ")
            count = prefix.counts.get(raw)
            if count is None:
                self._bad_prefix(number, prefix, pos, data, fields)
            if count > maximum:
                raise LengthError(
                    f"length {count} is over the maximum {maximum}",
                    field=str(number),
                    offset=pos,
                    data=data,
                    decoded=fields,
                )
            pos += prefix.width
            piece = get(data_member, b"")
            size = (count + 1) >> 1 if packed else count
            if len(piece) != size:
                self._truncated(str(number), pos, size, data, fields)
            try:
                fields[number] = codec.decode(piece, count)
            except FieldProblem as problem:
                self._problem(number, problem, pos, data, fields)
            pos += size
        rest = get(REST)
        if rest is None:  # pragma: no cover - the walk always reaches here or stops earlier
            self._truncated("message", pos, 1, data, fields)
        if rest:
            raise TrailingBytesError(
                f"{len(rest)} byte(s) after the last field",
                field="message",
                offset=pos,
                data=data,
                decoded=fields,
            )
        return fields

    # -- encoding ---------------------------------------------------------------

    def encode(self, message: Message) -> bytes:
        if not isinstance(message, Message):
            raise EncodeValueError(f"encode needs a Message, not {type(message).__name__}")
        values = message.fields
        # Before the cache lookup: 3.0 and True equal (and hash like) 3 and 1.
        if list(map(type, values)).count(int) != len(values):
            bad = next(key for key in values if type(key) is not int)
            raise UnknownFieldError(
                f"field numbers must be ints, got {bad!r} ({type(bad).__name__})",
                field=str(bad),
            )
        numbers = tuple(sorted(values))
        plan = self.plans.recall(self.plans.by_fields, numbers)
        fresh = plan is None
        if plan is None:
            plan = self._plan_for_fields(numbers)
        obj: dict[str, Any] = {HEAD: self._encode_envelope(message) + plan.bitmap, REST: b""}
        number = 0
        try:
            for op in plan.ops:
                if op[0] == RUN:
                    parts = []
                    for number, codec, _, _ in op[3]:
                        parts.append(codec.encode(values[number])[1])
                    obj[op[1]] = b"".join(parts)
                    continue
                number = op[1]
                count, raw = op[2].encode(values[number])
                obj[op[3]] = op[5].raws[count]
                obj[op[4]] = raw
        except FieldProblem as problem:
            name = f"{number}.{problem.sub}" if problem.sub else str(number)
            raise problem.kind(problem.reason, field=name) from None
        try:
            data: bytes = plan.struct.build(obj)
        except Exception as error:  # pragma: no cover - values are checked above
            raise EncodeValueError(f"construct could not build the message: {error}") from None
        if fresh:
            self.plans.keep_fields(numbers, plan)
        return data

    def _plan_for_fields(self, numbers: tuple[int, ...]) -> Plan:
        fields = self.dialect.fields
        for number in numbers:
            if number not in fields:
                raise UnknownFieldError(
                    f"dialect {self.dialect.name} has no field {number!r}", field=str(number)
                )
        return self.plans.for_fields(numbers)

    def _encode_envelope(self, message: Message) -> bytes:
        parts = []
        if self._tpdu_size:
            if not isinstance(message.tpdu, Tpdu):
                raise EncodeValueError(f"dialect {self.dialect.name} needs a Tpdu", field="tpdu")
            try:
                parts.append(message.tpdu.to_bytes())
            except (AttributeError, TypeError, ValueError, OverflowError) as error:
                # Tpdu checks its parts when built; this is one changed behind its back.
                raise EncodeValueError(
                    f"bad TPDU {message.tpdu!r}: {error}", field="tpdu"
                ) from None
        elif message.tpdu is not None:
            raise EncodeValueError(f"dialect {self.dialect.name} has no TPDU", field="tpdu")
        if self._header_size:
            header = message.header
            digits = self._header_size * 2
            if not (
                type(header) is str
                and len(header) == digits
                and header.isdigit()
                and header.isascii()
            ):
                raise EncodeValueError(
                    f"the header must be a str of {digits} digits, got {header!r}",
                    field="header",
                )
            parts.append(bytes.fromhex(header))
        elif message.header is not None:
            raise EncodeValueError(f"dialect {self.dialect.name} has no header", field="header")
        mti = message.mti
        if not mti.isascii():
            raise EncodeValueError(f"the MTI must be 4 ASCII digits, got {mti!r}", field="mti")
        parts.append(mti.encode("ascii") if self._mti_ascii else bytes.fromhex(mti))
        return b"".join(parts)

    # -- error helpers ----------------------------------------------------------

    @staticmethod
    def _truncated(
        field: str,
        offset: int,
        size: int,
        data: bytes,
        decoded: dict[int, Any],
        what: str = "",
    ) -> Any:
        left = max(0, len(data) - offset)
        raise TruncatedError(
            f"input ends inside the {what}{field if not field.isdigit() else 'field'}: "
            f"needs {size} byte(s), {left} left",
            field=field,
            offset=offset,
            data=data,
            decoded=decoded,
        )

    @staticmethod
    def _bad_bcd(field: str, text: str, offset: int, data: bytes) -> Any:
        bad = next(i for i, c in enumerate(text) if not c.isdigit())
        raise BcdError(
            f"nibble {text[bad].upper()} is not a decimal digit",
            field=field,
            offset=offset + bad // 2,
            data=data,
        )

    @staticmethod
    def _bad_prefix(
        number: int, prefix: Prefix, offset: int, data: bytes, decoded: dict[int, Any]
    ) -> Any:
        raw = data[offset : offset + prefix.width]
        kind: type[ProtocolError]
        if prefix.encoding == "ascii":
            kind, reason = CharacterError, f"length prefix {raw!r} is not ASCII digits"
        else:
            kind, reason = BcdError, f"length prefix {raw.hex().upper()} is not BCD"
        raise kind(reason, field=str(number), offset=offset, data=data, decoded=decoded)

    @staticmethod
    def _problem(
        number: int, problem: FieldProblem, offset: int, data: bytes, decoded: dict[int, Any]
    ) -> Any:
        name = f"{number}.{problem.sub}" if problem.sub else str(number)
        raise problem.kind(
            f"{problem.reason}",
            field=name,
            offset=offset + problem.index,
            data=data,
            decoded=decoded,
        )


_CODECS: dict[Any, DialectCodec] = {}
