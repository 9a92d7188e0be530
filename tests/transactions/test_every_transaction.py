"""Every transaction of the catalogue, approved and declined, end to end through the CLI.

Each case runs twice: over ``sim://`` (the embedded simulator, its books in the
data directory) and over a real pty served by :class:`simulator.serve.PtySimulator`,
where the card for an exchange is chosen from outside the POS link with
``terminal simulate --next-card`` on the shared books.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from simulator import SimulatedTerminal, SimulatorSettings
from simulator.serve import PtySimulator
from terminal.cli.app import app
from terminal.digest_text import parse_hex
from tests.lane import add_staff

runner = CliRunner()
AUTHORISED = ("void", "refund", "settle")


def _staff() -> None:
    """An admin and the supervisor who authorises voids, refunds and settlements."""
    # Once operators are set up each sale names one: the shop's default cashier.
    add_staff("cashier1", default="cashier1")


class Bench:
    """Runs CLI commands against one simulator, choosing the card per exchange."""

    def __init__(self, transport: str, books: Path, port: str | None) -> None:
        self.transport = transport
        self.books = books
        self.port = port

    def run(self, *args: str, card: str | None = None, port: str | None = None):
        command = [*args, "--json"]
        stdin = None
        # the host's authority (issue 8): a supervisor says yes
        if args[0] in AUTHORISED or args[:2] == ("preauth", "void"):
            command += ["--supervisor", "sue", "--password-stdin"]
            stdin = "sue-pw\n"
        if args[0] == "refund" and "--reason" not in args:
            command += ["--reason", "returned"]
        if self.transport == "sim":
            command += ["--port", port or f"sim://?ledger={self.books}"]
            if card:
                command += ["--card", card]
        else:
            if card:
                chosen = runner.invoke(
                    app, ["simulate", "--next-card", card, "--ledger", str(self.books)]
                )
                assert chosen.exit_code == 0, chosen.output
            command += ["--port", port or self.port]
        outcome = runner.invoke(app, command, input=stdin)
        shown = json.loads(outcome.stdout) if outcome.stdout.strip().startswith("{") else {}
        return outcome.exit_code, shown


@pytest.fixture(params=["sim", "pty"])
def bench(request, tmp_path) -> Iterator[Bench]:
    books = tmp_path / "books.sqlite3"
    _staff()
    if request.param == "sim":
        yield Bench("sim", books, None)
        return
    device = SimulatedTerminal(SimulatorSettings(ledger_file=books))
    with PtySimulator(device) as served:
        yield Bench("pty", books, served.path)
    device.ledger.close()


def _sale(bench, amount="100.00", card=None):
    code, sale = bench.run("sale", amount, card=card)
    assert code == 0, sale
    return sale


def test_sale_approved_and_declined(bench):
    code, shown = bench.run("sale", "12.34")
    assert (code, shown["approved"], shown["moved_money"]) == (0, True, True)
    assert shown["card"] == "622609******0048" and len(parse_hex(shown["card_token"])) == 16
    code, shown = bench.run("sale", "12.34", card="expired")
    assert (code, shown["response_code"], shown["moved_money"]) == (1, "54", False)


def test_void_approved_and_declined_for_another_card(bench):
    sale = _sale(bench)
    code, shown = bench.run("void", "--rrn", sale["rrn"], card="contactless")
    assert (code, shown["response_code"]) == (1, "25")
    code, shown = bench.run("void", "--rrn", sale["rrn"])
    assert (code, shown["transaction"], shown["amount_fen"]) == (0, "void", 10_000)
    assert shown["original"] == {"rrn": sale["rrn"], "trace": sale["trace"],
                                 "batch": sale["batch"], "date": sale["date"]}


def test_refund_approved_in_parts_and_declined_over_the_original(bench):
    sale = _sale(bench)
    code, shown = bench.run("refund", "60.00", "--rrn", sale["rrn"], "--reason", "returned")
    assert (code, shown["transaction"], shown["amount_fen"]) == (0, "refund", 6_000)
    assert shown["original"]["rrn"] == sale["rrn"]
    code, shown = bench.run("refund", "40.01", "--trace", sale["trace"], "--date", sale["date"])
    assert (code, shown["rule"], shown["refundable_fen"]) == (4, "over-refundable", 4_000)
    code, shown = bench.run("refund", "40.00", "--trace", sale["trace"])
    assert code == 0


def test_refund_to_another_card_than_the_one_that_paid_is_refused(bench):
    sale = _sale(bench, card="contactless")
    code, shown = bench.run("refund", "10.00", "--rrn", sale["rrn"], card="approved")
    assert (code, shown["response_code"]) == (1, "25")
    code, _ = bench.run("refund", "10.00", "--rrn", sale["rrn"], card="contactless")
    assert code == 0


def test_balance_approved_and_declined(bench):
    code, shown = bench.run("balance")
    assert code == 0 and shown["balance_fen"] > 0 and shown["moved_money"] is False
    code, shown = bench.run("balance", card="lost")
    assert (code, shown["response_code"]) == (1, "41")


def test_preauth_cancel_complete_and_completion_void(bench):
    code, held = bench.run("preauth", "50.00")
    assert (code, held["transaction"]) == (0, "preauth")
    code, shown = bench.run("preauth", "50.00", card="insufficient")
    assert (code, shown["response_code"]) == (1, "51")
    code, shown = bench.run("preauth", "complete", "60.00", "--rrn", held["rrn"])
    assert (code, shown["response_code"]) == (1, "64")  # over 115 %
    code, done = bench.run("preauth", "complete", "55.00", "--rrn", held["rrn"])
    assert (code, done["transaction"], done["original"]["rrn"]) == (
        0, "preauth_complete", held["rrn"])
    code, shown = bench.run("preauth", "void", "--rrn", done["rrn"], card="contactless")
    assert (code, shown["response_code"]) == (1, "25")
    code, shown = bench.run("preauth", "void", "--rrn", done["rrn"])
    assert (code, shown["transaction"]) == (0, "completion_void")
    code, other = bench.run("preauth", "20.00")
    code, shown = bench.run("preauth", "cancel", "--rrn", other["rrn"], card="expired")
    assert (code, shown["response_code"]) == (1, "25")
    code, shown = bench.run("preauth", "cancel", "--rrn", other["rrn"])
    assert (code, shown["transaction"], shown["amount_fen"]) == (0, "preauth_cancel", 2_000)


def test_network_transactions_approved_and_declined_for_an_unknown_terminal(bench, tmp_path):
    for command in ("sign-on", "echo", "sign-off"):
        code, shown = bench.run(command)
        assert (code, shown["transaction"]) == (0, command.replace("-", "_")), shown
    config = tmp_path / "other.toml"
    config.write_text('[terminal]\nterminal_id = "99999999"\n')
    # The embedded simulator would read --config too: give it its own (empty) one.
    own = tmp_path / "simulator.toml"
    own.write_text("")
    port = f"sim://?ledger={bench.books}&config={own}" if bench.transport == "sim" else None
    for command in ("sign-on", "echo", "sign-off"):
        code, shown = bench.run(command, "--config", str(config), port=port)
        assert (code, shown["response_code"]) == (1, "97"), command


def test_reversal_approved_and_declined_when_the_acquirer_never_booked_it(bench, tmp_path):
    sale = _sale(bench)
    code, shown = bench.run("reverse", "--trace", sale["trace"])
    assert (code, shown["transaction"], shown["original"]["trace"]) == (
        0, "reversal", sale["trace"])
    code, shown = bench.run("void", "--rrn", sale["rrn"])
    assert (code, shown["rule"]) == (4, "original-not-approved")  # reversed
    other = _sale(bench)
    fresh = f"sim://?ledger={tmp_path / 'other-books.sqlite3'}"
    if bench.transport == "sim":
        code, shown = bench.run("reverse", "--trace", other["trace"], port=fresh)
        assert (code, shown["response_code"]) == (1, "25")


def test_settlement_balanced_and_not_balanced(bench, tmp_path):
    sale = _sale(bench, "30.00")
    bench.run("refund", "5.00", "--rrn", sale["rrn"])
    code, shown = bench.run("settle")
    assert code == 0
    assert shown["totals"]["sales"] == {"count": 1, "amount_fen": 3_000}
    assert shown["totals"]["refunds"] == {"count": 1, "amount_fen": 500}
    assert (shown["totals"]["net_fen"], shown["totals"]["balanced"]) == (2_500, True)
    code, shown = bench.run("void", "--rrn", sale["rrn"])
    assert (code, shown["rule"]) == (4, "settled-batch")  # the host's rule, before the wire
    if bench.transport == "sim":
        # Books the acquirer does not share: totals differ, the batch is uploaded.
        _sale(bench, "7.00")
        fresh = f"sim://?ledger={tmp_path / 'other-books.sqlite3'}"
        code, shown = bench.run("settle", port=fresh)
        assert code == 0
        assert (shown["totals"]["balanced"], shown["totals"]["uploaded"]) == (False, 1)


def test_a_wrong_reference_is_refused_before_anything_is_sent(bench):
    code, shown = bench.run("void", "--rrn", "000000000000")
    assert (code, shown["rule"]) == (4, "original-not-found")
    code, _ = bench.run("refund", "1.00")
    assert code == 2


def test_card_b_cannot_take_the_refund_of_card_as_sale_on_a_separately_run_pty_simulator(
    tmp_path,
):
    """``terminal simulate --pty`` in its own process; the card of each exchange chosen
    from a third process with ``terminal simulate --next-card`` on the shared books."""
    books = tmp_path / "books.sqlite3"
    _staff()
    server = subprocess.Popen(
        [sys.executable, "-m", "terminal", "simulate", "--pty", "--ledger", str(books)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ},
    )
    try:
        path = server.stdout.readline().split()[3]
        pty = Bench("pty", books, path)
        code, sale = pty.run("sale", "40.00", card="contactless")
        assert (code, sale["card"]) == (0, "622609******0089")
        code, shown = pty.run("refund", "40.00", "--rrn", sale["rrn"], card="approved")
        assert (code, shown["response_code"]) == (1, "25")
        code, shown = pty.run("refund", "40.00", "--rrn", sale["rrn"], card="contactless")
        assert (code, shown["response_code"], shown["card"]) == (0, "00", "622609******0089")
    finally:
        server.terminate()
        server.communicate(timeout=10)
    assert server.returncode == 0
