"""A card number typed into free text is refused before it is journaled, sent or said again.

Through the command line (typer's runner, in this process, so that every log record
at DEBUG is caught) on a lane with staff and a sale, its journal a real SQLite file
held open by a reader so that its write-ahead log stays on disk. After each refusal
the number is looked for, typed as given or as a scanner reads it, in every output,
the log and every file under the data directory and the config's folder, read raw.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from terminal.cli.app import app
from terminal.cli.paths import data_paths
from terminal.journal import Journal, audit
from tests.lane import add_staff, money_seen, password
from tests.leaks.scanner import luhn_valid
from tests.typed_cards import card_number, failing_luhn, leaked, typed_forms

runner = CliRunner()
PAN = card_number("622202")
FORMS = ["plain", "spaced", "dashed"]
SUPERVISED = ["--supervisor", "sue", "--password-stdin"]


class Lane:
    """The lane's staff (boss, sue, carl), one sale by carl, and everything said since."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        self.caplog = caplog
        self.outputs: list[str] = []
        add_staff("carl", default="carl")
        sold = self.run("sale", "10.00", "--json")
        assert sold.exit_code == 0, sold.output
        self.rrn = json.loads(sold.stdout)["rrn"]

    def run(self, *args: str, stdin: str | None = None):
        outcome = runner.invoke(app, ["-vv", *args], input=stdin)
        self.outputs += [outcome.stdout, outcome.stderr]
        return outcome

    def refused(self, *args: str, says: str, stdin: str | None = None) -> dict | str:
        """Run a command that must exit 2 saying ``says``, with nothing journaled or sent."""
        before, trail = money_seen(), self.audit()
        outcome = self.run(*args, stdin=stdin)
        assert outcome.exit_code == 2, outcome.output
        assert says in outcome.output
        assert money_seen() == before, "something reached the terminal or the journal's money"
        assert self.audit()[:len(trail)] == trail
        return json.loads(outcome.stdout) if "--json" in args else outcome.output

    def audit(self) -> list[audit.AuditRecord]:
        with Journal(data_paths().journal) as journal:
            return audit.trail(journal.connection)

    def leaked(self, number: str = PAN) -> list[str]:
        home = Path(os.environ["TERMINAL_CONFIG"]).parent
        return leaked(number, [*self.outputs, self.caplog.text], [home, data_paths().root])


@pytest.fixture
def lane(caplog):
    caplog.set_level(logging.DEBUG)
    made = Lane(caplog)
    # A reader held open, as a back-office tool would: the journal's WAL stays on disk.
    reader = sqlite3.connect(data_paths().journal)
    reader.execute("SELECT count(*) FROM entries").fetchone()
    yield made
    assert Path(f"{data_paths().journal}-wal").exists()
    reader.close()


def _mobile(country: str = "") -> str:
    """A mobile number (11 digits) whose form with ``country`` before it fails the Luhn check."""
    return next(m for m in (f"139{n:08d}" for n in range(100)) if not luhn_valid(country + m))


# -- the refund note ----------------------------------------------------------------


@pytest.mark.parametrize("form", FORMS)
def test_a_refund_note_holding_a_card_number_is_refused_before_anything_is_journaled(
        lane, form):
    note = f"customer paid with card {typed_forms(PAN)[form]} by mistake"
    shown = lane.refused("refund", "1.00", "--rrn", lane.rrn, "--reason", "other", "--note",
                         note, *SUPERVISED, "--json", stdin=password("sue") + "\n",
                         says="--note must not hold a card number")
    assert shown["exit_code"] == 2
    assert lane.leaked() == []


def test_a_refund_note_with_sixteen_digits_that_fail_the_luhn_check_is_refused(lane):
    wrong = failing_luhn(PAN)
    lane.refused("refund", "1.00", "--rrn", lane.rrn, "--reason", "other", "--note",
                 f"ref {wrong}", *SUPERVISED, stdin=password("sue") + "\n",
                 says="--note must not hold a card number")
    assert lane.leaked(wrong) == []


