"""One POS lane as the CLI tests set it up and read it back: its staff and its money.

Voids, refunds and settlements need a supervisor's password (issue 8), and once any
operator is set up each sale names one; so the tests of those commands start by
adding the same staff, and the tests of refusals check that neither the simulator's
books nor the journal gained an entry. Both live here so that every such test sets
up the same lane and reads it the same way.
"""

from __future__ import annotations

import os
from pathlib import Path

from typer.testing import CliRunner

from simulator.ledger import Ledger
from terminal.cli.app import app
from terminal.cli.paths import data_paths
from terminal.journal import Journal

ADMIN = "boss"
SUPERVISOR = "sue"
#: The cashier a sale names when it names none (see :func:`name_default_operator`).
DEFAULT_CASHIER = "cashier1"

_runner = CliRunner()


def password(operator: str) -> str:
    """Every operator of the tests' lanes has the password ``<id>-pw``."""
    return f"{operator}-pw"


def additions(*cashiers: str) -> list[tuple[list[str], str]]:
    """``terminal`` arguments and stdin adding the admin, the supervisor, then ``cashiers``.

    The admin comes first: the first admin is added freely, every later operator on
    the admin's password.
    """
    steps = [(["operator", "add", ADMIN, "--role", "admin", "--password-stdin"],
              f"{password(ADMIN)}\n")]
    for operator, role in ((SUPERVISOR, "supervisor"), *((c, "cashier") for c in cashiers)):
        steps.append((["operator", "add", operator, "--role", role, "--admin", ADMIN,
                       "--password-stdin"], f"{password(ADMIN)}\n{password(operator)}\n"))
    return steps


def name_default_operator(operator: str = DEFAULT_CASHIER) -> None:
    """Write the config file ``$TERMINAL_CONFIG`` names: ``operator`` rings up unnamed sales."""
    Path(os.environ["TERMINAL_CONFIG"]).write_text(
        f'[operators]\ndefault_operator = "{operator}"\n', encoding="utf-8")


def add_staff(*cashiers: str, default: str | None = DEFAULT_CASHIER) -> None:
    """Add the staff in this process (each addition must succeed); then, unless ``default``
    is None, name the operator who rings up sales that name none."""
    for args, stdin in additions(*cashiers):
        outcome = _runner.invoke(app, args, input=stdin)
        assert outcome.exit_code == 0, outcome.output
    if default is not None:
        name_default_operator(default)


def money_seen() -> tuple[int, int]:
    """(entries in the simulator's books, entries in the journal) in the data directory."""
    books = Ledger(data_paths().simulator_books)
    try:
        booked = len(books)
    finally:
        books.close()
    with Journal(data_paths().journal) as journal:
        return booked, len(journal.entries())
