"""Money back goes only to the card that paid: a real card swap, through the CLI.

The original sale is paid with one simulator card profile; the void or refund is
presented with another (``--card`` on ``sim://``, or ``terminal simulate
--next-card`` beside a ``terminal simulate --pty`` in its own process). The host
cannot know the card before it sends (the terminal reads it inside the exchange,
the request carries no card data); the acquirer refuses another card (25) and
names the card it read, and the host tells the cashier it is the wrong card. The
journal keeps the declined attempt with the presented card's masked number, and
no money moves: the simulator's books, what is left to refund and the settlement
figures stay as they were. Presented with the card that paid, it goes through.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.ledger import Ledger
from terminal.cli.paths import data_paths
from terminal.journal import Journal
from tests.lane import additions
from tests.simulator_process import simulator_process

PAID_WITH, OTHER_CARD = "contactless", "approved"


def terminal(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "terminal", *args], input=stdin, text=True,
                          capture_output=True, timeout=120)


def booked(books: Path) -> int:
    ledger = Ledger(books)
    try:
        return len(ledger)
    finally:
        ledger.close()


def money_entries() -> list[tuple[str, str, int | None, str | None]]:
    """(kind, state, amount, masked card) of every void and refund in the journal."""
    with Journal(data_paths().journal) as journal:
        return [(e.kind.value, e.state.value, e.amount_fen, e.card_masked)
                for e in journal.entries() if e.kind.value in ("void", "refund")]


@pytest.fixture
def supervisor():
    for args, stdin in additions():
        added = terminal(*args, stdin=stdin)
        assert added.returncode == 0, added.stderr
    return ["--operator", "sue", "--supervisor", "sue", "--password-stdin"]


def back(command: str, sale: dict, port: list[str], supervisor: list[str], *card: str):
    """A void, or a refund of 10.00, of ``sale`` with the card options given."""
    amount = ["10.00", "--reason", "returned"] if command == "refund" else []
    return terminal(command, *amount, "--rrn", sale["rrn"], *port, *card, *supervisor,
                    "--json", stdin="sue-pw\n")


def assert_wrong_card(outcome, sale: dict, command: str, books: Path, before: int) -> None:
    assert outcome.returncode == 1, outcome.stderr
    shown = json.loads(outcome.stdout)
    assert (shown["wrong_card"], shown["transaction"], shown["response_code"]) == (
        True, command, "25")
    assert shown["original_card"] == sale["card"] and shown["card"] != sale["card"]
    assert "非原交易卡" in outcome.stderr and "wrong card" in outcome.stderr
    assert sale["card"] in outcome.stderr and "nothing moved" in outcome.stderr
    assert booked(books) == before, "the simulator booked the other card's money"
    assert money_entries() == [(command, "declined", sale["amount_fen"] if command == "void"
                                else 1000, shown["card"])]
    status = json.loads(terminal("status", "--rrn", sale["rrn"], "--json").stdout)
    assert (status["refunded_fen"], status["refundable_fen"]) == (0, sale["amount_fen"])


@pytest.mark.parametrize("command", ["refund", "void"])
def test_money_back_to_another_card_on_sim_is_refused_as_the_wrong_card(supervisor, command):
    books = data_paths().simulator_books
    paid = terminal("sale", "25.00", "--card", PAID_WITH, "--operator", "sue", "--json")
    assert paid.returncode == 0, paid.stderr
    sale = json.loads(paid.stdout)
    before = booked(books)
    swapped = back(command, sale, [], supervisor, "--card", OTHER_CARD)
    assert_wrong_card(swapped, sale, command, books, before)
    right = back(command, sale, [], supervisor, "--card", PAID_WITH)
    assert right.returncode == 0, right.stderr
    assert json.loads(right.stdout)["card"] == sale["card"]


def test_a_refund_to_another_card_over_a_real_pty_is_refused_and_the_paying_card_accepted(
    supervisor, tmp_path,
):
    books = tmp_path / "books.sqlite3"
    with simulator_process("--pty", "--ledger", str(books)) as path:
        def present(card: str) -> None:
            chosen = terminal("simulate", "--next-card", card, "--ledger", str(books))
            assert chosen.returncode == 0, chosen.stderr

        present(PAID_WITH)
        paid = terminal("sale", "25.00", "--port", path, "--operator", "sue", "--json")
        assert paid.returncode == 0, paid.stderr
        sale = json.loads(paid.stdout)
        before = booked(books)
        present(OTHER_CARD)
        swapped = back("refund", sale, ["--port", path], supervisor)
        assert_wrong_card(swapped, sale, "refund", books, before)
        present(PAID_WITH)
        right = back("refund", sale, ["--port", path], supervisor)
        assert right.returncode == 0, right.stderr
    assert booked(books) == before + 1
