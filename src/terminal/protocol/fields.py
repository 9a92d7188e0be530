"""ISO 8583 field encodings, one construct class each.

A field is fixed (``prefix=None``: exactly ``length`` digits or bytes) or
variable (a length prefix from :mod:`terminal.protocol.lengths`, then at most
``length``). ``length`` counts digits for the numeric and track classes and
bytes for :class:`Text` and :class:`Binary`, as ISO 8583 writes ``n..19`` and
``ans..999``.

==================  =========  ==================================================
class               value      on the wire
==================  =========  ==================================================
:class:`BcdNumeric` ``str``    ``n``: packed digits; an odd count gets a pad
                               nibble (``align="left"``: trailing, ``right``:
                               leading); ``0`` and ``F`` pads are read, ``pad``
                               is written
:class:`BcdTrack`   ``str``    ``z``: packed, digits and the separator nibble ``D``
:class:`AsciiNumeric` ``str``  ``n``: ASCII digits
:class:`AsciiTrack` ``str``    ``z``: ASCII digits, ``=`` and ``D``
:class:`Text`       ``str``    ``an`` (letters, digits, space) or ``ans``
                               (printable ASCII); ``charset="gbk"``: GBK text
:class:`Binary`     ``bytes``  ``b``: the bytes as they are
==================  =========  ==================================================

Every class has construct's interpreted ``_parse``/``_build`` (the reference)
and ``_emitparse``/``_emitbuild``, which write the same checks (length, digits,
character set, pad nibble) as a straight-line Python function of the module
``.compile()`` generates. Both raise :mod:`terminal.protocol.errors` kinds
(construct errors too) with ``offset`` counted from where the field started
reading; :class:`~terminal.protocol.isomessage.IsoMessage` re-raises them naming
the field and the offset in the message.
"""

from __future__ import annotations

import codecs
import string
from typing import Any

from construct import Construct, SizeofError

from terminal.protocol import emit
from terminal.protocol.errors import (
    BcdError,
    CharacterError,
    EncodeValueError,
    LengthError,
    TruncatedError,
)
from terminal.protocol.lengths import LengthPrefix

__all__ = [
    "AsciiNumeric",
    "AsciiTrack",
    "BcdNumeric",
    "BcdTrack",
    "Binary",
    "FieldConstruct",
    "Text",
]

DIGIT_BYTES = string.digits.encode()
TRACK_BYTES = (string.digits + "=D").encode()
AN_BYTES = (string.ascii_letters + string.digits + " ").encode()
ANS_BYTES = bytes(range(0x20, 0x7F))

_RUNTIME = (
    "from terminal.protocol.fields import (AN_BYTES, ANS_BYTES, DIGIT_BYTES, TRACK_BYTES,\n"
    "    bad_chars, bad_nibble, bad_pad, bad_value, over_maximum, too_long, truncated,\n"
    "    wrong_size, wrong_type)"
)