def test_a_refund_note_with_a_mobile_number_is_journaled_as_typed(lane):
    notes = [f"call {_mobile()}", f"call +86 {_mobile('86')}"]
    for note in notes:
        refunded = lane.run("refund", "1.00", "--rrn", lane.rrn, "--reason", "other", "--note",
                            note, *SUPERVISED, "--json", stdin=password("sue") + "\n")
        assert refunded.exit_code == 0, refunded.output
    with Journal(data_paths().journal) as journal:
        kept = [e.refund_note for e in journal.entries() if e.kind.value == "refund"]
    assert kept == notes
    files = [p for p in data_paths().root.rglob("*") if p.is_file()]
    assert any(notes[0].encode() in p.read_bytes() for p in files)  # the raw read sees notes
    assert lane.leaked() == []  # and no card-like run anywhere


# -- operator ids -------------------------------------------------------------------


@pytest.mark.parametrize("form", FORMS)
def test_operator_add_refuses_a_card_number_as_the_new_id(lane, form):
    lane.refused("operator", "add", typed_forms(PAN)[form], "--role", "cashier", "--admin",
                 "boss", "--password-stdin", stdin=f"{password('boss')}\nnew-pw\n",
                 says="must not be a card number")
    listed = lane.run("operator", "list", "--json")
    assert [op["operator"] for op in json.loads(listed.stdout)] == ["boss", "carl", "sue"]
    assert lane.leaked() == []


@pytest.mark.parametrize("command", ["passwd", "unlock", "remove"])
def test_every_operator_command_refuses_a_card_number_as_its_id(lane, command):
    lane.refused("operator", command, PAN, "--admin", "boss", "--password-stdin",
                 stdin=f"{password('boss')}\nnew-pw\n", says="must not be a card number")
    assert lane.leaked() == []


def test_a_card_number_as_the_admin_is_refused_before_a_password_is_asked(lane):
    lane.refused("operator", "add", "dora", "--role", "cashier", "--admin", PAN,
                 "--password-stdin", stdin="x\ny\n", says="--admin: an operator id must not")
    assert lane.leaked() == []


@pytest.mark.parametrize("form", FORMS)
def test_a_card_number_as_the_cashier_is_refused_with_exit_2_and_audited_without_it(
        lane, form):
    shown = lane.refused("sale", "1.00", "--operator", typed_forms(PAN)[form], "--json",
                         says="--operator: an operator id must not be a card number")
    assert (shown["operator"], shown["operator_refused"]) == (None, "malformed")
    last = lane.audit()[-1]
    assert (last.operator, last.outcome) == (None, "operator-malformed")
    assert lane.leaked() == []


def test_a_card_number_as_the_supervisor_is_refused_before_a_password_is_asked(lane):
    lane.refused("void", "--rrn", lane.rrn, "--supervisor", PAN, "--password-stdin",
                 stdin=password("sue") + "\n", says="--supervisor: an operator id must not")
    assert lane.leaked() == []


# -- the config file ----------------------------------------------------------------------


@pytest.mark.parametrize(("table", "key"), [("terminal", "merchant_name"),
                                            ("operators", "default_operator")])
def test_a_card_number_in_a_config_text_is_refused_naming_the_key(lane, tmp_path, table, key):
    config = tmp_path / "config.toml"
    config.write_text(f'[{table}]\n{key} = "{typed_forms(PAN)["spaced"]}"\n', encoding="utf-8")
    lane.refused("sale", "1.00", "--config", str(config),
                 says=f"[{table}] {key} must not hold a card number")
    # The file holds the number (as typed there); nothing else does.
    assert leaked(PAN, [*lane.outputs, lane.caplog.text], [data_paths().root]) == []


# -- keys typed to find a transaction --------------------------------------------------------


def test_a_card_number_typed_as_an_rrn_is_not_said_again(lane):
    lane.refused("status", "--rrn", PAN, "--json", says="--rrn must not hold a card number")
    reprint = lane.run("reprint", "--rrn", typed_forms(PAN)["spaced"], "--json")
    assert reprint.exit_code == 2
    assert lane.leaked() == []
