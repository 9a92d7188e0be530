"""The paced line: bytes reach the device and the POS no faster than 10 bit times each."""

from __future__ import annotations

import pytest

from simulator.pacing import BITS_PER_BYTE, PacedLine
from terminal.clock import FakeClock


class Recorder:
    """A device that keeps what it was fed and sends what it is told to."""

    def __init__(self) -> None:
        self.fed: list[tuple[bytes, float | None]] = []
        self.out = b""

    def feed(self, data: bytes, at: float | None = None) -> None:
        self.fed.append((data, at))

    def poll(self) -> None:
        pass

    def read_output(self) -> bytes:
        out, self.out = self.out, b""
        return out

    def next_deadline(self) -> float | None:
        return None


def test_bytes_written_reach_the_device_when_their_last_bit_would_have():
    clock, device = FakeClock(100.0), Recorder()
    line = PacedLine(device, 9600, clock=clock)
    line.feed(b"x" * 96)  # 96 bytes at 9600 baud: 0.1 s on the wire
    assert device.fed == [] and abs(line.next_deadline() - 100.1) < 1e-9
    clock.advance(0.099)
    line.poll()
    assert device.fed == []
    clock.advance(0.002)
    line.poll()
    [(data, at)] = device.fed
    assert data == b"x" * 96 and abs(at - 100.1) < 1e-9  # stamped with its arrival on the line


def test_what_the_device_sends_leaves_byte_by_byte_at_the_line_speed():
    clock, device = FakeClock(0.0), Recorder()
    line = PacedLine(device, 1000, clock=clock)  # 10 ms a byte
    device.out = b"abcdef"
    assert line.read_output() == b""
    clock.advance(0.025)
    assert line.read_output() == b"ab"
    clock.advance(0.040)
    assert line.read_output() == b"cdef"
    assert line.next_deadline() is None


def test_bytes_to_the_pos_go_in_millisecond_batches_and_the_last_one_the_moment_it_is_in():
    clock, device = FakeClock(0.0), Recorder()
    line = PacedLine(device, 115200, clock=clock)  # 86.8 µs a byte: 12 bytes a millisecond
    byte = BITS_PER_BYTE / 115200
    device.out = bytes(range(30))
    assert line.read_output() == b""
    handed: list[bytes] = []
    while (deadline := line.next_deadline()) is not None:
        clock.advance(deadline - clock.now())
        handed.append(line.read_output())
    assert [len(batch) for batch in handed] == [12, 12, 6]
    assert b"".join(handed) == bytes(range(30))
    assert clock.now() == pytest.approx(30 * byte)  # the 30th byte's last bit, not later


def test_a_line_slower_than_the_handover_hands_every_byte_over_as_it_comes():
    clock, device = FakeClock(0.0), Recorder()
    line = PacedLine(device, 9600, clock=clock)  # 1.04 ms a byte
    device.out = b"abc"
    line.read_output()
    assert line.next_deadline() == pytest.approx(BITS_PER_BYTE / 9600)

