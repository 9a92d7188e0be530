"""Serial-link framing: ``STX | LEN (2 bytes BCD) | DATA | ETX | LRC``.

This module only turns DATA into frame bytes and bytes back into events; it
knows nothing of what DATA means (an ISO 8583 message) nor of the wire that
carries it. :func:`decode_frame` checks one whole frame given at once (the CLI's
``terminal decode --frame``); :class:`FrameDecoder` parses a byte stream that
arrives in arbitrary slices, as a serial port delivers it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from terminal.errors import ProtocolError

__all__ = [
    "ACK",
    "ETX",
    "MAX_DATA_LENGTH",
    "NAK",
    "STX",
    "AckReceived",
    "BadFrame",
    "FrameDecoder",
    "FrameError",
    "FrameReceived",
    "LinkEvent",
    "NakReceived",
    "decode_frame",
    "encode_frame",
    "lrc",
]

STX = 0x02
ETX = 0x03
ACK = 0x06
NAK = 0x15

#: The length field is four BCD digits.
MAX_DATA_LENGTH = 9999


class FrameError(ProtocolError):
    """A frame that breaks the framing rules.

    ``field`` is one of ``"frame.stx"``, ``"frame.length"``, ``"frame.etx"`` or
    ``"frame.lrc"``, and ``offset`` the byte offset in the frame where it broke.
    """


@dataclass(frozen=True, slots=True, repr=False)
class FrameReceived:
    """A complete frame with a good LRC; ``data`` is its DATA part only.

    ``started_at`` is when its STX arrived (the time given to the feed that
    held it): a frame begun before our own frame went out cannot be an answer
    to it. It takes no part in comparisons.
    """

    data: bytes
    started_at: float | None = field(default=None, compare=False)

    def __repr__(self) -> str:
        # DATA carries card data: a repr that lands in a log shows its length only.
        return f"FrameReceived(<{len(self.data)} bytes>)"


@dataclass(frozen=True, slots=True)
class AckReceived:
    """A single ACK byte outside a frame: the peer accepted our last frame."""


@dataclass(frozen=True, slots=True)
class NakReceived:
    """A single NAK byte outside a frame: the peer rejected our last frame."""


@dataclass(frozen=True, slots=True)
class BadFrame:
    """A frame that must be answered with NAK.

    ``field`` says which part was wrong: ``"frame.length"``, ``"frame.etx"``,
    ``"frame.lrc"``, or ``"frame.timeout"`` for a gap between two bytes of one
    frame longer than the inter-byte limit.
    """

    reason: str
    field: str


LinkEvent = FrameReceived | AckReceived | NakReceived | BadFrame


def lrc(data: bytes) -> int:
    """XOR of every byte of ``data`` (0 for no bytes)."""
    value = 0
    for byte in data:
        value ^= byte
    return value


def encode_frame(data: bytes) -> bytes:
    """The frame carrying ``data``; the caller's bytes are not modified.

    Raises :class:`FrameError` (field ``"frame.length"``) when ``data`` is longer
    than the four BCD digits of the length field can count.
    """
    if len(data) > MAX_DATA_LENGTH:
        raise FrameError(
            f"{len(data)} data bytes, at most {MAX_DATA_LENGTH} fit in a frame",
            field="frame.length",
        )
    body = _bcd_length(len(data)) + bytes(data) + bytes([ETX])
    return bytes([STX]) + body + bytes([lrc(body)])


def decode_frame(frame: bytes) -> bytes:
    """The DATA of one whole frame, after checking every framing rule.

    Raises :class:`FrameError` naming the field and byte offset that broke the
    rules. Bytes after the LRC are an error too (field ``"frame.length"``: the
    frame is longer than its length field says), because a caller that hands
    over "one frame" and gets back less than it gave has a problem to know of.
    """
    frame = bytes(frame)
    if not frame:
        raise FrameError("empty input, expected STX 0x02", field="frame.stx", offset=0, data=frame)
    if frame[0] != STX:
        raise FrameError(
            f"expected STX 0x02, got 0x{frame[0]:02x}", field="frame.stx", offset=0, data=frame
        )
    if len(frame) < 3:
        raise FrameError(
            "frame ends inside the length field",
            field="frame.length",
            offset=len(frame),
            data=frame,
        )
    for offset in (1, 2):
        if not _is_bcd(frame[offset]):
            raise FrameError(
                f"length byte 0x{frame[offset]:02x} is not BCD",
                field="frame.length",
                offset=offset,
                data=frame,
            )
    length = _bcd_value(frame[1], frame[2])
    etx_at = 3 + length
    if len(frame) < etx_at:
        raise FrameError(
            f"length field says {length} data bytes, only {len(frame) - 3} present",
            field="frame.length",
            offset=1,
            data=frame,
        )
    if len(frame) == etx_at:
        raise FrameError(
            "frame ends where ETX 0x03 should be", field="frame.etx", offset=etx_at, data=frame
        )
    if frame[etx_at] != ETX:
        raise FrameError(
            f"expected ETX 0x03 after {length} data bytes, got 0x{frame[etx_at]:02x}",
            field="frame.etx",
            offset=etx_at,
            data=frame,
        )
    lrc_at = etx_at + 1
    if len(frame) == lrc_at:
        raise FrameError(
            "frame ends where the LRC should be", field="frame.lrc", offset=lrc_at, data=frame
        )
    expected = lrc(frame[1:lrc_at])
    if frame[lrc_at] != expected:
        raise FrameError(
            f"LRC 0x{frame[lrc_at]:02x}, expected 0x{expected:02x}",
            field="frame.lrc",
            offset=lrc_at,
            data=frame,
        )
    if len(frame) > lrc_at + 1:
        extra = len(frame) - lrc_at - 1
        raise FrameError(
            f"{extra} byte(s) after the LRC: the frame is longer than its length field says",
            field="frame.length",
            offset=lrc_at + 1,
            data=frame,
        )
    return frame[3:etx_at]


class FrameDecoder:
    """Incremental parser for the byte stream of one direction of the link.

    Feed it whatever a read returned, with the time it arrived; it returns the
    events completed by those bytes, in wire order. A frame may be split over
    any number of feeds and one feed may hold several frames and ACK/NAK bytes.

    Resynchronisation, which decides what the next byte means after trouble:

    * outside a frame, bytes other than STX/ACK/NAK are line noise, counted in
      :attr:`noise_bytes` and dropped;
    * after a bad LRC the frame was consumed as its length said, so parsing
      goes straight back to looking for STX/ACK/NAK;
    * after a bad length or a misplaced ETX the length cannot be trusted and the
      rest of the broken frame is still coming: its bytes (which may well look
      like ACK or NAK) are discarded, counted in :attr:`discarded_bytes`, until
      the next STX or until the line has been quiet for the inter-byte limit;
    * a frame whose next byte does not come within ``inter_byte_timeout`` is
      reported once (``BadFrame(..., "frame.timeout")``) and dropped: by then the
      line has been quiet, so the next byte is read afresh.

    Gaps are measured between arrivals, never between reads: a reader that was
    busy elsewhere (writing its books, descheduled on a loaded PC) and comes
    back to a buffer full of a frame's bytes must not call that frame stalled.
    See :meth:`feed` for the times to pass.
    """

    def __init__(self, inter_byte_timeout: float = 0.2) -> None:
        if inter_byte_timeout <= 0:
            raise ValueError("inter_byte_timeout must be positive")
        self.inter_byte_timeout = inter_byte_timeout
        #: Bytes outside any frame that were not STX, ACK or NAK.
        self.noise_bytes = 0
        #: Bytes dropped while skipping the rest of a frame with a broken length.
        self.discarded_bytes = 0
        self._state = _State.HUNT
        self._length_bytes = bytearray()
        self._data = bytearray()
        self._expected = 0
        self._last_byte_at: float | None = None
        self._frame_started_at: float | None = None
        self._arrival: float | None = None  # the ``now`` of the feed in progress

    def feed(self, data: bytes, now: float, *, since: float | None = None) -> list[LinkEvent]:
        """Parse ``data`` that arrived at ``now``; the events it completes, in order.

        ``now`` is the arrival time: exact from a reader that stamps each read as
        it returns, the latest possible from one that only reads when it gets
        round to it. Such a reader passes ``since`` too, the earliest the bytes
        can have arrived (the last time it saw its input empty). A frame in
        progress times out here only when the gap is certain, from the previous
        bytes' latest arrival to these bytes' earliest (``since``, default
        ``now``); a stalled frame is otherwise left to :meth:`check_timeout`.
        """
        events = self.check_timeout(now if since is None else since)
        if not data:
            return events
        self._arrival = now
        view = memoryview(bytes(data))
        i = 0
        while i < len(view):
            state = self._state
            if state is _State.DATA:
                take = min(self._expected - len(self._data), len(view) - i)
                self._data += view[i : i + take]
                i += take
                if len(self._data) == self._expected:
                    self._state = _State.ETX
                continue
            byte = view[i]
            i += 1
            if state is _State.HUNT:
                self._hunt(byte, events)
            elif state is _State.DISCARD:
                if byte == STX:
                    self._start_frame()
                else:
                    self.discarded_bytes += 1
            elif state is _State.LENGTH:
                self._length_byte(byte, events)
            elif state is _State.ETX:
                if byte == ETX:
                    self._state = _State.LRC
                else:
                    events.append(
                        BadFrame(
                            f"expected ETX 0x03 after {self._expected} data bytes, "
                            f"got 0x{byte:02x}",
                            "frame.etx",
                        )
                    )
                    self._state = _State.DISCARD
            else:  # _State.LRC
                body = bytes(self._length_bytes) + bytes(self._data) + bytes([ETX])
                expected = lrc(body)
                if byte == expected:
                    events.append(FrameReceived(bytes(self._data), self._frame_started_at))
                else:
                    events.append(
                        BadFrame(f"LRC 0x{byte:02x}, expected 0x{expected:02x}", "frame.lrc")
                    )
                self._state = _State.HUNT
        self._last_byte_at = now
        return events

    def check_timeout(self, now: float) -> list[LinkEvent]:
        """Report a frame stalled for the inter-byte limit or more, and resync.

        Call it with a time ``now`` up to which every byte that arrived has been
        fed (``feed`` calls it itself); it returns at most one ``BadFrame`` and
        only once per stalled frame.
        """
        if self._last_byte_at is None or now - self._last_byte_at < self.inter_byte_timeout:
            return []
        if self._state is _State.DISCARD:
            # The rest of the broken frame has stopped coming: back to normal.
            self._state = _State.HUNT
            return []
        if self._state in _IN_FRAME:
            gap = now - self._last_byte_at
            self._state = _State.HUNT
            return [
                BadFrame(
                    f"inter-byte timeout: {gap:.3f} s without a byte inside a frame "
                    f"(limit {self.inter_byte_timeout:g} s)",
                    "frame.timeout",
                )
            ]
        return []

    def deadline(self) -> float | None:
        """When a frame in progress times out if no byte comes; None outside a frame."""
        if self._state in _IN_FRAME and self._last_byte_at is not None:
            return self._last_byte_at + self.inter_byte_timeout
        return None

    @property
    def in_frame(self) -> bool:
        """True while part of a frame has been read and the rest is awaited."""
        return self._state in _IN_FRAME

    def reset(self) -> None:
        """Forget any partial frame (e.g. after the port was reopened)."""
        self._state = _State.HUNT
        self._last_byte_at = None

    # -- helpers -----------------------------------------------------------

    def _hunt(self, byte: int, events: list[LinkEvent]) -> None:
        if byte == STX:
            self._start_frame()
        elif byte == ACK:
            events.append(AckReceived())
        elif byte == NAK:
            events.append(NakReceived())
        else:
            self.noise_bytes += 1

    def _start_frame(self) -> None:
        self._frame_started_at = self._arrival
        self._state = _State.LENGTH
        self._length_bytes.clear()
        self._data.clear()
        self._expected = 0

    def _length_byte(self, byte: int, events: list[LinkEvent]) -> None:
        if not _is_bcd(byte):
            events.append(BadFrame(f"length byte 0x{byte:02x} is not BCD", "frame.length"))
            self._state = _State.DISCARD
            return
        self._length_bytes.append(byte)
        if len(self._length_bytes) == 2:
            self._expected = _bcd_value(self._length_bytes[0], self._length_bytes[1])
            self._state = _State.DATA if self._expected else _State.ETX


class _State(enum.Enum):
    HUNT = enum.auto()  # outside a frame
    LENGTH = enum.auto()
    DATA = enum.auto()
    ETX = enum.auto()
    LRC = enum.auto()
    DISCARD = enum.auto()  # skipping the rest of a frame whose length is broken


_IN_FRAME = frozenset({_State.LENGTH, _State.DATA, _State.ETX, _State.LRC})


def _is_bcd(byte: int) -> bool:
    return (byte >> 4) <= 9 and (byte & 0x0F) <= 9


def _bcd_value(high: int, low: int) -> int:
    return (high >> 4) * 1000 + (high & 0x0F) * 100 + (low >> 4) * 10 + (low & 0x0F)


def _bcd_length(length: int) -> bytes:
    digits = f"{length:04d}"
    return bytes.fromhex(digits)
