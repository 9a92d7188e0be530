"""The embedded simulator keeps its books between CLI runs; paths, reset and usage errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from terminal.cli.app import app
from tests.lane import add_staff

runner = CliRunner()
#: Voids, refunds and settlements need a supervisor's password (issue 8); refunds a reason.
AUTHORISED = {"void": [], "refund": ["--reason", "returned"], "settle": []}


@pytest.fixture(autouse=True)
def _supervisor():
    # Once operators are set up each sale names one: the shop's default cashier.
    add_staff("cashier1", default="cashier1")


def _invoke(*args: str):
    extra = AUTHORISED.get(args[0])
    if extra is None:
        return runner.invoke(app, list(args))
    return runner.invoke(app, [*args, *extra, "--supervisor", "sue", "--password-stdin"],
                         input="sue-pw\n")


def _json(*args: str):
    outcome = _invoke(*args, "--json")
    return outcome.exit_code, json.loads(outcome.stdout)


def test_a_sale_in_one_run_is_voided_in_the_next_on_the_default_simulator():
    code, sale = _json("sale", "8.00")
    assert code == 0
    code, void = _json("void", "--rrn", sale["rrn"])
    assert (code, void["approved"], void["original"]["trace"]) == (0, True, sale["trace"])
    books = Path(os.environ["TERMINAL_DATA_DIR"]) / "simulator" / "books.sqlite3"
    assert books.exists()


def test_require_sign_on_is_met_by_a_sign_on_in_an_earlier_run(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[simulator]\nrequire_sign_on = true\n'
                      '[operators]\ndefault_operator = "cashier1"\n')
    assert runner.invoke(app, ["sign-on", "--config", str(config)]).exit_code == 0
    code, sale = _json("sale", "1.00", "--config", str(config))
    assert (code, sale["response_code"]) == (0, "00")


def test_simulate_reset_forgets_the_books_so_an_old_sale_is_unknown_to_the_acquirer():
    _, sale = _json("sale", "8.00")
    reset = runner.invoke(app, ["simulate", "--reset"])
    assert reset.exit_code == 0 and "removed" in reset.stdout
    code, void = _json("void", "--rrn", sale["rrn"])
    assert (code, void["response_code"]) == (1, "25")  # the journal has it, the acquirer not


def test_simulate_next_card_presents_a_card_once(tmp_path):
    assert runner.invoke(app, ["simulate", "--next-card", "expired"]).exit_code == 0
    assert _json("sale", "1.00")[1]["response_code"] == "54"
    assert _json("sale", "1.00")[1]["response_code"] == "00"
    unknown = runner.invoke(app, ["simulate", "--next-card", "platinum"])
    assert unknown.exit_code == 2 and "platinum" in unknown.output


def test_paths_names_config_journal_token_key_and_simulator_books():
    code, where = _json("paths")
    data = os.environ["TERMINAL_DATA_DIR"]
    assert code == 0
    assert where["journal"] == f"{data}/journal.sqlite3"
    assert where["simulator_books"] == f"{data}/simulator/books.sqlite3"
    assert where["token_key"] == f"{data}/token.key"
    assert where["config"] == os.environ["TERMINAL_CONFIG"]
    text = runner.invoke(app, ["paths"])
    assert "journal" in text.stdout and data in text.stdout


def test_a_reference_must_be_named_once_and_well_formed():
    for args in (
        ["void"],
        ["void", "--rrn", "1"],
        ["void", "--rrn", "123456789012", "--trace", "1"],
        ["refund", "1.00", "--trace", "x"],
        ["reverse", "--trace", "1234567"],
        ["preauth", "complete", "--rrn", "123456789012"],
        ["refund", "-1", "--trace", "1"],
    ):
        outcome = runner.invoke(app, args)
        assert outcome.exit_code == 2, args


def test_settle_counts_completions_apart_from_sales_and_sends_them_as_debits():
    _json("sale", "20.00")
    _, held = _json("preauth", "10.00")
    _, done = _json("preauth", "complete", "8.00", "--rrn", held["rrn"])
    assert done["transaction"] == "preauth_complete"
    code, shown = _json("settle")
    assert code == 0
    assert shown["totals"]["sales"] == {"count": 1, "amount_fen": 2_000}
    assert shown["totals"]["completions"] == {"count": 1, "amount_fen": 800}
    assert (shown["totals"]["net_fen"], shown["totals"]["balanced"]) == (2_800, True)


def test_settle_prints_completions_on_their_own_line():
    _json("sale", "20.00")
    _, held = _json("preauth", "10.00")
    _json("preauth", "complete", "8.00", "--rrn", held["rrn"])
    lines = _invoke("settle").stdout.splitlines()
    assert any("sales" in line and "20.00" in line for line in lines)
    assert any("completions" in line and "8.00" in line for line in lines)
    assert any("net" in line and "28.00" in line for line in lines)


def test_settle_prints_the_totals_apart_and_the_net():
    _, sale = _json("sale", "20.00")
    assert _invoke("refund", "5.00", "--rrn", sale["rrn"]).exit_code == 0
    _, other = _json("sale", "3.00")
    assert _invoke("void", "--rrn", other["rrn"]).exit_code == 0
    shown = _invoke("settle")
    assert shown.exit_code == 0
    lines = shown.stdout.splitlines()
    assert lines[0].startswith("SIMULATOR")
    assert any("sales" in line and "20.00" in line for line in lines)
    assert any("voids" in line and "3.00" in line for line in lines)
    assert any("refunds" in line and "5.00" in line for line in lines)
    assert any("net" in line and "15.00" in line for line in lines)
    assert any("balanced" in line for line in lines)
