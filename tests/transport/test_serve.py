"""The pty and TCP serve loops, proven with a stand-in echo device."""

from __future__ import annotations

import contextlib
import os
import select
import socket
import termios
import threading
import time

import pytest
import serial
from transport_fakes import EchoDevice

from simulator.serve import (
    _STUCK_WAIT,
    STOP_CHECK,
    PtySimulator,
    TcpSimulator,
    _Waits,
    make_raw,
    serve_pty,
)
from terminal.clock import FakeClock

# Bytes a cooked tty would eat or change: CR, LF, ETX (^C), XON, XOFF, DEL, EOT (^D),
# NUL, 0xFF, ^Z, ^\ and STX/ACK/NAK as they occur in every CUP frame.
AWKWARD = bytes([0x0D, 0x0A, 0x03, 0x11, 0x13, 0x7F, 0x04, 0x00, 0xFF, 0x1A, 0x1C,
                 0x02, 0x06, 0x15, 0x0D, 0x0D, 0x0A])


def _read_exactly(fd: int, size: int, timeout: float) -> bytes:
    data = b""
    end = time.monotonic() + timeout
    while len(data) < size:
        left = end - time.monotonic()
        if left <= 0:
            break
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            data += os.read(fd, size - len(data))
    return data


def _quiet_for(fd: int, seconds: float) -> bool:
    ready, _, _ = select.select([fd], [], [], seconds)
    return not ready


def test_pty_slave_is_raw_so_control_bytes_cross_unchanged_both_ways():
    device = EchoDevice()
    with PtySimulator(device) as sim:
        # os.open, not pyserial: pyserial would make the tty raw itself and hide a
        # cooked slave. A POS program that opens the path plainly must work too.
        fd = os.open(sim.path, os.O_RDWR | os.O_NOCTTY)
        try:
            os.write(fd, AWKWARD)
            assert _read_exactly(fd, len(AWKWARD), 3.0) == AWKWARD
            assert _quiet_for(fd, 0.2), "the tty echoed or added bytes"
        finally:
            os.close(fd)
    assert b"".join(device.fed) == AWKWARD


def test_pty_slave_has_raw_attributes_before_anyone_opens_it():
    seen: list[list] = []

    def on_ready(path: str) -> None:
        fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        try:
            seen.append(termios.tcgetattr(fd))
        finally:
            os.close(fd)
        stop.set()

    stop = threading.Event()
    serve_pty(EchoDevice(), stop=stop, on_ready=on_ready)
    iflag, oflag, _, lflag = seen[0][:4]
    assert not lflag & (termios.ECHO | termios.ICANON | termios.ISIG | termios.IEXTEN)
    assert not iflag & (termios.ICRNL | termios.INLCR | termios.IGNCR | termios.IXON)
    assert not oflag & termios.OPOST


def test_make_raw_turns_a_cooked_tty_raw():
    master, slave = os.openpty()
    try:
        make_raw(slave)
        lflag = termios.tcgetattr(slave)[3]
        assert not lflag & termios.ECHO
    finally:
        os.close(master)
        os.close(slave)


def test_pty_can_be_reopened_by_a_second_pos_process():
    device = EchoDevice()
    with PtySimulator(device) as sim:
        for payload in (b"first\r\n", b"second\x03"):
            with serial.serial_for_url(sim.path, baudrate=9600, timeout=2.0) as port:
                port.write(payload)
                assert port.read(len(payload)) == payload


def test_pty_device_answers_at_its_deadline():
    device = EchoDevice(delay=0.3)
    with PtySimulator(device) as sim, serial.serial_for_url(sim.path, timeout=2.0) as port:
        started = time.monotonic()
        port.write(b"late")
        assert port.read(4) == b"late"
        assert 0.25 < time.monotonic() - started < 1.5


def test_tcp_serves_a_socket_url_on_an_ephemeral_port():
    device = EchoDevice()
    with TcpSimulator(device, port=0) as sim:
        assert sim.url.startswith("socket://127.0.0.1:")
        assert not sim.url.endswith(":0")
        with serial.serial_for_url(sim.url, timeout=2.0) as port:
            port.write(AWKWARD)
            assert port.read(len(AWKWARD)) == AWKWARD


