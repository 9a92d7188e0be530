"""BER-TLV as EMV Book 3 uses it, for ICC data (field 55).

Tags are uppercase hex strings (``"9F26"``) because that is how every EMV
document and log names them. Constructed tags (bit 6 of the first tag byte)
hold a nested :class:`IccData`. Parsing keeps unknown tags, keeps the order,
and remembers each length's original encoding so that a decoded value encodes
back byte for byte, even when a peer used a non-minimal length (``81 05``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import overload

from terminal.protocol.errors import EncodeValueError, TlvError

__all__ = ["MAX_DEPTH", "IccData", "Tlv", "TlvValue"]

#: Deepest nesting of constructed tags read or written (EMV uses two or three
#: levels); deeper data is refused instead of recursing without bound.
MAX_DEPTH = 16


@dataclass(frozen=True, slots=True)
class Tlv:
    """One data object: ``tag`` (uppercase hex), ``value`` (bytes, or nested
    :class:`IccData` for a constructed tag).

    ``length_encoding`` is the length exactly as it was on the wire; it is used
    again on encode while it still matches the value, and it takes no part in
    equality (two objects with the same tag and value are the same data).
    """

    tag: str
    value: TlvValue
    length_encoding: bytes | None = field(default=None, compare=False, repr=False)
    #: ``00`` bytes a peer put before this object (EMV Book 3 Annex B allows
    #: padding before, between and after objects); written back, not compared.
    padding_before: int = field(default=0, compare=False, repr=False)

    def __post_init__(self) -> None:
        problem = _tag_problem(self.tag)
        if problem:
            raise ValueError(f"bad TLV tag {self.tag!r}: {problem}")
        if isinstance(self.value, bytearray | memoryview):
            object.__setattr__(self, "value", bytes(self.value))
        elif not isinstance(self.value, bytes | IccData):
            raise ValueError(f"TLV {self.tag} value must be bytes or IccData")

    @property
    def constructed(self) -> bool:
        """True when the tag says the value is itself TLV (e.g. ``70``, ``77``)."""
        return bool(int(self.tag[:2], 16) & 0x20)

    def to_bytes(self) -> bytes:
        """The wire bytes; raises :class:`EncodeValueError` naming the tag path when
        a constructed tag does not hold :class:`IccData` (or a primitive one does),
        or the nesting is deeper than :data:`MAX_DEPTH`."""
        try:
            return _encode_item(self, "", 1)
        except TlvProblem as problem:
            raise EncodeValueError(problem.reason, field=problem.path) from None


@dataclass(frozen=True, slots=True)
class IccData(Sequence[Tlv]):
    """An ordered sequence of :class:`Tlv` (duplicates and unknown tags kept)."""

    items: tuple[Tlv, ...] = ()
    #: ``00`` padding after the last object, as received; written back, not compared.
    padding_after: int = field(default=0, compare=False, repr=False)

    def __post_init__(self) -> None:
        items = tuple(self.items)
        if not all(isinstance(item, Tlv) for item in items):
            raise ValueError("IccData holds Tlv objects only")
        object.__setattr__(self, "items", items)

    @overload
    def __getitem__(self, index: int) -> Tlv: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Tlv]: ...
    def __getitem__(self, index: int | slice) -> Tlv | Sequence[Tlv]:
        return self.items[index]

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Tlv]:
        return iter(self.items)

    def find(self, tag: str) -> Tlv | None:
        """The first object with ``tag`` in wire order, looking into constructed
        templates too (depth first), or ``None``."""
        tag = tag.upper()
        for item in self.items:
            if item.tag == tag:
                return item
            if isinstance(item.value, IccData):
                found = item.value.find(tag)
                if found is not None:
                    return found
        return None

    def get(self, tag: str, default: TlvValue | None = None) -> TlvValue | None:
        """The value of :meth:`find` ``(tag)``, or ``default``."""
        found = self.find(tag)
        return default if found is None else found.value

    def to_bytes(self) -> bytes:
        """The wire bytes; raises :class:`EncodeValueError` as :meth:`Tlv.to_bytes`."""
        try:
            return encode_tlv(self)
        except TlvProblem as problem:
            raise EncodeValueError(problem.reason, field=problem.path) from None

    @classmethod
    def from_bytes(cls, data: bytes) -> IccData:
        """Parse BER-TLV; raises :class:`TlvError` naming the tag and offset (also
        for constructed tags nested deeper than :data:`MAX_DEPTH`)."""
        try:
            return parse_tlv(data, 0, len(data))
        except TlvProblem as problem:
            raise TlvError(
                problem.reason, field=problem.path or None, offset=problem.offset, data=data
            ) from None

    @classmethod
    def of(cls, items: Iterable[Tlv]) -> IccData:
        return cls(tuple(items))


TlvValue = bytes | IccData

# What parse_tlv reads is valid by construction (the tag follows the BER rules it
# was read by, the value is bytes or IccData), so it skips the checks of
# ``__post_init__``, which cost four times the object itself: these set the
# slots of the frozen dataclasses directly.
_new = object.__new__
_set_tag, _set_value, _set_length, _set_padding = (
    Tlv.__dict__[name].__set__ for name in ("tag", "value", "length_encoding", "padding_before")
)
_set_items, _set_padding_after = (
    IccData.__dict__[name].__set__ for name in ("items", "padding_after")
)


def _parsed_tlv(tag: str, value: TlvValue, length_encoding: bytes, padding: int) -> Tlv:
    item: Tlv = _new(Tlv)
    _set_tag(item, tag)
    _set_value(item, value)
    _set_length(item, length_encoding)
    _set_padding(item, padding)
    return item


def _parsed_icc(items: tuple[Tlv, ...], padding_after: int) -> IccData:
    data: IccData = _new(IccData)
    _set_items(data, items)
    _set_padding_after(data, padding_after)
    return data


class TlvProblem(Exception):
    """Internal: where parsing stopped; the codec adds the field number and context."""

    def __init__(self, reason: str, offset: int, path: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.offset = offset
        self.path = path


def value_problem(tag: str, value: object) -> str:
    """Why ``value`` cannot be the value of ``tag`` (a valid tag), or ``""``: a
    constructed tag (bit 6 of its first byte) holds :class:`IccData`, a
    primitive one ``bytes``."""
    if int(tag[:2], 16) & 0x20:
        if not isinstance(value, IccData):
            return f"constructed tag {tag} needs nested TLV (IccData), got {type(value).__name__}"
    elif not isinstance(value, bytes):
        return f"primitive tag {tag} needs bytes, got {type(value).__name__}"
    return ""


def encode_tlv(data: IccData, path: str = "", depth: int = 1) -> bytes:
    """The wire bytes of ``data`` (nested in the tag path ``path``); raises
    :class:`TlvProblem` (offset 0) naming the tag path of a value that does not
    match its tag, or of nesting deeper than :data:`MAX_DEPTH`."""
    raw = b"".join([_encode_item(item, path, depth) for item in data.items])
    return raw + b"\x00" * data.padding_after if data.padding_after else raw


def _encode_item(item: Tlv, path: str, depth: int) -> bytes:
    value = item.value
    if int(item.tag[:2], 16) & 0x20:
        if not isinstance(value, IccData) or depth >= MAX_DEPTH:
            here = f"{path}.{item.tag}" if path else item.tag
            reason = value_problem(item.tag, value) or (
                f"constructed tags nested deeper than {MAX_DEPTH} levels"
            )
            raise TlvProblem(reason, 0, here)
        raw = encode_tlv(value, f"{path}.{item.tag}" if path else item.tag, depth + 1)
    elif isinstance(value, bytes):
        raw = value
    else:
        raise TlvProblem(
            value_problem(item.tag, value), 0, f"{path}.{item.tag}" if path else item.tag
        )
    length = item.length_encoding
    if length is None or _read_length_bytes(length) != len(raw):
        length = _encode_length(len(raw))
    padding = b"\x00" * item.padding_before
    return padding + bytes.fromhex(item.tag) + length + raw


def parse_tlv(data: bytes, start: int, end: int, path: str = "", depth: int = 1) -> IccData:
    """Parse ``data[start:end]`` as TLV objects; offsets in errors are into ``data``.
    ``depth`` counts the levels of constructed tags around this one (at most
    :data:`MAX_DEPTH`)."""
    items: list[Tlv] = []
    append = items.append
    pos = start
    while pos < end:
        first = data[pos]
        padding = 0
        if not first:  # Annex B padding, not a tag
            padding_start = pos
            while pos < end and not data[pos]:
                pos += 1
            padding = pos - padding_start
            if pos >= end:
                return _parsed_icc(tuple(items), padding)
            first = data[pos]
        tag_start = pos
        pos += 1
        if first & 0x1F == 0x1F:
            while True:
                if pos >= end:
                    raise TlvProblem("tag runs past the end of the data", tag_start, path)
                byte = data[pos]
                pos += 1
                if not byte & 0x80:
                    break
        tag = data[tag_start:pos].hex().upper()
        if pos >= end:
            raise TlvProblem("length missing after the tag", pos, _path(path, tag))
        length_start = pos
        length = data[pos]
        pos += 1
        if length & 0x80:
            width = length & 0x7F
            if width == 0 or width > 4:
                raise TlvProblem(
                    f"unsupported length form {length:02X}", length_start, _path(path, tag)
                )
            if pos + width > end:
                raise TlvProblem(
                    "length runs past the end of the data", length_start, _path(path, tag)
                )
            length = int.from_bytes(data[pos : pos + width], "big")
            pos += width
        if pos + length > end:
            raise TlvProblem(
                f"value of {length} bytes runs past the end ({end - pos} left)",
                length_start,
                _path(path, tag),
            )
        if first & 0x20:
            if depth >= MAX_DEPTH:
                raise TlvProblem(
                    f"constructed tags nested deeper than {MAX_DEPTH} levels",
                    tag_start,
                    _path(path, tag),
                )
            value: TlvValue = parse_tlv(data, pos, pos + length, _path(path, tag), depth + 1)
        else:
            value = data[pos : pos + length]
        append(_parsed_tlv(tag, value, data[length_start:pos], padding))
        pos += length
    return _parsed_icc(tuple(items), 0)


def _path(path: str, tag: str) -> str:
    return f"{path}.{tag}" if path else tag


def _tag_problem(tag: object) -> str:
    if not isinstance(tag, str) or not tag or len(tag) % 2:
        return "must be a non-empty, even-length hex string"
    if tag != tag.upper():
        return "must be uppercase hex"
    try:
        raw = bytes.fromhex(tag)
    except ValueError:
        return "not hex"
    if raw[0] & 0x1F != 0x1F:
        return "" if len(raw) == 1 else "a one-byte tag (low bits not 1F) cannot continue"
    if len(raw) == 1:
        return "tag continues (low bits 1F) but has no second byte"
    if any(not byte & 0x80 for byte in raw[1:-1]) or raw[-1] & 0x80:
        return "subsequent tag bytes must have bit 8 set except the last"
    return ""


def _encode_length(length: int) -> bytes:
    if length < 0x80:
        return bytes((length,))
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def _read_length_bytes(encoding: bytes) -> int:
    if not encoding:
        return -1
    if encoding[0] & 0x80:
        body = encoding[1:]
        return int.from_bytes(body, "big") if len(body) == encoding[0] & 0x7F else -1
    return encoding[0] if len(encoding) == 1 else -1
