"""A stand-in device for transport tests: the plumbing without the terminal's behaviour."""

from __future__ import annotations

from terminal.clock import Clock, MonotonicClock


class EchoDevice:
    """A stand-in device: sends back every chunk it is fed, ``delay`` seconds of its clock later.

    It proves the plumbing (timeouts, deadlines, raw bytes) without depending on
    what the real terminal answers.
    """

    def __init__(self, clock: Clock | None = None, delay: float = 0.0) -> None:
        self.clock = clock or MonotonicClock()
        self.delay = delay
        self.fed: list[bytes] = []
        self.polls = 0
        self._due: list[tuple[float, bytes]] = []
        self._out = bytearray()

    def feed(self, data: bytes, at: float | None = None) -> None:
        self.fed.append(data)
        self._due.append((self.clock.now() + self.delay, data))

    def poll(self) -> None:
        self.polls += 1
        now = self.clock.now()
        ready = [chunk for due, chunk in self._due if due <= now]
        self._due = [(due, chunk) for due, chunk in self._due if due > now]
        for chunk in ready:
            self._out += chunk

    def read_output(self) -> bytes:
        out, self._out = bytes(self._out), bytearray()
        return out

    def next_deadline(self) -> float | None:
        return min((due for due, _ in self._due), default=None)

    def say(self, data: bytes) -> None:
        """Make the device send ``data`` unprompted, now."""
        self._out += data