def test_a_new_tcp_connection_replaces_the_current_one_like_a_replugged_cable():
    device = EchoDevice()
    with TcpSimulator(device) as sim:
        host, port_number = sim.url.removeprefix("socket://").rsplit(":", 1)
        first = socket.create_connection((host, int(port_number)), timeout=2.0)
        try:
            first.sendall(b"one")
            assert first.recv(16) == b"one"
            second = socket.create_connection((host, int(port_number)), timeout=2.0)
            try:
                # Served at once, without the first client closing.
                second.sendall(b"two")
                assert second.recv(16) == b"two"
                # The replaced client was disconnected and its bytes reach nobody.
                assert first.recv(16) == b""
                with contextlib.suppress(OSError):
                    first.sendall(b"stale")
                second.sendall(b"three")
                assert second.recv(16) == b"three"
            finally:
                second.close()
        finally:
            first.close()
    assert b"stale" not in b"".join(device.fed)


def test_stopping_the_context_manager_joins_the_thread_and_closes_the_pty():
    sim = PtySimulator(EchoDevice())
    with sim:
        path = sim.path
        assert any(t.name == "simulator-pty" for t in threading.enumerate())
    assert not any(t.name == "simulator-pty" for t in threading.enumerate())
    assert not os.path.exists(path) or _slave_is_dead(path)


def _slave_is_dead(path: str) -> bool:
    try:
        fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    except OSError:
        return True
    try:
        os.write(fd, b"x")
        ready, _, _ = select.select([fd], [], [], 0.2)
        return not ready or not os.read(fd, 1)
    except OSError:
        return True
    finally:
        os.close(fd)


def test_a_serve_loop_that_cannot_start_is_reported_by_start():
    with socket.create_server(("127.0.0.1", 0)) as taken:
        busy_port = taken.getsockname()[1]
        sim = TcpSimulator(EchoDevice(), port=busy_port)
        with pytest.raises(RuntimeError, match="failed to start"):
            sim.start()


class _Deadlines:
    """A device that only reports deadlines (set by the test) and counts its polls."""

    def __init__(self, deadline: float | None = None) -> None:
        self.deadline = deadline
        self.polls = 0

    def feed(self, data: bytes, at: float | None = None) -> None:
        pass

    def poll(self) -> None:
        self.polls += 1

    def read_output(self) -> bytes:
        return b""

    def next_deadline(self) -> float | None:
        return self.deadline


def test_the_loop_sleeps_until_the_device_deadline_exactly_with_no_millisecond_floor():
    clock = FakeClock(10.0)
    device = _Deadlines(10.0002)  # a paced line's next byte at 115200 baud is 87 µs away
    waits = _Waits(device, clock)
    assert waits.next() == pytest.approx(0.0002)
    device.deadline = 10.0 + 2 * STOP_CHECK
    assert waits.next() == STOP_CHECK  # still looks at ``stop`` in time
    device.deadline = None
    assert waits.next() == STOP_CHECK


def test_a_deadline_already_past_gets_one_immediate_look_then_the_loop_backs_off():
    clock = FakeClock(10.0)
    device = _Deadlines(9.9)
    waits = _Waits(device, clock)
    assert waits.next() == 0.0  # it may have come due just after the device was polled
    assert waits.next() == _STUCK_WAIT  # polled since, still reported: not acted on
    assert waits.next() == _STUCK_WAIT
    device.deadline = 9.95  # a different past deadline is a new one: looked at at once
    assert waits.next() == 0.0
    device.deadline = 10.001
    assert waits.next() == pytest.approx(0.001)


def test_a_device_that_never_acts_on_its_past_deadline_does_not_make_the_pty_loop_spin():
    device = _Deadlines(float("-inf"))
    with PtySimulator(device):
        time.sleep(0.3)
    # One poll per _STUCK_WAIT at most (300 in 0.3 s); a spinning loop polls ~100000 times.
    assert 0 < device.polls < 0.3 / _STUCK_WAIT * 2
