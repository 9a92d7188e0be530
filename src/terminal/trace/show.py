"""A trace as a person reads it: one line per link event, frames decoded, card data masked."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from terminal.card_data import mask_pan
from terminal.digest_text import colon_hex
from terminal.errors import ProtocolError
from terminal.protocol import IccData, decode
from terminal.trace.file import TraceFile, TraceRecord

__all__ = ["render_trace"]

_ARROW = {"tx": "POS → terminal", "rx": "terminal → POS"}
_MAC_SAYS = {"ok": ", MAC verified", "bad": ", MAC did NOT verify"}
#: Shown masked even though the file holds them masked already (zeros in the middle).
_PAN_FIELDS = (2, 35, 36, 45)


def render_trace(trace: TraceFile) -> Iterator[str]:
    """The lines of ``trace`` for the console, header first."""
    yield f"trace started {trace.started} on {trace.port or '?'} ({trace.dialect})"
    for record in trace.records:
        yield from _render(record, trace.dialect)


def _render(record: TraceRecord, dialect: str) -> Iterator[str]:
    head = f"{record.t:>9.3f}s  {_ARROW[record.direction]:<15} "
    if record.kind != "frame":
        detail = {
            "ack": "ACK",
            "nak": "NAK",
            "bad": f"bad frame: {record.detail}",
            "noise": f"{record.detail} stray byte(s)",
        }[record.kind]
        yield head + detail
        return
    try:
        message = decode(record.data, dialect)
    except ProtocolError as exc:
        yield head + f"frame, {len(record.data)} bytes, does not decode: {exc.reason}"
        yield f"{'':13}{colon_hex(record.data)}"
        return
    yield head + f"frame {message.mti}, {len(record.data)} bytes" + _MAC_SAYS.get(record.mac, "")
    for number in sorted(message.fields):
        yield f"{'':13}{number:>3}  {_show(number, message[number])}"


def _show(number: int, value: Any) -> str:
    if number in _PAN_FIELDS and isinstance(value, str):
        pan, separator, rest = _split_track(value)
        return mask_pan(pan) + (separator + "*" * len(rest) if separator else "")
    if number == 52:
        return "<PIN block, masked>"
    if isinstance(value, IccData):
        return " ".join(f"{t.tag}={_tlv_text(t)}" for t in value)
    if isinstance(value, bytes | bytearray):
        # Colons between bytes: a MAC (field 64) is ASCII hex, whose hex is all decimal
        # digits, and one run of 16 in ten passes the Luhn check; spaces between bytes
        # do not help, scanners read digit groups split by spaces as one number.
        return colon_hex(bytes(value))
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return str(value)


def _tlv_text(tlv: Any) -> str:
    if isinstance(tlv.value, IccData):
        return "[" + " ".join(f"{t.tag}={_tlv_text(t)}" for t in tlv.value) + "]"
    text = tlv.value.hex().upper()
    if tlv.tag.upper() in ("57", "5A"):
        pan, separator, rest = _split_track(text)
        return mask_pan(pan) + (separator + "*" * len(rest) if separator else "")
    return colon_hex(tlv.value)


def _split_track(text: str) -> tuple[str, str, str]:
    for i, char in enumerate(text):
        if not char.isdigit():
            if i == 0:
                continue
            return text[:i], text[i], text[i + 1 :]
    return text, "", ""
