"""Card data out of a frame's DATA before it is written to a trace file.

A trace must reproduce a field problem on a laptop, so the masked DATA stays a
message the codec reads (lengths, formats and the frame around it unchanged):
digits that are hidden become ``0`` (the card number keeps its first 6 and
last 4), the PIN block becomes zero bytes, and the chip tags that carry the
card number (57 track 2 equivalent, 5A PAN) are masked like field 2. A DATA
that does not decode is scrubbed instead: every run of 13 or more digits, in
BCD or in ASCII, keeps only its first 6 and last 4. Nothing in a trace file
may spell a full card number.
"""

from __future__ import annotations

import re
from typing import Any

from terminal.card_data import luhn_valid
from terminal.errors import ProtocolError
from terminal.protocol import IccData, Message, Tlv, decode, encode

__all__ = ["CARD_FIELDS", "CARD_TAGS", "mask_data", "mask_digits"]

#: Fields that carry card data: PAN, track 2, track 3, track 1, PIN block, ICC data.
CARD_FIELDS = (2, 35, 36, 45, 52, 55)
#: Chip tags that carry the card number.
CARD_TAGS = ("57", "5A")

_KEEP_HEAD, _KEEP_TAIL = 6, 4
_BCD_RUN = re.compile(r"[0-9]{13,}")
_ASCII_RUN = re.compile(rb"[0-9]{13,}")


def mask_data(data: bytes, dialect: str = "cup") -> bytes:
    """``data`` (one message) with its card data hidden; never raises."""
    try:
        message = decode(data, dialect)
        masked = encode(_mask_message(message), dialect)
        if decode(masked, dialect).mti == message.mti:
            return masked
    except (ProtocolError, ValueError, TypeError):
        pass
    return _scrub(data)


def mask_digits(digits: str) -> str:
    """A card number with every digit but the first 6 and last 4 turned to ``0``.

    Shorter numbers keep only their last 4. If the result passes the Luhn check
    (a test card may well have zeros in the middle already, so it could be the
    number itself), its last masked digit becomes ``1``: a masked number then
    never is a valid card number, let alone the one it hides.
    """
    head = _KEEP_HEAD if len(digits) >= 13 else 0
    tail = _KEEP_TAIL if len(digits) > _KEEP_TAIL else 0
    cut = len(digits) - tail
    middle = "0" * (cut - head)
    masked = digits[:head] + middle + digits[cut:]
    if middle and luhn_valid(masked):
        masked = digits[:head] + middle[:-1] + "1" + digits[cut:]
    return masked


# -- helpers -------------------------------------------------------------------


def _mask_message(message: Message) -> Message:
    updates: dict[int, Any] = {}
    for number in CARD_FIELDS:
        if number in message:
            updates[number] = _mask_field(number, message[number])
    return message.with_fields(updates)


def _mask_field(number: int, value: Any) -> Any:
    if number == 52 and isinstance(value, bytes | bytearray):
        return bytes(len(value))
    if number == 55:
        if isinstance(value, IccData):
            return _mask_icc(value)
        if isinstance(value, bytes | bytearray):
            try:
                return _mask_icc(IccData.from_bytes(bytes(value))).to_bytes()
            except ProtocolError:
                return bytes(len(value))
    if isinstance(value, str):
        return _mask_track(value)
    if isinstance(value, bytes | bytearray):
        return bytes(len(value))
    return value


def _mask_track(text: str) -> str:
    """A PAN or a track: the card number masked, every digit after it zeroed."""
    match = re.match(r"[^0-9]*([0-9]+)", text)
    if match is None:
        return re.sub(r"[0-9]", "0", text)
    start, end = match.span(1)
    rest = re.sub(r"[0-9]", "0", text[end:])
    rest = re.sub(r"[A-Za-z]", "X", rest) if not re.fullmatch(r"[=D0-9F]*", rest) else rest
    return text[:start] + mask_digits(text[start:end]) + rest


def _mask_icc(icc: IccData) -> IccData:
    items = []
    for tlv in icc:
        if isinstance(tlv.value, IccData):
            items.append(Tlv(tlv.tag, _mask_icc(tlv.value)))
        elif tlv.tag.upper() in CARD_TAGS:
            text = _mask_track(tlv.value.hex().upper())
            items.append(Tlv(tlv.tag, bytes.fromhex(text.replace("X", "0"))))
        else:
            items.append(tlv)
    return IccData(tuple(items))


def _scrub(data: bytes) -> bytes:
    """Mask every long digit run, as BCD nibbles and as ASCII, of an unreadable DATA."""
    as_hex = _BCD_RUN.sub(lambda m: mask_digits(m.group()), data.hex())
    scrubbed = bytes.fromhex(as_hex)
    return _ASCII_RUN.sub(lambda m: mask_digits(m.group().decode()).encode(), scrubbed)
