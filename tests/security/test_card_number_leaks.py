"""Card numbers never leave the terminal boundary in full: not in output, logs or files."""

from __future__ import annotations

import logging
import re

from typer.testing import CliRunner

from simulator import load_cards
from terminal.card_data import luhn_valid
from terminal.cli.app import app

CARD_LIKE = re.compile(r"(?<!\d)\d{13,19}(?!\d)")


def _luhn_runs(text: str) -> list[str]:
    return [run for run in CARD_LIKE.findall(text) if len(set(run)) > 2 and luhn_valid(run)]


def test_sales_leave_no_full_card_number_in_output_logs_or_files(tmp_path, caplog, request):
    ledger = tmp_path / "ledger.json"
    runner = CliRunner()
    texts = []
    with caplog.at_level(logging.DEBUG):
        for card in ("approved", "expired", "limited", "contactless"):
            outcome = runner.invoke(
                app,
                ["-vv", "sale", "12.34", "--receipt", "--json", "--port",
                 f"sim://?ledger={ledger}&card={card}"],
            )
            assert outcome.exit_code in (0, 1), outcome.output
            texts.append(outcome.output)
        texts.append(runner.invoke(app, ["sale", "3.00", "--receipt"]).output)
    texts.append(caplog.text)
    home = request.getfixturevalue("_isolated_config")  # host state and token key
    texts += [p.read_text("utf-8", "replace") for p in tmp_path.rglob("*") if p.is_file()]
    texts += [p.read_text("latin-1") for p in home.rglob("*") if p.is_file()]
    everything = "\n".join(texts)
    assert "622609" in everything  # the masked numbers are there, so the scan saw real output
    for card in load_cards():
        assert card.pan not in everything, card.name
    assert _luhn_runs(everything) == []