class FieldConstruct(Construct):
    """What every field encoding shares: ``length``, the optional ``prefix``, the
    read of the data and the length checks around the class's own conversion.

    Subclasses give ``unit`` (``"digits"``/``"bytes"``), ``_decode``/``_encode``
    (interpreted conversion) and ``_emit_decode``/``_emit_encode`` (the same as
    generated source lines).
    """

    unit = "bytes"

    def __init__(self, length: int, prefix: LengthPrefix | None = None) -> None:
        super().__init__()
        if not (type(length) is int and length > 0):
            raise ValueError(f"length must be a positive int, got {length!r}")
        self.length = length
        self.prefix = prefix
        #: Bytes of the prefix, before the data (0 for a fixed field).
        self.data_offset = prefix.sizeof() if prefix is not None else 0

    def __repr__(self) -> str:
        options = "".join(f", {key}={value!r}" for key, value in self._options().items())
        prefix = f", {self.prefix!r}" if self.prefix is not None else ""
        return f"{type(self).__name__}({self.length}{prefix}{options})"

    def _options(self) -> dict[str, Any]:
        return {}

    def wire_size(self, count: int) -> int:
        """Bytes of data for ``count`` digits or bytes: the one wire-size rule."""
        return count

    def _emit_wire_size(self, count: str) -> str:
        return count

    def _sizeof(self, context: Any, path: Any) -> int:
        if self.prefix is not None:
            raise SizeofError("a variable field has no fixed size", path=path)
        return self.wire_size(self.length)

    # -- interpreted ----------------------------------------------------------------

    def _parse(self, stream: Any, context: Any, path: Any) -> Any:
        if self.prefix is None:
            count = self.length
        else:
            count = self.prefix._parsereport(stream, context, path)
            if count > self.length:
                raise over_maximum(count, self.length, self.unit)
        size = self.wire_size(count)
        data = stream.read(size)
        if len(data) != size:
            raise truncated(size, len(data), self.data_offset)
        return self._decode(data, count)

    def _build(self, obj: Any, stream: Any, context: Any, path: Any) -> Any:
        count, data = self._encode(obj)
        if self.prefix is None:
            if count != self.length:
                raise wrong_size(count, self.length, self.unit)
        else:
            if count > self.length:
                raise too_long(count, self.length, self.unit)
            self.prefix._build(count, stream, context, path)
        stream.write(data)
        return obj

    def _decode(self, data: bytes, count: int) -> Any:
        raise NotImplementedError

    def _encode(self, value: Any) -> tuple[int, bytes]:
        raise NotImplementedError

    # -- compiled ---------------------------------------------------------------------

    def _emitparse(self, code: Any) -> str:
        lines = []
        if self.prefix is None:
            count: int | None = self.length
            size = self.wire_size(self.length)
            lines += [
                f"data = io.read({size})",
                f"if len(data) != {size}:",
                f"    raise truncated({size}, len(data), 0)",
            ]
        else:
            count = None
            lines += [
                f"count = {self.prefix._compileparse(code)}",
                f"if count > {self.length}:",
                f"    raise over_maximum(count, {self.length}, {self.unit!r})",
                f"size = {self._emit_wire_size('count')}",
                "data = io.read(size)",
                "if len(data) != size:",
                f"    raise truncated(size, len(data), {self.data_offset})",
            ]
        lines += self._emit_decode(count)
        return self._emit_function(code, "parse", lines)

    def _emitbuild(self, code: Any) -> str:
        lines = ["value = obj", *self._emit_encode()]
        if self.prefix is None:
            lines += [
                f"if count != {self.length}:",
                f"    raise wrong_size(count, {self.length}, {self.unit!r})",
            ]
        else:
            lines += [
                f"if count > {self.length}:",
                f"    raise too_long(count, {self.length}, {self.unit!r})",
                "obj = count",
                self.prefix._compilebuild(code),
            ]
        lines += ["io.write(data)", "return value"]
        return self._emit_function(code, "build", lines)

    def _emit_decode(self, count: int | None) -> list[str]:
        """Lines turning ``data`` (and ``count``; a constant when ``count`` is
        given) into the value, ending in ``return`` or ``raise``."""
        raise NotImplementedError

    def _emit_encode(self) -> list[str]:
        """Lines checking ``value`` and setting ``count`` and ``data``."""
        raise NotImplementedError

    def _emit_function(self, code: Any, kind: str, lines: list[str]) -> str:
        return emit.function(code, kind, type(self).__name__.lower(), lines, _RUNTIME)


