"""The config file: one schema checks it whole at load; the README's own blocks load as written."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from simulator import SimulatorSettings
from terminal.cli.app import app
from terminal.config import (
    MAC_ALGORITHMS,
    SCHEMA,
    SerialSettings,
    TerminalSettings,
    check_config,
    load_config,
)
from terminal.errors import ConfigError
from terminal.link import LinkTimers
from terminal.protocol.security import MacAlgorithm

runner = CliRunner()
README = Path(__file__).resolve().parents[1] / "README.md"


def _config() -> Path:
    return Path(os.environ["TERMINAL_CONFIG"])


@pytest.mark.parametrize(
    ("text", "key", "expected", "example"),
    [
        pytest.param("[terminal]\nterminal_id = 10008060", "[terminal] terminal_id",
                     "text (in quotes)", 'terminal_id = "10008060"', id="unquoted-terminal-id"),
        pytest.param("[terminal]\nheader = 603200320002", "[terminal] header",
                     "text (in quotes)", 'header = "603200320002"', id="unquoted-header"),
        pytest.param("[terminal]\nmerchant_name = true", "[terminal] merchant_name",
                     "text (in quotes)", "merchant_name = ", id="bool-name"),
        pytest.param('[link]\nack_timeout = "1"', "[link] ack_timeout", "a number",
                     "ack_timeout = 1.0", id="quoted-seconds"),
        pytest.param("[link]\nmax_sends = 2.5", "[link] max_sends", "a whole number",
                     "max_sends = 3", id="fractional-sends"),
        pytest.param("[serial]\nbaudrate = true", "[serial] baudrate", "a whole number",
                     "baudrate = 9600", id="bool-baudrate"),
        pytest.param("[simulator]\nrequire_sign_on = 1", "[simulator] require_sign_on",
                     "true or false", "require_sign_on = false", id="number-flag"),
    ],
)
def test_a_value_of_the_wrong_type_names_file_key_expected_type_and_example(
    tmp_path, text, key, expected, example
):
    path = tmp_path / "config.toml"
    path.write_text(text + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert str(path) in message and key in message
    assert f"must be {expected}" in message and f"e.g. {example}" in message


@pytest.mark.parametrize(
    ("text", "words"),
    [
        pytest.param("terminal = 5", "[terminal] must be a table", id="table-as-number"),
        pytest.param("[termnal]\nport = 'x'", "unknown table termnal", id="misspelt-table"),
        pytest.param("[terminal]\nterminal_idd = '1'", "unknown key terminal_idd",
                     id="misspelt-key"),
        pytest.param("[terminal]\ncurrency = '156'", "unknown key currency", id="currency-gone"),
        pytest.param("[terminal]\nterminal_id = '123'", "must be 8 characters", id="short-id"),
        pytest.param("[terminal]\ntpdu = 'zz'", "must be 10 hex digits", id="bad-tpdu"),
        pytest.param("[serial]\nparity = 'X'", "must be one of N, E, O, M, S", id="bad-parity"),
        pytest.param("[serial]\nbaudrate = 9601", "must be one of 1200", id="odd-baudrate"),
        pytest.param("[link]\nresponse_timeout = -1", "positive number of seconds",
                     id="negative-timeout"),
        pytest.param("[terminal\n", "cannot read config file", id="not-toml"),
    ],
)
def test_the_cli_refuses_a_bad_config_file_with_exit_2_and_no_traceback(text, words):
    _config().write_text(text + "\n", encoding="utf-8")
    outcome = runner.invoke(app, ["sale", "1.00"])
    assert outcome.exit_code == 2, outcome.output
    assert words in outcome.stderr and str(_config()) in outcome.stderr
    assert "Traceback" not in outcome.output


def test_iso87ascii_is_refused_for_transactions_with_the_reason():
    _config().write_text('[terminal]\ndialect = "iso87ascii"\n', encoding="utf-8")
    outcome = runner.invoke(app, ["sale", "1.00"])
    assert outcome.exit_code == 2
    assert "transactions use the cup dialect; iso87ascii is for decode/encode" in outcome.stderr


def test_one_schema_declares_every_table_the_settings_classes_read():
    assert set(SCHEMA) == {
        "terminal", "serial", "link", "simulator", "security", "printer", "refunds",
        "recovery", "operators",
    }
    assert {f for f in TerminalSettings.__dataclass_fields__} == set(SCHEMA["terminal"])
    assert {f for f in SerialSettings.__dataclass_fields__} == set(SCHEMA["serial"])
    assert {f for f in LinkTimers.__dataclass_fields__} == set(SCHEMA["link"])
    sim_fields = set(SimulatorSettings.__dataclass_fields__)
    assert set(SCHEMA["simulator"]) - {"card"} <= sim_fields
    assert set(SCHEMA["security"]) <= sim_fields
    assert tuple(algorithm.value for algorithm in MacAlgorithm) == MAC_ALGORITHMS


def test_a_bad_master_key_is_refused_without_being_shown(tmp_path):
    path = tmp_path / "config.toml"
    secret = "00112233445566778899AABBCCDDEEF"  # 31 hex digits: one short
    path.write_text(f'[security]\nmaster_key = "{secret}"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="must be 16, 32 or 48 hex digits") as caught:
        load_config(path)
    assert secret not in str(caught.value) and "31 characters" in str(caught.value)


def test_settings_given_in_code_are_checked_by_the_same_schema():
    with pytest.raises(ConfigError, match=r"\[terminal\] terminal_id must be 8 characters"):
        TerminalSettings(terminal_id="1")
    with pytest.raises(ConfigError, match=r"\[serial\] stopbits must be one of 1, 1.5, 2"):
        SerialSettings(stopbits=3)


def test_serial_line_settings_default_to_9600_8n1_and_come_from_the_file(tmp_path):
    assert SerialSettings().as_port_options() == {
        "baudrate": 9600, "bytesize": 8, "parity": "N", "stopbits": 1,
    }
    path = tmp_path / "config.toml"
    path.write_text('[serial]\nbaudrate = 115200\nbytesize = 7\nparity = "E"\nstopbits = 2\n')
    settings = SerialSettings.from_config(load_config(path))
    assert (settings.baudrate, settings.bytesize, settings.parity, settings.stopbits) == (
        115200, 7, "E", 2,
    )
    assert SerialSettings.from_config(load_config(path), baudrate=19200).baudrate == 19200


@pytest.mark.parametrize(
    ("table", "option", "speed"),
    [("", [], "B9600"), ("baudrate = 4800\n", [], "B4800"),
     ("baudrate = 4800\n", ["--baudrate", "19200"], "B19200")],
    ids=["default", "file", "option"],
)
def test_the_serial_line_is_opened_at_the_configured_speed(table, option, speed):
    """A real pty: its line settings show the speed the CLI opened it at."""
    termios = pytest.importorskip("termios")
    _config().write_text(
        f"[serial]\n{table}[link]\nack_timeout = 0.05\nmax_sends = 1\n", encoding="utf-8"
    )
    master, slave = os.openpty()
    try:
        outcome = runner.invoke(app, ["echo", "--port", os.ttyname(slave), *option])
        assert outcome.exit_code == 3, outcome.output  # nobody answers on the other end
        assert termios.tcgetattr(slave)[5] == getattr(termios, speed)
    finally:
        os.close(master)
        os.close(slave)


def test_a_baudrate_option_pyserial_cannot_use_is_a_usage_error():
    outcome = runner.invoke(app, ["echo", "--port", "loop://", "--baudrate", "12345"])
    assert outcome.exit_code == 2 and "must be one of" in outcome.stderr


def _toml_blocks(text: str) -> list[str]:
    return re.findall(r"```toml\n(.*?)```", text, flags=re.DOTALL)


def test_every_toml_block_in_the_readme_loads_as_written(tmp_path):
    text = README.read_text(encoding="utf-8")
    blocks = _toml_blocks(text)
    assert blocks, "the README has no ```toml block"
    for index, block in enumerate(blocks):
        path = tmp_path / f"readme-{index}.toml"
        path.write_text(block, encoding="utf-8")
        data = load_config(path)
        TerminalSettings.from_config(data)
        SerialSettings.from_config(data)
        LinkTimers.from_config(data)
        SimulatorSettings.from_config(data)
    # Every config table the README shows is inside a block this test loads.
    shown = set(re.findall(r"^\s*\[(\w+)\]", text, flags=re.MULTILINE))
    loaded = {table for block in blocks for table in tomllib.loads(block)}
    assert shown <= loaded


def test_the_docstring_example_of_the_config_module_loads_too():
    import terminal.config

    doc = terminal.config.__doc__ or ""
    example = "\n".join(
        line[4:] for line in doc.split("::", 1)[1].splitlines() if line.startswith("    ")
    )
    check_config(tomllib.loads(example), "terminal.config docstring")
