"""Card data out of what ``terminal decode`` and ``encode`` print, unless ``--reveal``.

The README promises that no full PAN, track or PIN block is printed by any
command. A decoded message shows field 2 as first 6 + last 4, tracks (35, 36,
45) with the card number masked and the rest replaced, the PIN block (52) and
the chip's card-number tags (55: 57, 5A) masked the same way. ``encode`` takes
such masked values back (a ``*`` becomes ``0``), so what ``decode`` prints can
be edited and re-encoded as a test message.

A decode error's hex window would show the bytes around the fault, card number
and all; here the window is drawn from a copy with every long digit run (BCD or
ASCII), every card field decoded before the fault and a PIN block that may follow
hidden, and with only the faulty byte shown when the fault is inside a card field.
This lives in the presentation layer: the codec's errors carry the facts (field,
offset, decoded fields), the command decides what a person may see.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from terminal.card_data import card_number_spans, mask_pan
from terminal.errors import ProtocolError

__all__ = [
    "CARD_FIELDS",
    "CARD_TAGS",
    "accept_masked",
    "describe_error",
    "mask_message_json",
    "scrub_digits",
]

#: Fields that carry card data: PAN, track 2, track 3, track 1, PIN block, ICC data.
CARD_FIELDS = (2, 35, 36, 45, 52, 55)
#: Chip tags that carry the card number (track 2 equivalent, PAN).
CARD_TAGS = frozenset({"57", "5A"})

_HIDDEN = "**"
_RADIUS = 8
_LONG_DIGITS = re.compile(r"(?<![0-9])[0-9]{13,}(?![0-9])")
_DIGIT = re.compile(r"\d")
_BCD_RUN = re.compile(r"[0-9]{13,}")
_ASCII_RUN = re.compile(rb"[0-9]{13,}")
_FIELD_NUMBER = re.compile(r"^(\d+)")


# -- the JSON shape -------------------------------------------------------------


def mask_message_json(shown: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``message_to_json``'s output with the card data masked."""
    fields = dict(shown.get("fields", {}))
    for number in CARD_FIELDS:
        key = str(number)
        if key in fields:
            fields[key] = _mask_field(number, fields[key])
    return {**shown, "fields": fields}


def accept_masked(obj: Any) -> Any:
    """A copy of a JSON message in which masked card values (``*``) read as ``0`` digits.

    Anything that is not a message object is returned as it is, for the codec
    to refuse with its own words.
    """
    if not isinstance(obj, dict) or not isinstance(obj.get("fields"), dict):
        return obj
    fields = dict(obj["fields"])
    for number in (2, 35, 36, 52):
        value = fields.get(str(number))
        if isinstance(value, str):
            fields[str(number)] = value.replace("*", "0")
    if isinstance(fields.get("55"), dict):
        fields["55"] = _unmask_tags(fields["55"])
    return {**obj, "fields": fields}


def _mask_field(number: int, value: Any) -> Any:
    if number == 55 and isinstance(value, dict):
        return _mask_tags(value)
    if not isinstance(value, str):
        return value
    if number == 2:
        return _mask_number(value)
    if number == 52:  # hex, colons between bytes: every digit hidden, the colons kept
        return re.sub(r"[0-9A-Fa-f]", "*", value)
    return _mask_track(value)


def _mask_tags(tags: Mapping[str, Any]) -> dict[str, Any]:
    masked: dict[str, Any] = {}
    for tag, value in tags.items():
        if isinstance(value, dict):
            masked[tag] = _mask_tags(value)
        elif str(tag).upper() in CARD_TAGS and isinstance(value, str):
            masked[tag] = _mask_track(value)
        else:
            masked[tag] = value
    return masked


def _unmask_tags(tags: Mapping[str, Any]) -> dict[str, Any]:
    return {
        tag: _unmask_tags(value) if isinstance(value, dict)
        else value.replace("*", "0") if str(tag).upper() in CARD_TAGS and isinstance(value, str)
        else value
        for tag, value in tags.items()
    }


def _mask_number(digits: str) -> str:
    return mask_pan(digits) if len(digits) >= 13 else "*" * len(digits)


def _mask_track(text: str) -> str:
    """The card number at the front masked (first 6 + last 4), everything after it ``*``."""
    match = re.match(r"([^0-9]*)([0-9]+)(.*)", text, flags=re.S)
    if match is None:
        return "*" * len(text)
    lead, number, rest = match.groups()
    return lead + _mask_number(number) + "*" * len(rest)


# -- error texts ----------------------------------------------------------------


def scrub_digits(text: str) -> str:
    """Every run of 13 or more digits in ``text`` masked like a card number, and every
    card number typed in groups (``6222 0200 ...``: :func:`card_number_spans`)."""
    text = _LONG_DIGITS.sub(lambda m: mask_pan(m.group()), text)
    for start, end in reversed(card_number_spans(text)):
        text = text[:start] + mask_pan("".join(_DIGIT.findall(text[start:end]))) + text[end:]
    return text