class BcdNumeric(FieldConstruct):
    """``n`` as packed BCD, two digits a byte."""

    unit = "digits"
    #: Nibbles allowed besides the digits (``d`` for track data).
    extra = ""
    what = "digits"

    def __init__(
        self, length: int, prefix: LengthPrefix | None = None, *, align: str = "left", pad: int = 0
    ) -> None:
        super().__init__(length, prefix)
        if align not in ("left", "right") or not (type(pad) is int and 0 <= pad <= 15):
            raise ValueError(f"align must be left or right and pad a nibble: {align!r}, {pad!r}")
        self.align = align
        self.pad = pad
        self._pad = format(pad, "x")
        #: Pad nibbles read: the two peers use, and our own.
        self._pads = "".join(sorted({"0", "f", self._pad}))

    def _options(self) -> dict[str, Any]:
        return (
            {"align": self.align, "pad": self.pad} if (self.align, self.pad) != ("left", 0) else {}
        )

    def wire_size(self, count: int) -> int:
        return (count + 1) >> 1

    def _emit_wire_size(self, count: str) -> str:
        return f"({count} + 1) >> 1"

    def _decode(self, data: bytes, count: int) -> str:
        text = data.hex()
        left = self.align == "left"
        if count & 1:
            seen = text[-1] if left else text[0]
            text = text[:-1] if left else text[1:]
            if seen not in self._pads:
                at = len(data) - 1 if left else 0
                raise bad_pad(seen, self._pad, self.data_offset + at)
        probe = text.replace(self.extra, "0") if self.extra else text
        if probe.isdigit() or not probe:
            return text.upper() if self.extra else text
        shift = 0 if left or not count & 1 else 1
        raise bad_nibble(probe, shift, self.what, self.data_offset)

    def _encode(self, value: Any) -> tuple[int, bytes]:
        if type(value) is not str:
            raise wrong_type(value, f"a str of {self.what}")
        probe = value.replace(self.extra.upper(), "0") if self.extra else value
        if probe and not (probe.isdigit() and probe.isascii()):
            raise bad_value(value, self.what)
        count = len(value)
        if count & 1:
            value = value + self._pad if self.align == "left" else self._pad + value
        return count, bytes.fromhex(value)

    def _emit_decode(self, count: int | None) -> list[str]:
        left = self.align == "left"
        lines = ["text = data.hex()"]
        pad_lines = [
            f"seen = text[{-1 if left else 0}]",
            f"text = text[{':-1' if left else '1:'}]",
            f"if seen not in {self._pads!r}:",
            f"    raise bad_pad(seen, {self._pad!r}, "
            + (f"{self.data_offset} + len(data) - 1)" if left else f"{self.data_offset})"),
        ]
        if count is None:
            lines += ["if count & 1:", *("    " + line for line in pad_lines)]
        elif count & 1:
            lines += pad_lines
        probe = "text"
        if self.extra:
            lines.append(f"probe = text.replace({self.extra!r}, '0')")
            probe = "probe"
        accept = f"{probe}.isdigit()" + (f" or not {probe}" if count is None else "")
        result = "text.upper()" if self.extra else "text"
        if left or (count is not None and not count & 1):
            shift = "0"
        elif count is None:
            shift = "count & 1"
        else:
            shift = "1"
        lines += [
            f"if {accept}:",
            f"    return {result}",
            f"raise bad_nibble({probe}, {shift}, {self.what!r}, {self.data_offset})",
        ]
        return lines

    def _emit_encode(self) -> list[str]:
        probe = "value"
        lines = [
            "if value.__class__ is not str:",
            f"    raise wrong_type(value, {'a str of ' + self.what!r})",
        ]
        if self.extra:
            lines.append(f"probe = value.replace({self.extra.upper()!r}, '0')")
            probe = "probe"
        lines += [
            f"if not ({probe}.isdigit() and {probe}.isascii()) and {probe}:",
            f"    raise bad_value(value, {self.what!r})",
            "count = len(value)",
            "if count & 1:",
            "    data = bytes.fromhex("
            + (
                "value + " + repr(self._pad)
                if self.align == "left"
                else repr(self._pad) + " + value"
            )
            + ")",
            "else:",
            "    data = bytes.fromhex(value)",
        ]
        return lines


class BcdTrack(BcdNumeric):
    """``z`` (track data) as packed BCD: digits and the separator nibble ``D``."""

    extra = "d"
    what = "digits and D"


