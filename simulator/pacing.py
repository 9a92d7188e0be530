"""A serial line's speed on the simulator's byte path: bytes take 10 bit times each.

A pty or a socket moves bytes as fast as the kernel can; a real terminal's cable
at 9600 baud takes about 1 ms a byte (start bit, 8 data bits, stop bit). Like the
fault injector, :class:`PacedLine` is a :class:`~terminal.devices.SimulatedDevice`
wrapped around the real one: what the POS wrote reaches the device when its last
byte would have arrived, and what the device sends is released byte by byte at
the line's pace. The benchmark of the link (``benchmarks/link.py``) measures a
sale against that floor.

The bytes towards the POS are handed over in batches of at least ``handover``
seconds' worth (a millisecond by default, like a UART's FIFO or a USB
adapter's frame), and the last byte the device has sent the moment it is in.
Without batches the serve loop would wake every byte time (87 µs at 115200
baud, a busy core); without the exact last byte every frame would end up to a
batch late. So the end of a frame, which is what the POS waits for, keeps the
line's time to the microsecond, and the loop wakes about once a millisecond.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

from terminal.clock import Clock, MonotonicClock
from terminal.devices import SimulatedDevice

__all__ = ["BITS_PER_BYTE", "PacedLine"]

#: 8N1: a start bit, 8 data bits, a stop bit.
BITS_PER_BYTE = 10


class PacedLine:
    """``device`` behind a line of ``baudrate`` bits per second, both ways."""

    def __init__(
        self,
        device: SimulatedDevice,
        baudrate: int,
        *,
        clock: Clock | None = None,
        handover: float = 0.001,
    ):
        if baudrate <= 0:
            raise ValueError("baudrate must be positive")
        if not handover >= 0:
            raise ValueError("handover must be seconds >= 0")
        self.device = device
        self.baudrate = baudrate
        self.clock: Clock = clock or getattr(device, "clock", None) or MonotonicClock()
        self.byte_time = BITS_PER_BYTE / baudrate
        #: Bytes handed to the POS at once, unless they are the last ones sent.
        self.batch = max(1, math.ceil(handover / self.byte_time - 1e-9))
        self._inbound: deque[tuple[float, bytes]] = deque()  # (all bytes in by, data)
        self._in_free = 0.0  # when the line towards the device is free again
        self._outbound = bytearray()
        self._out_from = 0.0  # when the first byte of _outbound started on the line

    def feed(self, data: bytes, at: float | None = None) -> None:
        at = self.clock.now() if at is None else at
        start = max(at, self._in_free)
        self._in_free = start + len(data) * self.byte_time
        self._inbound.append((self._in_free, bytes(data)))
        self._deliver()

    def poll(self) -> None:
        self._deliver()
        self.device.poll()

    def read_output(self) -> bytes:
        now = self.clock.now()
        new = self.device.read_output()
        if new:
            if not self._outbound:
                self._out_from = max(now, self._out_from)
            self._outbound += new
        if not self._outbound:
            return b""
        sent = min(len(self._outbound), int((now - self._out_from) / self.byte_time + 1e-9))
        if sent <= 0:
            return b""
        out = bytes(self._outbound[:sent])
        del self._outbound[:sent]
        self._out_from += sent * self.byte_time
        return out

    def next_deadline(self) -> float | None:
        candidates = [self.device.next_deadline()]
        if self._inbound:
            candidates.append(self._inbound[0][0])
        if self._outbound:
            # The next batch, or the last byte sent, whichever comes first.
            batch = min(self.batch, len(self._outbound))
            candidates.append(self._out_from + batch * self.byte_time)
        present = [c for c in candidates if c is not None]
        return min(present) if present else None

    def disconnected(self) -> None:
        self._inbound.clear()
        self._outbound.clear()
        notify = getattr(self.device, "disconnected", None)
        if callable(notify):
            notify()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__["device"], name)

    def _deliver(self) -> None:
        now = self.clock.now()
        while self._inbound and self._inbound[0][0] <= now:
            due, data = self._inbound.popleft()
            self.device.feed(data, due)
