"""Bring-up of a terminal at the link level: the first things to check on a new cable.

Device tests (see ``tests/conftest.py``): against the embedded simulator by
default, against a real terminal with ``--port /dev/ttyUSB0``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import serial

from terminal.clock import MonotonicClock
from terminal.config import TerminalSettings
from terminal.link import ACK, NAK, LinkTimers, SerialLink, encode_frame
from terminal.protocol import Message, Tpdu, decode, encode

SETTINGS = TerminalSettings()
TIMERS = LinkTimers(response_timeout=10.0)


@pytest.fixture
def port(device_url: str) -> Iterator[serial.SerialBase]:
    opened = serial.serial_for_url(device_url, timeout=0.05)
    try:
        yield opened
    finally:
        opened.close()


def test_echo_crosses_the_link_and_is_answered_0830_with_00(port: serial.SerialBase) -> None:
    request = Message(
        "0820",
        {60: {"message_type": "00", "batch": "000001", "network_code": "301"}},
        tpdu=Tpdu.fromhex(SETTINGS.tpdu),
        header=SETTINGS.header,
    )
    link = SerialLink(port, TIMERS)
    response = decode(link.exchange(encode(request, "cup")), "cup")
    assert (response.mti, response[39]) == ("0830", "00")
    assert link.endpoint.stats.resends == 0


def test_frame_with_a_bad_lrc_is_answered_with_nak(port: serial.SerialBase) -> None:
    frame = bytearray(encode_frame(b"\x60\x00\x03\x00\x00bring-up"))
    frame[-1] ^= 0xFF
    port.reset_input_buffer()
    port.write(bytes(frame))
    clock = MonotonicClock()
    deadline = clock.now() + TIMERS.ack_timeout * 2
    answer = b""
    while not answer and clock.now() < deadline:
        answer = port.read(1)
    assert answer == bytes([NAK]), f"expected NAK, got {answer!r} (ACK is {ACK:#04x})"
