"""An in-memory serial port for link tests: a scripted peer on a fake clock.

``read()`` returns queued bytes one queued chunk at a time (so a test decides
exactly what one read returns); with nothing due it advances the FakeClock by
``port.timeout``, as a real read would block that long, and returns ``b""``.
Nothing here sleeps.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable

from terminal.clock import FakeClock
from terminal.link import STX

Responder = Callable[[bytes], Iterable[bytes]]


class FakePort:
    """A pyserial-like port whose far end is a script."""

    def __init__(self, clock: FakeClock, responder: Responder | None = None) -> None:
        self.clock = clock
        self.timeout: float | None = None
        self.responder = responder
        self.writes: list[tuple[float, bytes]] = []
        self.reads: list[tuple[float, float | None]] = []  # (time, timeout) of each read
        self.closed = False
        self._incoming: deque[tuple[float, bytearray]] = deque()

    # -- the test's side -------------------------------------------------------

    def queue(self, data: bytes, at: float | None = None) -> None:
        """Make ``data`` one read's worth of bytes, due at clock time ``at`` (now if None)."""
        due = self.clock.now() if at is None else at
        # Keep the queue in time order (stable for equal times), as a wire would.
        position = len(self._incoming)
        while position > 0 and self._incoming[position - 1][0] > due:
            position -= 1
        self._incoming.insert(position, (due, bytearray(data)))

    @property
    def written(self) -> bytes:
        return b"".join(data for _, data in self.writes)

    def frame_writes(self) -> list[tuple[float, bytes]]:
        """The writes that carried a frame (not a lone ACK/NAK), with their times."""
        return [(t, data) for t, data in self.writes if data[:1] == bytes([STX])]

    # -- the link's side (pyserial API) -------------------------------------------

    @property
    def in_waiting(self) -> int:
        now = self.clock.now()
        return sum(len(data) for due, data in self._incoming if due <= now)

    def read(self, size: int = 1) -> bytes:
        self.reads.append((self.clock.now(), self.timeout))
        if self._incoming:
            wait = self._incoming[0][0] - self.clock.now()
            if wait <= 0 or (self.timeout is not None and wait <= self.timeout):
                if wait > 0:
                    self.clock.advance(wait)
                return self._take(size)
        if self.timeout is None:
            raise AssertionError("read() with timeout=None and nothing queued would block forever")
        self.clock.advance(self.timeout)
        return b""

    def write(self, data: bytes) -> int:
        data = bytes(data)
        self.writes.append((self.clock.now(), data))
        if self.responder is not None:
            for reply in self.responder(data):
                if reply:
                    self.queue(reply)
        return len(data)

    def close(self) -> None:
        self.closed = True

    def _take(self, size: int) -> bytes:
        data = self._incoming[0][1]
        out = bytes(data[:size])
        del data[:size]
        if not data:
            self._incoming.popleft()
        return out


def reply_to_frames(*replies: bytes) -> Responder:
    """A peer answering each frame written with the next of ``replies`` (b"" = silence).

    Lone ACK/NAK writes get no answer; frames beyond the script get silence.
    """
    script = deque(replies)

    def respond(data: bytes) -> Iterable[bytes]:
        if data[:1] == bytes([STX]) and script:
            return [script.popleft()]
        return []

    return respond