def describe_error(
    error: ProtocolError,
    data: bytes | None = None,
    *,
    envelope_size: int | None = None,
    reveal: bool = False,
) -> str:
    """``error`` as one line: kind, where (once), why, the bytes there, what was decoded.

    ``data`` is the input the error's offset counts in; with ``reveal`` false
    the window and the reason carry no card data (see the module docstring).
    ``envelope_size`` (bytes before the bitmap) lets the bitmap say which card
    fields follow the fault.
    """
    where = []
    if error.field is not None:
        where.append(f"field {error.field}")
    if error.offset is not None:
        where.append(f"byte offset {error.offset}")
    reason = error.reason if reveal else scrub_digits(error.reason)
    text = f"{type(error).__name__}: {', '.join(where) + ': ' if where else ''}{reason}"
    if data is not None:
        window = (
            error.window if reveal and error.window
            else _window(data, error, envelope_size)
        )
        if window:
            text += f" [{window}]"
    elif error.window and reveal:  # without the input, the window cannot be masked
        text += f" [{error.window}]"
    if error.decoded:
        text += f" (decoded so far: {', '.join(str(k) for k in error.decoded)})"
    return text


def _window(data: bytes, error: ProtocolError, envelope_size: int | None) -> str:
    offset = error.offset
    if offset is None:
        start, end, at = 0, min(len(data), 2 * _RADIUS), None
    else:
        start, end, at = max(0, offset - _RADIUS), min(len(data), offset + 1 + _RADIUS), offset
    hidden = _hidden_bytes(data, error, envelope_size)
    tokens = []
    for index in range(start, end):
        token = _HIDDEN if index in hidden and index != at else f"{data[index]:02x}"
        tokens.append(f">{token}<" if index == at else token)
    if at is not None and at >= len(data):
        tokens.append("><(end)")
    prefix = "… " if start > 0 else ""
    suffix = " …" if end < len(data) else ""
    return prefix + " ".join(tokens) + suffix


def _hidden_bytes(data: bytes, error: ProtocolError, envelope_size: int | None) -> set[int]:
    hidden: set[int] = set()
    for match in _BCD_RUN.finditer(data.hex()):  # digits as BCD nibbles
        hidden.update(_middle(match.start() // 2, (match.end() + 1) // 2))
    for match in _ASCII_RUN.finditer(data):  # digits as ASCII characters
        hidden.update(_middle(match.start(), match.end()))
    for number, value in error.decoded.items():
        if _number(number) in CARD_FIELDS:
            for pattern in _encodings(value):
                for begin in _find_all(data, pattern):
                    hidden.update(range(begin, begin + len(pattern)))
    failing = _number(error.field)
    offset = error.offset if error.offset is not None else 0
    if failing in CARD_FIELDS:
        hidden.update(range(len(data)))  # only the faulty byte itself is shown
    elif _pin_block_may_follow(data, error, failing, envelope_size):
        hidden.update(range(offset + 1, len(data)))
    return hidden


def _middle(begin: int, end: int) -> range:
    """Bytes of a digit run to hide: all but roughly the first 6 and last 4 digits."""
    return range(begin + 3, max(begin + 3, end - 2))


def _pin_block_may_follow(
    data: bytes, error: ProtocolError, failing: int | None, envelope_size: int | None
) -> bool:
    if 52 in {_number(n) for n in error.decoded} or (failing is not None and failing > 52):
        return False
    present = _bitmap_fields(data, envelope_size)
    return present is None or 52 in present


def _bitmap_fields(data: bytes, envelope_size: int | None) -> set[int] | None:
    """Field numbers the (binary) bitmap announces, or None when it cannot be read."""
    if envelope_size is None or len(data) < envelope_size + 8:
        return None
    size = 16 if data[envelope_size] & 0x80 else 8
    bitmap = data[envelope_size : envelope_size + size]
    if len(bitmap) < size:
        return None
    bits = int.from_bytes(bitmap, "big")
    return {n for n in range(1, size * 8 + 1) if bits >> (size * 8 - n) & 1}


def _number(field: Any) -> int | None:
    if isinstance(field, int):
        return field
    match = _FIELD_NUMBER.match(str(field)) if field is not None else None
    return int(match.group(1)) if match else None


def _encodings(value: Any) -> Iterable[bytes]:
    """The ways a decoded card value may stand in the input: raw, BCD, ASCII."""
    if isinstance(value, bytes | bytearray):
        if value:
            yield bytes(value)
        return
    to_bytes = getattr(value, "to_bytes", None)
    if callable(to_bytes) and not isinstance(value, int):
        with contextlib.suppress(TypeError, ValueError):
            yield bytes(to_bytes())
        return
    if not isinstance(value, str) or not value:
        return
    yield value.encode("ascii", "replace")
    nibbles = value.upper().replace("=", "D")
    if re.fullmatch(r"[0-9D]+", nibbles):
        for padded in (nibbles + "F" * (len(nibbles) % 2), "0" * (len(nibbles) % 2) + nibbles,
                       nibbles + "0" * (len(nibbles) % 2)):
            yield bytes.fromhex(padded)


def _find_all(data: bytes, pattern: bytes) -> Iterable[int]:
    begin = data.find(pattern)
    while begin >= 0:
        yield begin
        begin = data.find(pattern, begin + 1)
