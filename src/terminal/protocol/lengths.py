"""Length prefixes of variable ISO 8583 fields (LL, LLL), as constructs.

A prefix parses to the length its field counts (digits for ``n``/``z``, bytes
for the rest) and builds from that length; the field construct
(:mod:`terminal.protocol.fields`) checks the field's own maximum and reads the
data. Three encodings: :class:`BcdLength` (packed digits, right-aligned in
whole bytes: CUP's LL is one byte, its LLL two), :class:`AsciiLength` (one
ASCII digit a byte) and :class:`BinaryLength` (a big-endian integer).

Each class has construct's interpreted ``_parse``/``_build`` and emits the same
checks as straight Python for ``.compile()`` (``_emitparse``/``_emitbuild``).
Errors are :mod:`terminal.protocol.errors` kinds with ``offset`` 0 (the start
of the prefix); the message construct adds the field and the absolute offset.
"""

from __future__ import annotations

import functools
from typing import Any

from construct import Construct

from terminal.protocol import emit
from terminal.protocol.errors import BcdError, CharacterError, EncodeValueError, TruncatedError

__all__ = [
    "BCD_VALUE",
    "AsciiLength",
    "BcdLength",
    "BinaryLength",
    "LengthPrefix",
    "length_prefix",
]

#: The value of a packed BCD byte (``0x42`` -> 42), or -1 when a nibble is over 9.
_RUNTIME = (
    "from terminal.protocol.lengths import BCD_VALUE, bad_prefix, short_prefix\n"
    "from terminal.protocol.errors import EncodeValueError"
)

BCD_VALUE: tuple[int, ...] = tuple(
    (byte >> 4) * 10 + (byte & 15) if byte >> 4 < 10 and byte & 15 < 10 else -1
    for byte in range(256)
)


class LengthPrefix(Construct):
    """The common part: ``width`` bytes on the wire holding 0..``capacity``."""

    width: int
    capacity: int

    def _sizeof(self, context: Any, path: Any) -> int:
        return self.width

    def _parse(self, stream: Any, context: Any, path: Any) -> int:
        raw = stream.read(self.width)
        if len(raw) != self.width:
            raise short_prefix(self.width, len(raw))
        return self._count(raw)

    def _build(self, obj: Any, stream: Any, context: Any, path: Any) -> int:
        if type(obj) is not int or not 0 <= obj <= self.capacity:
            raise EncodeValueError(f"length {obj!r} does not fit the prefix (0..{self.capacity})")
        stream.write(self._raw(obj))
        return obj

    def _count(self, raw: bytes) -> int:
        raise NotImplementedError

    def _raw(self, count: int) -> bytes:
        raise NotImplementedError

    def _emit(self, code: Any, kind: str, body: str) -> str:
        return emit.function(code, kind, type(self).__name__.lower(), body, _RUNTIME)

    def _emitbuild(self, code: Any) -> str:
        body = f"""
            if obj.__class__ is not int or not 0 <= obj <= {self.capacity}:
                raise EncodeValueError(
                    f"length {{obj!r}} does not fit the prefix (0..{self.capacity})"
                )
            io.write({self._emit_raw("obj")})
            return obj
        """
        return self._emit(code, "build", body)

    def _emit_raw(self, count: str) -> str:
        raise NotImplementedError


