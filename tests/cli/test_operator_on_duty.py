"""``--operator`` is checked against the lane's operators before anything reaches the terminal.

Real processes (``python -m terminal``) on real SQLite files: the journal and the
simulator's books in the test's data directory. While no operator is set up any
well-formed id is journaled as given (first use, ``make demo``); once an admin has
added operators, an unknown, removed or locked one is refused with exit 2 naming
the id, audited, and neither the journal's money nor the simulator's books change.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from terminal.cli.paths import data_paths
from terminal.journal import Journal
from tests.lane import additions, money_seen


def terminal(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "terminal", *args], input=stdin, text=True,
                          capture_output=True, timeout=120)


def audit_trail() -> list[tuple[str | None, str, str | None, str]]:
    shown = terminal("audit", "--json")
    assert shown.returncode == 0, shown.stderr
    return [(r["operator"], r["action"], r["authorised_by"], r["outcome"])
            for r in json.loads(shown.stdout)]


def refused(*args: str, operator: str | None, why: str, stdin: str | None = None) -> dict:
    """Run a money command that must be refused for its operator; nothing may move."""
    before = money_seen()
    outcome = terminal(*args, "--json", stdin=stdin)
    assert outcome.returncode == 2, outcome.stderr
    shown = json.loads(outcome.stdout)
    assert (shown["operator"], shown["operator_refused"]) == (operator, why)
    named = f"operator {operator} ({'--operator' if '--operator' in args else ''}"
    assert (named if operator else "names no operator") in outcome.stderr
    assert "nothing sent" in outcome.stderr
    assert money_seen() == before, "something reached the terminal or the journal's money"
    return shown


@pytest.fixture
def staff():
    """An admin, a supervisor and a cashier; then a sale rung up by the cashier."""
    for args, stdin in additions("carl"):
        added = terminal(*args, stdin=stdin)
        assert added.returncode == 0, added.stderr
    paid = terminal("sale", "10.00", "--operator", "carl", "--json")
    assert paid.returncode == 0, paid.stderr
    return json.loads(paid.stdout)


def test_with_no_operators_set_up_any_operator_id_rings_up_as_given():
    outcome = terminal("sale", "1.00", "--operator", "newbie", "--json")
    assert outcome.returncode == 0, outcome.stderr
    with Journal(data_paths().journal) as journal:
        assert [e.operator for e in journal.entries() if e.kind.value == "sale"] == ["newbie"]
    default = terminal("sale", "2.00", "--json")
    assert default.returncode == 0, default.stderr


def test_with_no_operators_set_up_a_malformed_operator_id_is_still_refused():
    outcome = terminal("sale", "1.00", "--operator", "carl smith", "--json")
    assert outcome.returncode == 2
    assert json.loads(outcome.stdout)["operator_refused"] == "malformed"
    assert money_seen() == (0, 0)


def test_an_unknown_operator_is_refused_before_the_terminal_and_audited(staff):
    shown = refused("sale", "1.00", "--operator", "carll", operator="carll", why="unknown")
    assert "terminal operator add carll" in shown["error"]
    assert ("carll", "sale", None, "operator-unknown") in audit_trail()


def test_a_removed_operator_can_no_longer_ring_up(staff):
    removed = terminal("operator", "remove", "carl", "--admin", "boss", "--password-stdin",
                       stdin="boss-pw\n")
    assert removed.returncode == 0, removed.stderr
    refused("sale", "1.00", "--operator", "carl", operator="carl", why="removed")
    assert ("carl", "sale", None, "operator-removed") in audit_trail()


def test_a_locked_operator_is_refused_until_an_admin_unlocks_them(staff):
    for _ in range(5):  # five wrong passwords as the authorising supervisor lock sue
        terminal("settle", "--operator", "carl", "--supervisor", "sue", "--password-stdin",
                 stdin="wrong\n")
    refused("sale", "1.00", "--operator", "sue", operator="sue", why="locked")
    unlocked = terminal("operator", "unlock", "sue", "--admin", "boss", "--password-stdin",
                        stdin="boss-pw\n")
    assert unlocked.returncode == 0, unlocked.stderr
    again = terminal("sale", "1.00", "--operator", "sue", "--json")
    assert again.returncode == 0, again.stderr


def test_the_configs_default_operator_is_checked_like_a_given_one(staff):
    config = Path(os.environ["TERMINAL_CONFIG"])
    config.write_text('[operators]\ndefault_operator = "cashier9"\n', encoding="utf-8")
    shown = refused("sale", "1.00", operator="cashier9", why="unknown")
    assert "default_operator" in shown["error"]
    config.write_text('[operators]\ndefault_operator = "carl"\n', encoding="utf-8")
    assert terminal("sale", "1.00").returncode == 0


def test_once_operators_are_set_up_a_sale_naming_no_operator_is_refused(staff):
    refused("sale", "1.00", operator=None, why="missing")
    assert (None, "sale", None, "operator-missing") in audit_trail()


def test_a_refund_by_an_unknown_operator_is_refused_before_the_supervisor_is_asked(staff):
    refused("refund", "1.00", "--rrn", staff["rrn"], "--reason", "returned", "--operator",
            "nobody", "--supervisor", "sue", "--password-stdin", stdin="sue-pw\n",
            operator="nobody", why="unknown")
    trail = audit_trail()
    assert ("nobody", "refund", None, "operator-unknown") in trail
    assert not [r for r in trail if r[1] == "refund" and r[3] == "authorised"]


@pytest.mark.parametrize("command", [
    pytest.param(("void", "--rrn", "{rrn}", "--supervisor", "sue", "--password-stdin"),
                 id="void"),
    pytest.param(("preauth", "cancel", "--rrn", "{rrn}"), id="preauth-cancel"),
    pytest.param(("settle", "--supervisor", "sue", "--password-stdin"), id="settle"),
])
def test_every_command_that_takes_an_operator_checks_it(staff, command):
    args = [word.format(rrn=staff["rrn"]) for word in command]
    refused(*args, "--operator", "ghost", stdin="sue-pw\n", operator="ghost", why="unknown")


def test_a_known_cashier_with_a_supervisor_still_refunds(staff):
    outcome = terminal("refund", "4.00", "--rrn", staff["rrn"], "--reason", "returned",
                       "--operator", "carl", "--supervisor", "sue", "--password-stdin",
                       "--json", stdin="sue-pw\n")
    assert outcome.returncode == 0, outcome.stderr
    with Journal(data_paths().journal) as journal:
        refunds = [e for e in journal.entries() if e.kind.value == "refund"]
    assert [(e.operator, e.supervisor, e.amount_fen) for e in refunds] == [("carl", "sue", 400)]
