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


def test_no_url_no_environment_no_file_means_the_simulator():
    with open_port(simulator=EchoDevice()) as port:
        assert isinstance(port, SimSerial)


def test_environment_port_is_used_when_no_url_is_given(monkeypatch):
    monkeypatch.setenv("TERMINAL_PORT", "loop://")
    _config_file().write_text('[terminal]\nport = "/dev/ttyUSB9"\n')
    with open_port() as port:
        assert type(port).__module__ == "serial.urlhandler.protocol_loop"


def test_config_file_port_is_used_when_nothing_else_says(tmp_path):
    _config_file().write_text('[terminal]\nport = "loop://"\n')
    with open_port() as port:
        assert type(port).__module__ == "serial.urlhandler.protocol_loop"
    other = tmp_path / "other.toml"
    other.write_text('[terminal]\nport = "sim://"\n')
    with open_port(config_file=other, simulator=EchoDevice()) as port:
        assert isinstance(port, SimSerial)


def test_a_broken_config_file_is_an_error_only_when_it_is_needed():
    _config_file().write_text("[terminal\nport = ")
    with open_port("loop://") as port:
        assert port.is_open
    with pytest.raises(ConfigError, match="cannot read config file"):
        open_port()


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