class BcdLength(LengthPrefix):
    """``digits`` packed BCD digits in ``(digits + 1) // 2`` bytes (LL: 1, LLL: 2)."""

    def __init__(self, digits: int) -> None:
        super().__init__()
        self.digits = digits
        self.width = (digits + 1) // 2
        self.capacity = 10**digits - 1

    def __repr__(self) -> str:
        return f"BcdLength({self.digits})"

    def _count(self, raw: bytes) -> int:
        text = raw.hex()
        if not text.isdigit():
            raise bad_prefix(raw, "bcd")
        return int(text)

    def _raw(self, count: int) -> bytes:
        return bytes.fromhex(f"{count:0{2 * self.width}d}")

    def _emitparse(self, code: Any) -> str:
        width = self.width
        lines = [f"raw = io.read({width})", f"if len(raw) != {width}:"]
        lines.append(f"    raise short_prefix({width}, len(raw))")
        places = [f"BCD_VALUE[raw[{index}]]" for index in range(width)]
        for index, place in enumerate(places):
            lines.append(f"part{index} = {place}")
        lines.append(f"if {' or '.join(f'part{i} < 0' for i in range(width))}:")
        lines.append("    raise bad_prefix(raw, 'bcd')")
        total = " + ".join(f"part{i} * {100 ** (width - 1 - i)}" for i in range(width))
        lines.append(f"return {total}")
        return self._emit(code, "parse", "\n".join(lines))

    def _emit_raw(self, count: str) -> str:
        return f"bytes.fromhex('%0{2 * self.width}d' % {count})"


class AsciiLength(LengthPrefix):
    """``digits`` ASCII digits, one a byte (LL: 2 bytes, LLL: 3)."""

    def __init__(self, digits: int) -> None:
        super().__init__()
        self.digits = digits
        self.width = digits
        self.capacity = 10**digits - 1

    def __repr__(self) -> str:
        return f"AsciiLength({self.digits})"

    def _count(self, raw: bytes) -> int:
        if not raw.isdigit():
            raise bad_prefix(raw, "ascii")
        return int(raw)

    def _raw(self, count: int) -> bytes:
        return f"{count:0{self.width}d}".encode("ascii")

    def _emitparse(self, code: Any) -> str:
        body = f"""
            raw = io.read({self.width})
            if raw.isdigit() and len(raw) == {self.width}:
                return int(raw)
            if len(raw) != {self.width}:
                raise short_prefix({self.width}, len(raw))
            raise bad_prefix(raw, 'ascii')
        """
        return self._emit(code, "parse", body)

    def _emit_raw(self, count: str) -> str:
        return f"b'%0{self.width}d' % {count}"


class BinaryLength(LengthPrefix):
    """A ``width``-byte big-endian unsigned length (LL: 1 byte, LLL: 2)."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.width = width
        self.capacity = 256**width - 1

    def __repr__(self) -> str:
        return f"BinaryLength({self.width})"

    def _count(self, raw: bytes) -> int:
        return int.from_bytes(raw, "big")

    def _raw(self, count: int) -> bytes:
        return count.to_bytes(self.width, "big")

    def _emitparse(self, code: Any) -> str:
        body = f"""
            raw = io.read({self.width})
            if len(raw) != {self.width}:
                raise short_prefix({self.width}, len(raw))
            return int.from_bytes(raw, 'big')
        """
        return self._emit(code, "parse", body)

    def _emit_raw(self, count: str) -> str:
        return f"{count}.to_bytes({self.width}, 'big')"


# -- the error path (shared by the interpreted and the generated code) -------------


def short_prefix(width: int, left: int) -> TruncatedError:
    return TruncatedError(
        f"input ends inside the length prefix: needs {width} byte(s), {left} left", offset=0
    )


def bad_prefix(raw: bytes, encoding: str) -> BcdError | CharacterError:
    if encoding == "ascii":
        return CharacterError(f"length prefix {raw!r} is not ASCII digits", offset=0)
    return BcdError(f"length prefix {raw.hex().upper()} is not BCD", offset=0)


@functools.cache
def length_prefix(prefix: str, encoding: str) -> LengthPrefix | None:
    """The prefix construct a table means by ``prefix`` (``fixed``/``LL``/``LLL``)
    and ``encoding`` (``bcd``/``ascii``/``binary``); ``None`` for fixed fields.
    Binary LL is one byte, binary LLL two."""
    if prefix == "fixed":
        return None
    digits = {"LL": 2, "LLL": 3}[prefix]
    if encoding == "binary":
        return BinaryLength(digits - 1)
    return BcdLength(digits) if encoding == "bcd" else AsciiLength(digits)
