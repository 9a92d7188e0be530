"""The ``sim://`` handler as pyserial sees it: opening, options, and read timeouts."""

from __future__ import annotations

import threading
import time

import pytest
import serial
from transport_fakes import EchoDevice

from terminal.clock import FakeClock
from terminal.transport import protocol_sim
from terminal.transport.protocol_sim import Serial as SimSerial


def _port(clock: FakeClock, device: EchoDevice, timeout: float | None) -> SimSerial:
    return serial.serial_for_url("sim://", clock=clock, simulator=device, timeout=timeout)


def test_serial_for_url_finds_the_sim_handler():
    port = serial.serial_for_url("sim://", simulator=EchoDevice())
    try:
        assert isinstance(port, SimSerial)
        assert port.is_open
        port.write(b"hello")
        assert port.read(5) == b"hello"
    finally:
        port.close()
    assert not port.is_open


def test_handler_class_opens_directly_without_the_url_registry():
    device = EchoDevice()
    with SimSerial("sim://", simulator=device, timeout=0) as port:
        assert port.simulator is device
        port.write(b"\x02abc")
        assert port.read(10) == b"\x02abc"
    assert not port.is_open


def test_handler_opens_when_the_port_is_set_after_construction():
    port = SimSerial(simulator=EchoDevice())
    assert not port.is_open
    port.port = "sim://"
    port.open()
    try:
        assert port.is_open
        with pytest.raises(serial.SerialException, match="already open"):
            port.open()
    finally:
        port.close()


def test_unknown_url_option_is_refused_with_the_known_ones_listed():
    with pytest.raises(serial.SerialException) as caught:
        serial.serial_for_url("sim://?cards=expired&speed=fast")
    text = str(caught.value)
    assert "cards" in text and "speed" in text
    assert "card, delay, ledger, config" in text


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("sim://?card=a&card=b", "more than once"),
        ("sim://?card=", "needs a value"),
        ("sim://?delay=soon", "delay must be a number"),
        ("sim://?delay=-1", "delay must be a number"),
        ("sim://?delay=nan", "delay must be a number"),
        ("sim://somehost", "no host or path"),
        ("loop://", "expected a URL of the form"),
    ],
)
def test_malformed_sim_urls_are_refused_with_the_reason(url, complaint):
    with pytest.raises(serial.SerialException, match=complaint):
        protocol_sim.parse_sim_url(url)


def test_known_options_are_parsed_into_a_dict():
    options = protocol_sim.parse_sim_url(
        "sim://?card=expired&delay=0.5&ledger=/tmp/l.json&config=/tmp/c.toml"
    )
    assert options == {
        "card": "expired",
        "delay": "0.5",
        "ledger": "/tmp/l.json",
        "config": "/tmp/c.toml",
    }


def test_url_options_with_a_supplied_simulator_are_refused():
    with pytest.raises(serial.SerialException, match="do not apply"):
        serial.serial_for_url("sim://?card=expired", simulator=EchoDevice())


def test_zero_timeout_returns_at_once_with_what_is_there(fake_clock):
    device = EchoDevice(fake_clock, delay=2.0)
    with _port(fake_clock, device, timeout=0) as port:
        port.write(b"abc")
        assert port.read(3) == b""
        assert fake_clock.now() == 1000.0
        fake_clock.advance(2.0)
        assert port.in_waiting == 3
        assert port.read(10) == b"abc"


def test_positive_timeout_waits_that_long_and_returns_short(fake_clock):
    device = EchoDevice(fake_clock, delay=5.0)
    with _port(fake_clock, device, timeout=1.5) as port:
        port.write(b"abc")
        assert port.read(3) == b""
        assert fake_clock.now() == pytest.approx(1001.5)


def test_positive_timeout_returns_as_soon_as_the_device_answers(fake_clock):
    device = EchoDevice(fake_clock, delay=2.0)
    with _port(fake_clock, device, timeout=10.0) as port:
        port.write(b"abc")
        assert port.read(3) == b"abc"
        # The read ran the device's timer at its deadline rather than sleeping 10 s.
        assert fake_clock.now() == pytest.approx(1002.0, abs=1e-3)


def test_read_returns_what_arrived_when_the_timeout_ends_short_of_size(fake_clock):
    device = EchoDevice(fake_clock, delay=1.0)
    with _port(fake_clock, device, timeout=3.0) as port:
        port.write(b"ab")
        assert port.read(5) == b"ab"
        assert fake_clock.now() == pytest.approx(1003.0, abs=1e-3)


def test_no_timeout_blocks_until_size_bytes_came(fake_clock):
    device = EchoDevice(fake_clock, delay=30.0)
    with _port(fake_clock, device, timeout=None) as port:
        port.write(b"ab")
        port.write(b"cd")
        assert port.read(4) == b"abcd"
        assert fake_clock.now() == pytest.approx(1030.0, abs=1e-3)


def test_blocking_read_with_nothing_pending_is_ended_by_cancel_read():
    device = EchoDevice()
    with serial.serial_for_url("sim://", simulator=device, timeout=None) as port:
        timer = threading.Timer(0.2, port.cancel_read)
        started = time.monotonic()
        timer.start()
        try:
            assert port.read(1) == b""
        finally:
            timer.join()
        assert 0.1 < time.monotonic() - started < 2.0


def test_blocking_read_is_woken_by_a_write_from_another_thread():
    device = EchoDevice()
    with serial.serial_for_url("sim://", simulator=device, timeout=None) as port:
        timer = threading.Timer(0.1, port.write, args=(b"x",))
        timer.start()
        try:
            assert port.read(1) == b"x"
        finally:
            timer.join()


def test_real_clock_timeout_is_honoured():
    with serial.serial_for_url("sim://", simulator=EchoDevice(), timeout=0.2) as port:
        started = time.monotonic()
        assert port.read(1) == b""
        assert 0.15 < time.monotonic() - started < 1.0


def test_unprompted_bytes_are_readable_and_reset_input_buffer_drops_them(fake_clock):
    device = EchoDevice(fake_clock)
    with _port(fake_clock, device, timeout=0) as port:
        device.say(b"\x06")
        assert port.in_waiting == 1
        port.reset_input_buffer()
        assert port.in_waiting == 0
        device.say(b"\x15")
        port.reset_output_buffer()
        assert port.read(1) == b"\x15"


def test_modem_lines_read_as_a_connected_cable():
    with serial.serial_for_url("sim://", simulator=EchoDevice()) as port:
        assert (port.cts, port.dsr, port.ri, port.cd) == (True, True, True, True)
        port.rts = False
        port.dtr = False
        port.send_break(0)
        port.baudrate = 115200
        assert port.baudrate == 115200
        assert port.out_waiting == 0


def test_closed_port_refuses_io():
    port = serial.serial_for_url("sim://", simulator=EchoDevice())
    port.close()
    with pytest.raises(serial.PortNotOpenError):
        port.read(1)
    with pytest.raises(serial.PortNotOpenError):
        port.write(b"x")
    with pytest.raises(serial.PortNotOpenError):
        _ = port.in_waiting
