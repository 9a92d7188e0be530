"""``open_port``: which URL it opens, with which settings, and how it says it cannot."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
import serial
from transport_fakes import EchoDevice

from terminal.errors import ConfigError, LinkError
from terminal.transport import DEFAULT_TIMEOUT, PortUnavailable, open_port
from terminal.transport.protocol_sim import Serial as SimSerial


def _config_file() -> Path:
    return Path(os.environ["TERMINAL_CONFIG"])  # per-test, set by tests/conftest.py


def test_explicit_url_is_opened_with_cup_serial_defaults():
    with open_port("sim://", simulator=EchoDevice()) as port:
        assert isinstance(port, SimSerial)
        assert port.is_open
        assert (port.baudrate, port.bytesize, port.parity, port.stopbits) == (9600, 8, "N", 1)
        assert port.timeout == DEFAULT_TIMEOUT


def test_serial_settings_are_configurable():
    with open_port("loop://", baudrate=115200, parity=serial.PARITY_EVEN, timeout=0) as port:
        assert (port.baudrate, port.parity, port.timeout) == (115200, "E", 0)


def test_open_port_reads_no_environment_or_config_file(monkeypatch):
    # Library code takes its port as an argument; the CLI resolves --port, $TERMINAL_PORT,
    # the config file. An empty URL is refused, never taken to mean the simulator.
    monkeypatch.setenv("TERMINAL_PORT", "loop://")
    _config_file().write_text('[terminal]\nport = "loop://"\n')
    for empty in ("", "  "):
        with pytest.raises(ConfigError, match="the port is empty"):
            open_port(empty)


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("socket://127.0.0.1", "names no TCP port"),
        ("socket://127.0.0.1:99999", "TCP port must be a number 1-65535"),
        ("socket://127.0.0.1:0", "TCP port must be a number 1-65535"),
        ("socket://127.0.0.1:abc", "TCP port must be a number 1-65535"),
        ("socket://:5000", "names no host"),
        ("socket://127.0.0.1:5000?colour=red", "unknown socket:// option 'colour'"),
    ],
)
def test_bad_socket_urls_are_configuration_mistakes_in_our_own_words(url, words):
    with pytest.raises(ConfigError, match=words) as caught:
        open_port(url)
    assert "NoneType" not in str(caught.value) and "debug|info" not in str(caught.value)


def test_missing_device_is_a_link_error_with_the_url_and_the_os_reason(tmp_path):
    missing = str(tmp_path / "ttyUSB7")
    with pytest.raises(PortUnavailable) as caught:
        open_port(missing)
    error = caught.value
    assert isinstance(error, LinkError)
    assert error.url == missing
    assert error.reason == "No such file or directory"
    assert str(error) == f"cannot open port {missing}: No such file or directory"


def test_refused_tcp_port_is_reported_with_the_reason():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    url = f"socket://127.0.0.1:{free}"
    with pytest.raises(PortUnavailable, match="Connection refused") as caught:
        open_port(url)
    assert caught.value.url == url


def test_unknown_url_scheme_is_a_configuration_mistake_not_a_link_failure():
    with pytest.raises(ConfigError, match="protocol 'nosuch' not known"):
        open_port("nosuch://x")


def test_bad_sim_option_is_a_configuration_mistake_not_a_link_failure():
    with pytest.raises(ConfigError, match="unknown sim:// option colour"):
        open_port("sim://?colour=red")


def test_a_socket_port_sends_small_writes_at_once():
    # The link writes single bytes (an ACK; a frame's last byte once the journal has
    # committed the request): Nagle's algorithm would hold each until the bridge ACKs.
    with socket.create_server(("127.0.0.1", 0)) as listener:
        host, number = listener.getsockname()[:2]
        with open_port(f"socket://{host}:{number}") as port:
            assert port._socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
