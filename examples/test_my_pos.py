"""What a POS developer writes: their checkout code, tested against the simulated terminal.

Copy this file into your project's tests after ``pip install terminal``: the
``terminal_sim`` and ``virtual_printer`` fixtures come with the package (its
pytest plugin), no conftest needed. ``checkout`` stands for your POS code: it
runs ``terminal sale`` as a POS program would and prints its own receipt on an
ESC/POS network printer with python-escpos.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from escpos.printer import Network


def checkout(port: str, amount: str, env: dict[str, str]) -> tuple[int, dict]:
    """Your POS: charge ``amount`` yuan on the terminal at ``port``; (exit code, result)."""
    run = subprocess.run(
        [sys.executable, "-m", "terminal", "sale", amount, "--port", port, "--json"],
        capture_output=True, text=True, env=env, timeout=60,
    )
    return run.returncode, json.loads(run.stdout) if run.stdout.strip() else {}


def print_slip(host: str, port: int, result: dict) -> None:
    """Your POS's own receipt, on a network (port 9100 style) ESC/POS printer. A result the
    simulator answered says so (``"simulated": true``): the slip must not pass for money."""
    printer = Network(host, port=port, timeout=5)
    if result.get("simulated"):
        printer.text("*** SIMULATOR - NO MONEY MOVED ***\n")
    printer.text(f"PAID {result['amount_fen'] / 100:.2f} CNY\n")
    printer.text(f"CARD {result['card']}\n")
    printer.text(f"RRN {result['rrn']}\n")
    printer.cut()
    printer.close()


@pytest.fixture
def pos_env(tmp_path):
    """Keep the driver's state, keys and config for this test in tmp_path, not in your home."""
    config = tmp_path / "config.toml"
    config.write_text("# the driver's defaults\n")
    env = dict(os.environ)
    env["TERMINAL_DATA_DIR"] = str(tmp_path / "data")
    env["TERMINAL_CONFIG"] = str(config)
    env.pop("TERMINAL_PORT", None)
    return env


def test_a_sale_is_approved_and_booked_by_the_acquirer(terminal_sim, pos_env):
    code, result = checkout(terminal_sim.url, "12.34", pos_env)
    assert code == 0 and result["approved"]
    assert terminal_sim.approved_amounts() == [1234]
    # terminal_sim is a port like any other, but its answers say it is the simulator.
    assert result["simulated"] is True


@pytest.mark.terminal_sim(card="expired")
def test_an_expired_card_is_declined_and_nothing_is_booked(terminal_sim, pos_env):
    code, result = checkout(terminal_sim.url, "5.00", pos_env)
    assert code == 1 and result["response_code"] == "54"
    assert terminal_sim.approved_amounts() == []


@pytest.mark.terminal_sim(scenario="response-lost-once")
def test_a_lost_response_is_resent_and_the_sale_still_goes_through(terminal_sim, pos_env):
    code, result = checkout(terminal_sim.url, "3.00", pos_env)
    assert code == 0 and result["approved"]
    assert [event.kind.value for event in terminal_sim.events] == ["drop"]


def test_the_receipt_shows_the_amount_and_only_the_masked_card(
    terminal_sim, virtual_printer, pos_env
):
    code, result = checkout(terminal_sim.url, "8.80", pos_env)
    assert code == 0
    print_slip(virtual_printer.host, virtual_printer.port, result)
    virtual_printer.wait_for_slips(1)
    printed = virtual_printer.text()
    assert "PAID 8.80 CNY" in printed
    assert "SIMULATOR - NO MONEY MOVED" in printed
    assert result["card"] in printed and "*" in result["card"]
    assert virtual_printer.slips[-1].cut
