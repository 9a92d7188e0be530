"""Bring-up of a terminal through the ``terminal`` command: the exchanges a shop makes first.

Device tests (see ``tests/conftest.py``): against the embedded simulator by
default, against a real terminal with ``--port``; use a test card, as the sale
is real (0.01 yuan).
"""

from __future__ import annotations

import json

from typer.testing import CliRunner

from terminal.cli.app import app

runner = CliRunner()


def test_sign_on_then_echo_are_answered_00(device_port: list[str]) -> None:
    for command in (["sign-on"], ["echo"]):
        outcome = runner.invoke(app, [*command, *device_port, "--json"])
        assert outcome.exit_code == 0, outcome.output
        assert json.loads(outcome.stdout)["response_code"] == "00"


def test_sale_of_one_fen_is_approved(device_port: list[str]) -> None:
    outcome = runner.invoke(app, ["sale", "0.01", *device_port, "--json"])
    assert outcome.exit_code == 0, outcome.output
    result = json.loads(outcome.stdout)
    assert (result["approved"], result["amount_fen"]) == (True, 1)


def test_balance_inquiry_is_answered_with_a_balance(device_port: list[str]) -> None:
    # A 0200 like the sale: with a journal that started afresh it would reuse the
    # sale's trace, and a terminal that remembers traces would answer 94.
    outcome = runner.invoke(app, ["balance", *device_port, "--json"])
    assert outcome.exit_code == 0, outcome.output
    balance = json.loads(outcome.stdout)["balance_fen"]
    assert isinstance(balance, int) and balance > 0
