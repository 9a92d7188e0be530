"""A message crosses a real pseudo-terminal: SerialLink (pyserial) on one side,
a LinkEndpoint pumped over the raw master fd on the other, on the real clock."""

from __future__ import annotations

import os
import select
import threading
import tty
from collections import deque
from collections.abc import Iterator

import pytest
import serial

from terminal.clock import MonotonicClock
from terminal.link import LinkEndpoint, LinkTimers, SendState, SerialLink

pytestmark = pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pty")

TIMERS = LinkTimers(ack_timeout=0.5, inter_byte_timeout=0.2, response_timeout=5.0)


class EchoTerminal:
    """The far side: answers every message with ``b"re:" + message`` over the master fd."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.endpoint = LinkEndpoint(TIMERS, MonotonicClock())
        self.received: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pty-terminal", daemon=True)

    def __enter__(self) -> EchoTerminal:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        assert not self._thread.is_alive()

    def _run(self) -> None:
        endpoint, replies = self.endpoint, deque[bytes]()
        while not self._stop.is_set():
            ready, _, _ = select.select([self.fd], [], [], 0.01)
            if ready:
                endpoint.feed(os.read(self.fd, 4096))
            endpoint.poll()
            while (message := endpoint.pop_message()) is not None:
                self.received.append(message)
                replies.append(b"re:" + message)
            if replies and endpoint.send_state is not SendState.WAITING_ACK:
                endpoint.send(replies.popleft())
            out = endpoint.data_to_write()
            if out:
                os.write(self.fd, out)


@pytest.fixture
def pty_pair() -> Iterator[tuple[int, str]]:
    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    name = os.ttyname(slave)
    try:
        yield master, name
    finally:
        os.close(slave)
        os.close(master)


def test_message_and_response_cross_a_real_pty(pty_pair: tuple[int, str]) -> None:
    master, name = pty_pair
    port = serial.Serial(name, baudrate=9600, timeout=0)
    big = bytes(range(256)) * 4  # every byte value, including STX/ETX/ACK/NAK inside DATA
    with EchoTerminal(master) as terminal, SerialLink(port, TIMERS, MonotonicClock()) as link:
        assert link.exchange(b"\x60\x00\x03\x00\x00hello") == b"re:\x60\x00\x03\x00\x00hello"
        assert link.exchange(big) == b"re:" + big
    assert not port.is_open
    assert terminal.received == [b"\x60\x00\x03\x00\x00hello", big]
    assert link.endpoint.stats.resends == 0
    assert terminal.endpoint.stats.bad_frames == 0
