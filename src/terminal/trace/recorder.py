"""Record what crosses a port: a wrapper the link reads and writes through.

:class:`TracingPort` stands between :class:`~terminal.link.SerialLink` and any
pyserial-like port and passes every call through unchanged; on the way it cuts
each direction's bytes into link events with its own
:class:`~terminal.link.FrameDecoder` and writes them, timestamped and masked
(:mod:`terminal.trace.mask`), to a :class:`~terminal.trace.file.TraceWriter`.
The link itself knows nothing of it, so tracing cannot change what is sent.

Whether a response's MAC verified can only be judged here, over the clear
bytes and with the host's working keys: once masked, the card data the MAC
covers is gone. The host hands in that judgement as :attr:`TracingPort.mac_check`
(the POS client's own check), and each frame from the terminal that carries a
MAC is written with its verdict, so a replay can keep a MAC fault a fault.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from terminal.clock import Clock, MonotonicClock
from terminal.link import AckReceived, BadFrame, FrameDecoder, FrameReceived, NakReceived
from terminal.trace.file import Direction, TraceRecord, TraceWriter
from terminal.trace.mask import mask_data

__all__ = ["TracingPort"]


class TracingPort:
    """``port`` with every byte read and written recorded in ``writer``."""

    def __init__(
        self, port: Any, writer: TraceWriter, *, dialect: str = "cup", clock: Clock | None = None
    ) -> None:
        self._port = port
        self._writer = writer
        self._dialect = dialect
        self._clock = clock or MonotonicClock()
        self._start = self._clock.now() - writer.offset
        self._decoders: dict[Direction, FrameDecoder] = {"tx": FrameDecoder(), "rx": FrameDecoder()}
        self._noise: dict[Direction, int] = {"tx": 0, "rx": 0}
        #: The DATA (masked) of the last frame seen each way.
        self.last_frames: dict[Direction, bytes] = {}
        #: Judges a frame from the terminal (clear DATA): ``True`` its MAC verifies,
        #: ``False`` it does not, ``None`` it carries none or nobody checks it.
        self.mac_check: Callable[[bytes], bool | None] | None = None

    def retarget(self, writer: TraceWriter) -> None:
        """Record from now on into ``writer`` (the previous one is closed): one file per step."""
        self._writer.close()
        self._writer = writer
        self._start = self._clock.now() - writer.offset

    # The pyserial surface the link uses ------------------------------------------

    @property
    def timeout(self) -> float | None:
        return self._port.timeout

    @timeout.setter
    def timeout(self, value: float | None) -> None:
        self._port.timeout = value

    @property
    def in_waiting(self) -> int:
        return self._port.in_waiting

    def read(self, size: int = 1) -> bytes:
        data = self._port.read(size)
        if data:
            self._record("rx", data)
        return data

    def write(self, data: bytes) -> int | None:
        written = self._port.write(data)
        self._record("tx", bytes(data))
        return written

    def close(self) -> None:
        try:
            self._port.close()
        finally:
            self._writer.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._port, name)

    # -- helpers ---------------------------------------------------------------------

    def _record(self, direction: Direction, data: bytes) -> None:
        now = self._clock.now()
        t = now - self._start
        decoder = self._decoders[direction]
        events = decoder.feed(data, now)
        noise = decoder.noise_bytes + decoder.discarded_bytes
        if noise > self._noise[direction]:
            self._writer.write(
                TraceRecord(t, direction, "noise", detail=str(noise - self._noise[direction]))
            )
            self._noise[direction] = noise
        for event in events:
            if isinstance(event, FrameReceived):
                masked = mask_data(event.data, self._dialect)
                self.last_frames[direction] = masked
                verdict = self._verdict(direction, event.data)
                self._writer.write(TraceRecord(t, direction, "frame", masked, mac=verdict))
            elif isinstance(event, AckReceived):
                self._writer.write(TraceRecord(t, direction, "ack"))
            elif isinstance(event, NakReceived):
                self._writer.write(TraceRecord(t, direction, "nak"))
            elif isinstance(event, BadFrame):
                self._writer.write(TraceRecord(t, direction, "bad", detail=event.reason))

    def _verdict(self, direction: Direction, data: bytes) -> str:
        if direction != "rx" or self.mac_check is None:
            return ""
        verified = self.mac_check(data)
        return "" if verified is None else ("ok" if verified else "bad")
