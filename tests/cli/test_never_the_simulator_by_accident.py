"""A shop never sells against the simulator by accident, and a simulated result says so."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from simulator import SimulatedTerminal
from simulator.serve import PtySimulator
from terminal.cli.app import app

runner = CliRunner()
BANNER = "SIMULATOR — no money moved"
MARK = "*** 模拟 SIMULATOR ***"


def _config() -> Path:
    return Path(os.environ["TERMINAL_CONFIG"])  # per test, from tests/conftest.py


@pytest.mark.parametrize("empty", ["", "  "], ids=["empty", "blank"])
def test_an_empty_port_option_is_a_usage_error_not_the_simulator(empty):
    outcome = runner.invoke(app, ["sale", "1.00", "--port", empty])
    assert outcome.exit_code == 2
    assert "--port is empty" in outcome.stderr
    assert "approved" not in outcome.stdout


def test_an_empty_port_in_the_environment_is_a_usage_error(monkeypatch):
    monkeypatch.setenv("TERMINAL_PORT", "")
    outcome = runner.invoke(app, ["sale", "1.00"])
    assert outcome.exit_code == 2
    assert "$TERMINAL_PORT is set but empty" in outcome.stderr


def test_an_empty_port_in_the_config_file_is_a_usage_error_naming_the_file():
    _config().write_text('[terminal]\nport = ""\n', encoding="utf-8")
    outcome = runner.invoke(app, ["sale", "1.00"])
    assert outcome.exit_code == 2
    assert str(_config()) in outcome.stderr and "[terminal] port" in outcome.stderr


def test_a_config_file_named_by_the_environment_must_exist(monkeypatch, tmp_path):
    monkeypatch.setenv("TERMINAL_CONFIG", str(tmp_path / "mistyped.toml"))
    outcome = runner.invoke(app, ["sale", "1.00"])
    assert outcome.exit_code == 2
    assert f"config file {tmp_path / 'mistyped.toml'} does not exist" in outcome.stderr


def test_a_config_file_named_by_the_option_must_exist(tmp_path):
    outcome = runner.invoke(app, ["sale", "1.00", "--config", str(tmp_path / "nope.toml")])
    assert outcome.exit_code == 2
    assert "does not exist" in outcome.stderr


def test_a_config_path_through_a_regular_file_is_named_and_refused(monkeypatch, tmp_path):
    plain = tmp_path / "plain"
    plain.write_text("not a directory")
    monkeypatch.setenv("TERMINAL_CONFIG", str(plain / "config.toml"))
    outcome = runner.invoke(app, ["sale", "1.00"])
    assert outcome.exit_code == 2
    assert str(plain / "config.toml") in outcome.stderr
    assert "part of its path is a file" in outcome.stderr


def test_the_port_comes_from_the_option_then_environment_then_file(monkeypatch):
    _config().write_text('[terminal]\nport = "/dev/ttyS-from-file"\n', encoding="utf-8")
    from_file = runner.invoke(app, ["echo"])
    assert from_file.exit_code == 3 and "ttyS-from-file" in from_file.stderr
    monkeypatch.setenv("TERMINAL_PORT", "/dev/ttyS-from-env")
    from_env = runner.invoke(app, ["echo"])
    assert from_env.exit_code == 3 and "ttyS-from-env" in from_env.stderr
    from_option = runner.invoke(app, ["echo", "--port", "sim://"])
    assert from_option.exit_code == 0, from_option.output


@pytest.mark.parametrize("command", [["sale", "12.34"], ["balance"], ["sign-on"], ["echo"]],
                         ids=["sale", "balance", "sign-on", "echo"])
def test_every_human_readable_simulator_result_says_so_on_its_first_line(command):
    outcome = runner.invoke(app, command)
    assert outcome.exit_code == 0, outcome.output
    assert outcome.stdout.splitlines()[0] == BANNER


def test_a_declined_simulator_sale_says_so_too():
    outcome = runner.invoke(app, ["sale", "12.34", "--card", "expired"])
    assert outcome.exit_code == 1
    assert outcome.stdout.splitlines()[0] == BANNER


def test_the_simulator_receipt_carries_the_simulator_mark_on_both_copies():
    outcome = runner.invoke(app, ["sale", "12.34", "--receipt"])
    assert outcome.exit_code == 0, outcome.output
    assert outcome.stdout.count(MARK) == 2


def test_json_says_simulated_true_on_the_simulator():
    outcome = runner.invoke(app, ["sale", "12.34", "--json"])
    assert json.loads(outcome.stdout)["simulated"] is True


def test_a_simulator_behind_a_pty_path_is_called_simulated_all_the_same():
    # The path says nothing; the simulator's answers do (field 59). A device that does not
    # mark its answers: tests/cli/test_simulator_in_another_process_says_so.py.
    with PtySimulator(SimulatedTerminal()) as device:
        as_json = runner.invoke(app, ["sale", "12.34", "--port", device.path, "--json"])
        as_text = runner.invoke(app, ["sale", "12.34", "--port", device.path, "--receipt"])
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout)["simulated"] is True
    assert as_text.exit_code == 0, as_text.output
    assert as_text.stdout.splitlines()[0] == BANNER and as_text.stdout.count(MARK) == 2


def test_an_in_doubt_simulator_sale_heads_its_error_with_the_banner_and_says_so_in_json():
    _config().write_text("[link]\nresponse_timeout = 0.3\n", encoding="utf-8")
    assert runner.invoke(app, ["sign-on"]).exit_code == 0  # so the sale is what gets no answer
    outcome = runner.invoke(app, ["sale", "1.00", "--port", "sim://?delay=5", "--json"])
    assert outcome.exit_code == 3
    shown = json.loads(outcome.stdout)
    assert shown["in_doubt"] is True and shown["simulated"] is True
    assert outcome.stderr.startswith(f"error: {BANNER}: sale trace {shown['trace']} is in doubt")

