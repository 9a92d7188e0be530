"""Converting one field's data between its wire bytes and its Python value.

Built once per :class:`FieldFormat` (closures chosen for the format, so the
per-message path does no format dispatch). The codec knows nothing of length
prefixes or offsets: it reports a :class:`FieldProblem` with an index into the
piece it was given, and the message codec turns that into a
:class:`~terminal.errors.ProtocolError` naming the field and byte offset.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from terminal.errors import ProtocolError
from terminal.protocol.errors import BcdError, CharacterError, EncodeValueError, TlvError
from terminal.protocol.formats import FieldFormat
from terminal.protocol.subfields import SubfieldError, SubfieldLayout
from terminal.protocol.tlv import IccData, TlvProblem, parse_tlv
from terminal.protocol.tlv import encode_tlv as tlv_to_bytes

__all__ = ["FieldCodec", "FieldProblem", "make_field_codec"]

Decoder = Callable[[bytes, int], Any]
Encoder = Callable[[Any], tuple[int, bytes]]


class FieldProblem(Exception):
    """Internal: what is wrong with a piece (``index`` into it) or a value.

    ``sub`` names a subfield or TLV tag path, appended to the field number.
    """

    def __init__(
        self, kind: type[ProtocolError], reason: str, index: int = 0, sub: str = ""
    ) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason
        self.index = index
        self.sub = sub


@dataclass(frozen=True, slots=True)
class FieldCodec:
    """``decode(piece, count) -> value`` and ``encode(value) -> (count, data)``.

    ``count`` is the field's length as its prefix counts it (digits or bytes);
    ``encode`` checks type, characters and size (exact for fixed fields).
    """

    format: FieldFormat
    decode: Decoder
    encode: Encoder


def make_field_codec(fmt: FieldFormat) -> FieldCodec:
    """The codec for ``fmt``: a base conversion plus its structure, if any."""
    decode, encode = _base(fmt)
    if fmt.structure == "tlv":
        decode, encode = _with_tlv(decode, encode)
    elif isinstance(fmt.structure, SubfieldLayout):
        decode, encode = _with_subfields(fmt.structure, decode, encode)
    return FieldCodec(fmt, decode, encode)


_DIGITS = string.digits.encode()
_AN = (string.ascii_letters + string.digits + " ").encode()
_ANS = bytes(range(0x20, 0x7F))
_Z_ASCII = (string.digits + "=D").encode()


def _size_check(fmt: FieldFormat) -> Callable[[int], None]:
    unit = "digits" if fmt.kind in ("n", "z") else "bytes"
    if fmt.variable:
        maximum = fmt.length

        def check(count: int) -> None:
            if count > maximum:
                raise FieldProblem(
                    EncodeValueError, f"{count} {unit} is over the maximum {maximum}"
                )
    else:
        fixed = fmt.length

        def check(count: int) -> None:
            if count != fixed:
                raise FieldProblem(
                    EncodeValueError,
                    f"{count} {unit} given, the field is exactly {fixed} (no padding is added)",
                )

    return check


def _base(fmt: FieldFormat) -> tuple[Decoder, Encoder]:
    if fmt.kind in ("n", "z"):
        return _packed(fmt) if fmt.packed else _ascii_digits(fmt)
    if fmt.kind == "b":
        return _binary(fmt)
    return _text(fmt)


def _type_problem(value: Any, wanted: str) -> FieldProblem:
    return FieldProblem(EncodeValueError, f"needs {wanted}, got {type(value).__name__}")


_PAD_NIBBLES_READ = frozenset("0f")


def _packed(fmt: FieldFormat) -> tuple[Decoder, Encoder]:
    """BCD digits two a byte; ``z`` also allows the separator nibble D."""
    left = fmt.align == "left"
    pad = format(fmt.pad, "x")
    track = fmt.kind == "z"
    check_size = _size_check(fmt)
    what = "digits and D" if track else "digits"

    def decode(piece: bytes, count: int) -> str:
        text = piece.hex()
        if count & 1:
            if left:
                pad_seen, text = text[-1], text[:-1]
                pad_index = len(piece) - 1
            else:
                pad_seen, text = text[0], text[1:]
                pad_index = 0
            # Peers pad with 0 or F; both are read, the dialect's pad is written.
            if pad_seen != pad and pad_seen not in _PAD_NIBBLES_READ:
                raise FieldProblem(
                    BcdError,
                    f"pad nibble is {pad_seen.upper()}, the dialect pads with {pad.upper()}",
                    pad_index,
                )
        probe = text.replace("d", "0") if track else text
        if probe.isdigit() or not probe:
            return text.upper() if track else text
        bad = next(i for i, c in enumerate(probe) if c not in string.digits)
        offset_nibble = bad + (1 if (count & 1 and not left) else 0)
        raise FieldProblem(
            BcdError, f"nibble {probe[bad].upper()} is not BCD ({what})", offset_nibble >> 1
        )

    def encode(value: Any) -> tuple[int, bytes]:
        if type(value) is not str:
            raise _type_problem(value, f"a str of {what}")
        count = len(value)
        check_size(count)
        probe = value.replace("D", "0") if track else value
        if not (probe.isdigit() and probe.isascii()) and probe:
            raise FieldProblem(EncodeValueError, f"{value!r} is not {what} only")
        if count & 1:
            value = value + pad if left else pad + value
        return count, bytes.fromhex(value)

    return decode, encode


def _ascii_digits(fmt: FieldFormat) -> tuple[Decoder, Encoder]:
    """Digits as ASCII characters; ``z`` adds ``=`` and ``D`` (track separators)."""
    allowed = _Z_ASCII if fmt.kind == "z" else _DIGITS
    track = fmt.kind == "z"
    check_size = _size_check(fmt)
    what = "digits, = and D" if track else "digits"

    def decode(piece: bytes, count: int) -> str:
        if (piece.isdigit() if not track else not piece.translate(None, allowed)) or not piece:
            return piece.decode("ascii")
        raise FieldProblem(CharacterError, f"not {what} only", _first_bad(piece, allowed))

    def encode(value: Any) -> tuple[int, bytes]:
        if type(value) is not str:
            raise _type_problem(value, f"a str of {what}")
        try:
            raw = value.encode("ascii")
        except UnicodeEncodeError:
            raise FieldProblem(EncodeValueError, f"{value!r} is not {what} only") from None
        if (not raw.isdigit() if not track else raw.translate(None, allowed)) and raw:
            raise FieldProblem(EncodeValueError, f"{value!r} is not {what} only")
        count = len(raw)
        check_size(count)
        return count, raw

    return decode, encode


def _text(fmt: FieldFormat) -> tuple[Decoder, Encoder]:
    """``an`` (letters, digits, space) and ``ans`` (printable) text; with a non-ASCII
    charset (``gbk``) any text that charset encodes is accepted."""
    charset = fmt.charset
    check_size = _size_check(fmt)
    allowed = _AN if fmt.kind == "an" else _ANS
    what = "letters, digits and spaces" if fmt.kind == "an" else "printable ASCII"

    if charset == "ascii":

        def decode(piece: bytes, count: int) -> str:
            if piece.translate(None, allowed):
                raise FieldProblem(CharacterError, f"not {what}", _first_bad(piece, allowed))
            return piece.decode("ascii")

        def encode(value: Any) -> tuple[int, bytes]:
            if type(value) is not str:
                raise _type_problem(value, "a str")
            try:
                raw = value.encode("ascii")
            except UnicodeEncodeError:
                raise FieldProblem(EncodeValueError, f"{value!r} is not {what}") from None
            if raw.translate(None, allowed):
                raise FieldProblem(EncodeValueError, f"{value!r} is not {what}")
            count = len(raw)
            check_size(count)
            return count, raw

        return decode, encode

    def decode_charset(piece: bytes, count: int) -> str:
        try:
            return piece.decode(charset)
        except UnicodeDecodeError as error:
            raise FieldProblem(CharacterError, f"not {charset} text", error.start) from None

    def encode_charset(value: Any) -> tuple[int, bytes]:
        if type(value) is not str:
            raise _type_problem(value, "a str")
        try:
            raw = value.encode(charset)
        except UnicodeEncodeError:
            raise FieldProblem(EncodeValueError, f"{value!r} is not {charset} text") from None
        count = len(raw)
        check_size(count)
        return count, raw

    return decode_charset, encode_charset


def _binary(fmt: FieldFormat) -> tuple[Decoder, Encoder]:
    check_size = _size_check(fmt)

    def decode(piece: bytes, count: int) -> bytes:
        return piece

    def encode(value: Any) -> tuple[int, bytes]:
        if type(value) is not bytes:
            if not isinstance(value, bytes | bytearray):
                raise _type_problem(value, "bytes")
            value = bytes(value)
        count = len(value)
        check_size(count)
        return count, value

    return decode, encode


def _with_tlv(decode: Decoder, encode: Encoder) -> tuple[Decoder, Encoder]:
    """BER-TLV on top of a ``b`` field: decode gives :class:`IccData`; encode takes
    ``IccData`` (or raw bytes, sent as they are). A constructed tag must hold
    ``IccData`` and a primitive one bytes, else the problem names ``55.<tag path>``."""

    def decode_tlv(piece: bytes, count: int) -> IccData:
        try:
            return parse_tlv(piece, 0, len(piece))
        except TlvProblem as problem:
            raise FieldProblem(TlvError, problem.reason, problem.offset, problem.path) from None

    def encode_tlv(value: Any) -> tuple[int, bytes]:
        if isinstance(value, IccData):
            try:
                raw = tlv_to_bytes(value)
            except TlvProblem as problem:
                raise FieldProblem(EncodeValueError, problem.reason, 0, problem.path) from None
            return encode(raw)
        if isinstance(value, bytes | bytearray):
            return encode(value)
        raise _type_problem(value, "IccData or bytes")

    return decode_tlv, encode_tlv


def _with_subfields(
    layout: SubfieldLayout, decode: Decoder, encode: Encoder
) -> tuple[Decoder, Encoder]:
    """Named subfields on top of an ``n`` field: decode gives ``dict[str, str]``;
    encode takes that dict (or the plain digit string)."""

    def decode_subfields(piece: bytes, count: int) -> dict[str, str]:
        return layout.split(decode(piece, count))

    def encode_subfields(value: Any) -> tuple[int, bytes]:
        if isinstance(value, Mapping):
            try:
                value = layout.join(value)
            except SubfieldError as error:
                raise FieldProblem(EncodeValueError, str(error), 0, error.name) from None
        elif type(value) is not str:
            raise _type_problem(value, "a dict of subfields (or a str of digits)")
        return encode(value)

    return decode_subfields, encode_subfields


def _first_bad(piece: bytes, allowed: bytes) -> int:
    allowed_set = frozenset(allowed)
    return next((i for i, byte in enumerate(piece) if byte not in allowed_set), 0)