class AsciiNumeric(FieldConstruct):
    """``n`` as ASCII digits, one a byte."""

    unit = "digits"
    what = "digits"
    allowed = DIGIT_BYTES
    _allowed_name = "DIGIT_BYTES"

    def _decode(self, data: bytes, count: int) -> str:
        if not data.translate(None, self.allowed):
            return data.decode("ascii")
        raise bad_chars(data, self.allowed, self.what, self.data_offset)

    def _encode(self, value: Any) -> tuple[int, bytes]:
        if type(value) is not str:
            raise wrong_type(value, f"a str of {self.what}")
        return _ascii_data(value, self.allowed, self.what)

    def _emit_decode(self, count: int | None) -> list[str]:
        if self.allowed is DIGIT_BYTES:
            accept = "data.isdigit()" + (" or not data" if count is None else "")
        else:
            accept = f"not data.translate(None, {self._allowed_name})"
        return [
            f"if {accept}:",
            "    return data.decode()",
            f"raise bad_chars(data, {self._allowed_name}, {self.what!r}, {self.data_offset})",
        ]

    def _emit_encode(self) -> list[str]:
        if self.allowed is DIGIT_BYTES:
            bad = "not data.isdigit() and data"
        else:
            bad = f"data.translate(None, {self._allowed_name})"
        return [
            "if value.__class__ is not str:",
            f"    raise wrong_type(value, {'a str of ' + self.what!r})",
            "if not value.isascii():",
            f"    raise bad_value(value, {self.what!r})",
            "data = value.encode()",
            f"if {bad}:",
            f"    raise bad_value(value, {self.what!r})",
            "count = len(data)",
        ]


class AsciiTrack(AsciiNumeric):
    """``z`` (track data) as ASCII: digits, ``=`` and ``D``."""

    what = "digits, = and D"
    allowed = TRACK_BYTES
    _allowed_name = "TRACK_BYTES"


class Text(FieldConstruct):
    """``an`` (letters, digits, space) or ``ans`` (printable ASCII) text; with
    ``charset="gbk"`` any text GBK encodes (fields that carry Chinese)."""

    def __init__(
        self,
        length: int,
        prefix: LengthPrefix | None = None,
        *,
        kind: str = "ans",
        charset: str = "ascii",
    ) -> None:
        super().__init__(length, prefix)
        if kind not in ("an", "ans"):
            raise ValueError(f"kind must be an or ans, got {kind!r}")
        codecs.lookup(charset)  # LookupError for a charset Python does not know
        self.kind = kind
        self.charset = charset
        self.allowed = AN_BYTES if kind == "an" else ANS_BYTES
        self._allowed_name = "AN_BYTES" if kind == "an" else "ANS_BYTES"
        if charset != "ascii":
            self.what = f"{charset} text"
        else:
            self.what = "letters, digits and spaces" if kind == "an" else "printable ASCII"

    def _options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"kind": self.kind}
        if self.charset != "ascii":
            options["charset"] = self.charset
        return options

    def _decode(self, data: bytes, count: int) -> str:
        if self.charset != "ascii":
            try:
                return data.decode(self.charset)
            except UnicodeDecodeError as error:
                raise CharacterError(
                    f"not {self.what}", offset=self.data_offset + error.start
                ) from None
        if data.translate(None, self.allowed):
            raise bad_chars(data, self.allowed, self.what, self.data_offset)
        return data.decode("ascii")

    def _encode(self, value: Any) -> tuple[int, bytes]:
        if type(value) is not str:
            raise wrong_type(value, "a str")
        if self.charset != "ascii":
            try:
                data = value.encode(self.charset)
            except UnicodeEncodeError:
                raise bad_value(value, self.what) from None
            return len(data), data
        return _ascii_data(value, self.allowed, self.what)

    def _emit_decode(self, count: int | None) -> list[str]:
        if self.charset != "ascii":
            return [
                "try:",
                f"    return data.decode({self.charset!r})",
                "except UnicodeDecodeError as error:",
                f"    raise bad_chars(data, None, {self.what!r}, {self.data_offset} + error.start)"
                " from None",
            ]
        return [
            f"if data.translate(None, {self._allowed_name}):",
            f"    raise bad_chars(data, {self._allowed_name}, {self.what!r}, {self.data_offset})",
            "return data.decode()",
        ]

    def _emit_encode(self) -> list[str]:
        lines = ["if value.__class__ is not str:", "    raise wrong_type(value, 'a str')"]
        if self.charset != "ascii":
            return [
                *lines,
                "try:",
                f"    data = value.encode({self.charset!r})",
                "except UnicodeEncodeError:",
                f"    raise bad_value(value, {self.what!r}) from None",
                "count = len(data)",
            ]
        return [
            *lines,
            "if not value.isascii():",
            f"    raise bad_value(value, {self.what!r})",
            "data = value.encode()",
            f"if data.translate(None, {self._allowed_name}):",
            f"    raise bad_value(value, {self.what!r})",
            "count = len(data)",
        ]


