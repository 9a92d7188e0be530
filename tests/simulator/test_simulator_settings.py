"""SimulatorSettings: defaults with no file, the shared config file, overrides, checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator import SimulatorSettings, load_settings
from terminal.errors import ConfigError
from terminal.link import LinkTimers


def test_everything_has_a_default_when_there_is_no_config_file():
    settings = load_settings()  # the suite points TERMINAL_CONFIG at a missing file
    assert settings == SimulatorSettings()
    assert (settings.terminal_id, settings.merchant_id) == ("10008060", "898100000000001")
    assert (settings.acquirer_id, settings.default_card) == ("00010000", "approved")
    assert settings.batch_number == "000001"
    assert settings.link == LinkTimers()
    assert settings.require_sign_on is False
    assert settings.response_delay == 0.0


def test_settings_come_from_the_terminal_simulator_and_link_tables(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(
        """
[terminal]
port = "/dev/ttyUSB0"
terminal_id = "11000284"
merchant_id = "585290048140001"
header = "603200990002"

[link]
ack_timeout = 2.5

[simulator]
card = "expired"
acquirer_id = "01020000"
ledger_file = "books.json"
batch = 42
require_sign_on = true
response_delay = 1
""",
        encoding="utf-8",
    )
    settings = load_settings(path, response_delay=0.5)
    assert (settings.terminal_id, settings.merchant_id) == ("11000284", "585290048140001")
    assert settings.header == "603200990002"
    assert settings.default_card == "expired"
    assert settings.acquirer_id == "01020000"
    assert settings.ledger_file == Path("books.json")
    assert (settings.batch, settings.require_sign_on) == (42, True)
    assert settings.response_delay == 0.5
    assert settings.link.ack_timeout == 2.5


def test_none_overrides_leave_the_file_value():
    config = {"simulator": {"card": "lost"}}
    assert SimulatorSettings.from_config(config, default_card=None).default_card == "lost"


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        ({"simulator": {"cardd": "lost"}}, "unknown \\[simulator\\] keys: cardd"),
        ({"terminal": {"terminal_idd": "1"}}, "unknown key terminal_idd in \\[terminal\\]"),
        ({"terminal": {"terminal_id": "123"}}, "terminal_id must be 8"),
        ({"simulator": {"batch": 0}}, "batch must be a whole number"),
        ({"simulator": {"batch": 1_000_000}}, "batch must be a whole number"),
        ({"simulator": {"acquirer_id": "ABC"}}, "acquirer_id must be 1 to 11 digits"),
        ({"simulator": {"require_sign_on": "yes"}}, "require_sign_on must be true or false"),
        ({"simulator": {"response_delay": -1}}, "response_delay must be seconds"),
        ({"link": {"max_sends": 0}}, "max_sends"),
    ],
)
def test_bad_settings_are_refused_when_built(config, reason):
    with pytest.raises(ConfigError, match=reason):
        SimulatorSettings.from_config(config)


def test_an_unknown_override_is_a_programming_error():
    with pytest.raises(TypeError, match="cardd"):
        SimulatorSettings.from_config({}, cardd="x")
