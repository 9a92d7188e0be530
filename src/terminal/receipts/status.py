"""A printer's health from the printer itself: ``DLE EOT 1`` to ``4``, decoded in full.

Each request is answered with one byte whose bits 1 and 4 are always set and
bits 0 and 7 always clear (``0b0xx1xx10``): that is how a status byte is told
from stray data. What the bits mean (Epson ESC/POS, followed by the Chinese
thermal printers of POS shops):

====  =====================================================================
n=1   bit 2 drawer pin 3 high, bit 3 offline, bit 5 waiting for online
      recovery, bit 6 feed button pressed
n=2   bit 2 cover open, bit 3 paper being fed by the button, bit 5 printing
      stopped by paper end, bit 6 an error occurred
n=3   bit 2 mark-detection error (black-mark paper models), bit 3 autocutter
      error, bit 5 unrecoverable error, bit 6 auto-recoverable error
      (head overheated, cover opened while printing)
n=4   bits 2/3 paper near end (either near-end sensor), bits 5/6 paper end
====  =====================================================================

**No reply is its own state, "unknown"**: never "ready" (python-escpos 3.1's
``paper_status()`` answers 2, "paper adequate", to silence) and never "paper
out" (its later versions). A printer that answers some requests and not
others, or answers with a byte that is not a status byte, is unknown too.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

__all__ = [
    "PrinterState",
    "PrinterStatus",
    "StatusBits",
    "decode_status",
    "query_status",
]

_FIXED_MASK, _FIXED_VALUE = 0x93, 0x12


class PrinterState(enum.Enum):
    """One word for what a cashier must do, most urgent first."""

    READY = "ready"
    PAPER_NEAR_END = "paper-near-end"  # prints; change the roll soon
    PAPER_OUT = "paper-out"
    COVER_OPEN = "cover-open"
    OFFLINE = "offline"
    ERROR = "error"
    UNKNOWN = "unknown"

    @property
    def can_print(self) -> bool:
        return self in (PrinterState.READY, PrinterState.PAPER_NEAR_END)


@dataclass(frozen=True, slots=True)
class StatusBits:
    """Every bit the four replies carry."""

    drawer_pin_high: bool = False
    offline: bool = False
    waiting_for_recovery: bool = False
    feed_button_pressed: bool = False
    cover_open: bool = False
    feeding_by_button: bool = False
    stopped_by_paper_end: bool = False
    error: bool = False
    mark_detection_error: bool = False
    cutter_error: bool = False
    unrecoverable_error: bool = False
    auto_recoverable_error: bool = False
    paper_near_end: bool = False
    paper_end: bool = False


@dataclass(frozen=True, slots=True)
class PrinterStatus:
    """The decoded replies: ``state``, the bits, the raw bytes (None: no reply)."""

    state: PrinterState
    bits: StatusBits | None
    replies: tuple[int | None, int | None, int | None, int | None]
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "state": self.state.value,
            "bits": asdict(self.bits) if self.bits else None,
            "replies": [None if r is None else f"0x{r:02X}" for r in self.replies],
            "reason": self.reason,
        }


def decode_status(replies: tuple[int | None, int | None, int | None, int | None]
                  ) -> PrinterStatus:
    """The state the four ``DLE EOT`` replies (n = 1..4, None = no reply) add up to."""
    missing = [str(n) for n, r in enumerate(replies, 1) if r is None]
    if missing:
        return PrinterStatus(PrinterState.UNKNOWN, None, replies,
                             f"no reply to DLE EOT {', '.join(missing)}")
    bad = [f"{n}: 0x{r:02X}" for n, r in enumerate(replies, 1)
           if r is not None and r & _FIXED_MASK != _FIXED_VALUE]
    if bad:
        return PrinterStatus(PrinterState.UNKNOWN, None, replies,
                             f"not a status byte (DLE EOT {'; '.join(bad)})")
    one, two, three, four = (r or 0 for r in replies)
    bits = StatusBits(
        drawer_pin_high=bool(one & 0x04),
        offline=bool(one & 0x08),
        waiting_for_recovery=bool(one & 0x20),
        feed_button_pressed=bool(one & 0x40),
        cover_open=bool(two & 0x04),
        feeding_by_button=bool(two & 0x08),
        stopped_by_paper_end=bool(two & 0x20),
        error=bool(two & 0x40),
        mark_detection_error=bool(three & 0x04),
        cutter_error=bool(three & 0x08),
        unrecoverable_error=bool(three & 0x20),
        auto_recoverable_error=bool(three & 0x40),
        paper_near_end=bool(four & 0x0C),
        paper_end=bool(four & 0x60),
    )
    return PrinterStatus(_state(bits), bits, replies)


def _state(bits: StatusBits) -> PrinterState:
    if (bits.error or bits.cutter_error or bits.unrecoverable_error
            or bits.auto_recoverable_error or bits.mark_detection_error):
        return PrinterState.ERROR
    if bits.cover_open:
        return PrinterState.COVER_OPEN
    if bits.paper_end or bits.stopped_by_paper_end:
        return PrinterState.PAPER_OUT
    if bits.offline or bits.waiting_for_recovery:
        return PrinterState.OFFLINE
    if bits.paper_near_end:
        return PrinterState.PAPER_NEAR_END
    return PrinterState.READY


def query_status(
    send: Callable[[bytes], None],
    receive: Callable[[], bytes],
    *,
    timeout: float = 1.0,
    clock: Callable[[], float] = time.monotonic,
) -> PrinterStatus:
    """Ask ``DLE EOT 1..4`` through ``send`` and read each reply with ``receive``.

    ``receive`` returns what has arrived (``b""`` for nothing yet, as a pyserial or
    socket read with a short timeout does); each request waits at most
    ``timeout`` seconds. Bytes before the reply (late answers to an earlier
    request) are passed over: the last byte of what arrived is the reply.
    """
    replies: list[int | None] = []
    for n in (1, 2, 3, 4):
        send(bytes([0x10, 0x04, n]))
        deadline = clock() + timeout
        got = b""
        while not got and clock() < deadline:
            try:
                got = receive()
            except (OSError, TimeoutError):
                got = b""
        replies.append(got[-1] if got else None)
    return decode_status((replies[0], replies[1], replies[2], replies[3]))