class Binary(FieldConstruct):
    """``b``: bytes as they are (``bytearray`` is taken too when building)."""

    def _decode(self, data: bytes, count: int) -> bytes:
        return data

    def _encode(self, value: Any) -> tuple[int, bytes]:
        if type(value) is not bytes:
            if not isinstance(value, bytearray):
                raise wrong_type(value, "bytes")
            value = bytes(value)
        return len(value), value

    def _emit_decode(self, count: int | None) -> list[str]:
        return ["return data"]

    def _emit_encode(self) -> list[str]:
        return [
            "data = value",
            "if data.__class__ is not bytes:",
            "    if not isinstance(data, bytearray):",
            "        raise wrong_type(data, 'bytes')",
            "    data = bytes(data)",
            "count = len(data)",
        ]


def _ascii_data(value: str, allowed: bytes, what: str) -> tuple[int, bytes]:
    """``value`` as ASCII bytes and their count: the interpreted encoding of ASCII digits
    and ASCII text alike, refusing a character outside ``allowed`` (naming ``what``)."""
    if not value.isascii():
        raise bad_value(value, what)
    data = value.encode("ascii")
    if data.translate(None, allowed):
        raise bad_value(value, what)
    return len(data), data


# -- the error path (shared by the interpreted and the generated code) -------------


def truncated(needed: int, left: int, offset: int) -> TruncatedError:
    return TruncatedError(
        f"input ends inside the field: needs {needed} byte(s), {left} left", offset=offset
    )


def over_maximum(count: int, maximum: int, unit: str) -> LengthError:
    return LengthError(f"length {count} ({unit}) is over the maximum {maximum}", offset=0)


def bad_pad(seen: str, pad: str, offset: int) -> BcdError:
    return BcdError(
        f"pad nibble is {seen.upper()}, the dialect pads with {pad.upper()}", offset=offset
    )


def bad_nibble(text: str, shift: int, what: str, offset: int) -> BcdError:
    """The first nibble of ``text`` that is not a digit; ``shift`` is 1 when a
    leading pad nibble was cut off, so that nibble ``i`` sits in byte ``(i + 1) // 2``."""
    index = next(i for i, char in enumerate(text) if char not in string.digits)
    return BcdError(
        f"nibble {text[index].upper()} is not BCD ({what})", offset=offset + (index + shift) // 2
    )


def bad_chars(data: bytes, allowed: bytes | None, what: str, offset: int) -> CharacterError:
    """``data`` has a byte outside ``allowed`` (``offset`` already points at it
    when ``allowed`` is ``None``)."""
    index = 0
    if allowed is not None:
        allowed_set = frozenset(allowed)
        index = next(i for i, byte in enumerate(data) if byte not in allowed_set)
    return CharacterError(f"not {what}", offset=offset + index)


def wrong_type(value: Any, wanted: str) -> EncodeValueError:
    return EncodeValueError(f"needs {wanted}, got {type(value).__name__}")


def bad_value(value: Any, what: str) -> EncodeValueError:
    return EncodeValueError(f"{value!r} is not {what} only")


def wrong_size(count: int, length: int, unit: str) -> EncodeValueError:
    return EncodeValueError(
        f"{count} {unit} given, the field is exactly {length} (no padding is added)"
    )


def too_long(count: int, maximum: int, unit: str) -> EncodeValueError:
    return EncodeValueError(f"{count} {unit} is over the maximum {maximum}")
