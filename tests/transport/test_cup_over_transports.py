"""Real CUP messages through every transport: sim://, a real pty, TCP.

The POS side is the real link (``SerialLink``) and codec (``cup`` dialect); the
far end is the real ``SimulatedTerminal``. Only the wire changes between tests.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
import serial
from cup_requests import echo_request, exchange, sale_request

from simulator import SimulatedTerminal, SimulatorSettings
from simulator.serve import PtySimulator, TcpSimulator
from terminal.clock import FakeClock
from terminal.link import ACK, SerialLink, encode_frame
from terminal.protocol import decode
from terminal.transport import open_port
from terminal.transport.protocol_sim import Serial as SimSerial


@pytest.fixture
def sim_port() -> Iterator[serial.SerialBase]:
    port = serial.serial_for_url("sim://", timeout=0.05)
    yield port
    port.close()


def test_sim_url_builds_the_real_simulated_terminal(sim_port):
    assert isinstance(sim_port, SimSerial)
    assert isinstance(sim_port.simulator, SimulatedTerminal)


def test_handler_class_builds_the_simulator_from_its_url_without_the_registry():
    # Direct use: an ImportError inside the handler would surface here instead of
    # being swallowed by serial_for_url as "protocol 'sim' not known".
    with SimSerial("sim://?card=expired", timeout=0.05) as port:
        assert isinstance(port.simulator, SimulatedTerminal)
        assert port.simulator.terminal.default_card == "expired"
        assert exchange(port, sale_request())[39] == "54"


def test_importing_terminal_registers_the_sim_handler_package():
    assert "terminal.transport" in serial.protocol_handler_packages


def test_echo_through_sim_url_is_answered_0830_with_00(sim_port):
    response = exchange(sim_port, echo_request())
    assert response.mti == "0830"
    assert response[39] == "00"


def test_sale_through_sim_url_is_approved_0210_with_00(sim_port):
    response = exchange(sim_port, sale_request())
    assert response.mti == "0210"
    assert response[39] == "00"
    assert response[11] == "000001"
    assert response[4] == "000000001234"


def test_expired_card_option_in_the_url_is_declined_54():
    with serial.serial_for_url("sim://?card=expired", timeout=0.05) as port:
        response = exchange(port, sale_request())
    assert response.mti == "0210"
    assert response[39] == "54"


def test_card_presented_on_the_port_simulator_is_the_one_read(sim_port):
    sim_port.simulator.present_card("expired")
    assert exchange(sim_port, sale_request())[39] == "54"


def test_fake_clock_drives_the_response_delay_without_sleeping():
    clock = FakeClock()
    with serial.serial_for_url("sim://?delay=30", clock=clock, timeout=0.05) as port:
        link = SerialLink(port, clock=clock)
        response = decode(link.exchange(sale_request(), 60.0), "cup")
    assert response[39] == "00"
    assert clock.now() >= 30.0


def test_url_options_reach_the_simulator_settings(tmp_path):
    ledger = tmp_path / "ledger.json"
    config = tmp_path / "sim.toml"
    config.write_text('[simulator]\ncard = "expired"\n')
    with serial.serial_for_url(f"sim://?config={config}", timeout=0.05) as port:
        assert exchange(port, sale_request())[39] == "54"
    url = f"sim://?config={config}&card=approved&ledger={ledger}&delay=0"
    with serial.serial_for_url(url, timeout=0.05) as port:
        assert exchange(port, sale_request())[39] == "00"
    assert ledger.read_bytes().startswith(b"SQLite format 3")


def test_missing_config_file_in_the_url_is_refused(tmp_path):
    with pytest.raises(serial.SerialException, match="does not exist"):
        serial.serial_for_url(f"sim://?config={tmp_path / 'none.toml'}")


def test_bad_simulator_settings_are_refused_as_a_serial_error(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text("[simulator]\nbatch = 0\n")
    with pytest.raises(serial.SerialException, match="cannot start the simulated terminal"):
        serial.serial_for_url(f"sim://?config={config}")


def test_open_port_sim_url_reaches_the_simulator():
    with open_port("sim://") as port:
        assert exchange(port, echo_request()).mti == "0830"


def test_sale_over_a_real_pty_is_approved():
    device = SimulatedTerminal(SimulatorSettings())
    with PtySimulator(device) as sim, serial.serial_for_url(sim.path, timeout=0.05) as port:
        assert exchange(port, echo_request()).mti == "0830"
        response = exchange(port, sale_request())
    assert response.mti == "0210"
    assert response[39] == "00"


def test_expired_card_over_a_real_pty_is_declined_54():
    device = SimulatedTerminal(SimulatorSettings(default_card="expired"))
    with PtySimulator(device) as sim, serial.serial_for_url(sim.path, timeout=0.05) as port:
        assert exchange(port, sale_request())[39] == "54"


def test_sale_over_tcp_on_an_ephemeral_port_is_approved():
    device = SimulatedTerminal(SimulatorSettings())
    with TcpSimulator(device, port=0) as sim, open_port(sim.url, timeout=0.05) as port:
        response = exchange(port, sale_request())
    assert response.mti == "0210"
    assert response[39] == "00"


def test_successive_pos_connections_over_tcp_are_each_served():
    device = SimulatedTerminal(SimulatorSettings())
    with TcpSimulator(device) as sim:
        for trace in ("000001", "000002"):
            with open_port(sim.url, timeout=0.05) as port:
                response = exchange(port, sale_request(trace))
            assert (response[11], response[39]) == (trace, "00")


def test_a_sale_over_tcp_succeeds_while_another_pos_sits_connected_and_idle():
    device = SimulatedTerminal(SimulatorSettings())
    with TcpSimulator(device) as sim, open_port(sim.url, timeout=0.05) as idle:
        assert exchange(idle, echo_request()).mti == "0830"
        with open_port(sim.url, timeout=0.05) as port:
            response = exchange(port, sale_request("000007"))
    assert (response.mti, response[11], response[39]) == ("0210", "000007", "00")


def test_a_response_the_replaced_pos_never_acked_does_not_reach_the_next_pos():
    device = SimulatedTerminal(SimulatorSettings())
    with TcpSimulator(device) as sim:
        host, port_number = sim.url.removeprefix("socket://").rsplit(":", 1)
        with socket.create_connection((host, int(port_number)), timeout=2.0) as gone:
            gone.sendall(encode_frame(sale_request("000005")))
            assert gone.recv(1) == bytes([ACK])  # then its response, never ACKed
            started = time.monotonic()
            with open_port(sim.url, timeout=0.05) as port:
                response = exchange(port, sale_request("000006"))
            # Answered at once, not after the old response's resends ran out.
            assert time.monotonic() - started < SimulatorSettings().link.ack_timeout
    assert (response[11], response[39]) == ("000006", "00")


def test_unknown_card_in_the_url_is_refused_with_the_known_ones():
    with pytest.raises(serial.SerialException, match=r"unknown card profile 'nosuch'.*expired"):
        serial.serial_for_url("sim://?card=nosuch")
