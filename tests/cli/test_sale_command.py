"""The ``terminal sale`` command end to end: CLI -> client -> codec -> link -> simulator."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from simulator import SimulatedTerminal, load_cards
from terminal.cli.app import app

runner = CliRunner()
MASKED = re.compile(r"^\d{6}\*+\d{4}$")


def _full_pans() -> list[str]:
    return [card.pan for card in load_cards()]


@pytest.mark.hardware
def test_sale_is_approved_with_its_references(device_port):
    outcome = runner.invoke(app, ["sale", "0.01", *device_port, "--json"])
    assert outcome.exit_code == 0, outcome.output
    result = json.loads(outcome.stdout)
    assert result["approved"] is True
    assert result["response_code"] == "00"
    assert result["message"] == "交易成功"
    assert result["amount_fen"] == 1
    assert MASKED.match(result["card"])
    assert len(result["rrn"]) == 12 and len(result["auth_code"]) == 6
    assert re.fullmatch(r"\d{6}", result["trace"]) and re.fullmatch(r"\d{6}", result["batch"])


@pytest.mark.hardware
def test_successive_sales_use_new_trace_numbers(device_port):
    first = json.loads(runner.invoke(app, ["sale", "0.01", *device_port, "--json"]).stdout)
    second = json.loads(runner.invoke(app, ["sale", "0.01", *device_port, "--json"]).stdout)
    assert int(second["trace"]) == int(first["trace"]) + 1


@pytest.mark.parametrize(
    ("card", "code"),
    [("expired", "54"), ("insufficient", "51"), ("wrong-pin", "55"), ("lost", "41")],
)
def test_declined_cards_exit_1_with_the_operator_message(card, code):
    outcome = runner.invoke(app, ["sale", "12.34", "--card", card, "--json"])
    assert outcome.exit_code == 1, outcome.output
    assert json.loads(outcome.stdout)["response_code"] == code


def test_receipt_shows_masked_card_and_amount_and_never_the_full_number():
    outcome = runner.invoke(app, ["sale", "12.34", "--receipt"])
    assert outcome.exit_code == 0, outcome.output
    assert "签购单" in outcome.stdout and "RMB 12.34" in outcome.stdout
    assert "商户存根" in outcome.stdout and "持卡人存根" in outcome.stdout
    assert re.search(r"\d{6}\*+\d{4}", outcome.stdout)
    for pan in _full_pans():
        assert pan not in outcome.stdout


@pytest.mark.parametrize("amount", ["12.345", "-1", "abc", "0"])
def test_bad_amount_is_a_usage_error(amount):
    outcome = runner.invoke(app, ["sale", amount])
    assert outcome.exit_code == 2


def test_card_option_is_refused_for_a_real_port():
    outcome = runner.invoke(app, ["sale", "1.00", "--card", "expired", "--port", "/dev/ttyS99"])
    assert outcome.exit_code == 2
    assert "sim://" in outcome.stderr


def test_port_that_cannot_be_opened_is_a_link_failure():
    outcome = runner.invoke(app, ["sale", "1.00", "--port", "/dev/does-not-exist-0"])
    assert outcome.exit_code == 3
    assert "does-not-exist" in outcome.stderr


def test_terminal_that_does_not_answer_in_time_leaves_the_sale_in_doubt(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("[link]\nresponse_timeout = 0.3\n")
    # Signed on first (keys kept in the journal and the simulator's books), so the
    # sale itself is the exchange that gets no answer.
    assert runner.invoke(app, ["sign-on", "--config", str(config)]).exit_code == 0
    outcome = runner.invoke(
        app, ["sale", "1.00", "--port", "sim://?delay=5", "--config", str(config)]
    )
    assert outcome.exit_code == 3
    assert "in doubt" in outcome.stderr and "trace" in outcome.stderr


@pytest.mark.hardware
def test_balance_sign_on_and_echo_answer(device_port):
    for command in (["sign-on"], ["echo"], ["balance"]):
        outcome = runner.invoke(app, [*command, *device_port, "--json"])
        assert outcome.exit_code == 0, outcome.output
    balance = json.loads(runner.invoke(app, ["balance", *device_port, "--json"]).stdout)
    assert isinstance(balance["balance_fen"], int) and balance["balance_fen"] > 0


def test_sale_from_a_separate_process_over_a_real_pty():
    from simulator.serve import PtySimulator

    with PtySimulator(SimulatedTerminal()) as simulated:
        env = {**os.environ}
        completed = subprocess.run(
            [sys.executable, "-m", "terminal", "sale", "12.34", "--port", simulated.path,
             "--json"],
            capture_output=True, text=True, timeout=60, env=env,
        )
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    assert result["response_code"] == "00" and result["amount_fen"] == 1234
    for pan in _full_pans():
        assert pan not in completed.stdout + completed.stderr
