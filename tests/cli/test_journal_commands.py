"""The journal read back from the command line: verify, export, lookup, status, audit,
operators and recover, on the journal the CLI's own sales wrote."""

from __future__ import annotations

import json
from datetime import date

import pytest
from typer.testing import CliRunner

from simulator import load_cards
from terminal.cli.app import app
from terminal.cli.paths import data_paths
from terminal.digest_text import parse_hex
from tests.journal.tamper import tamper
from tests.leaks.scanner import scan_bytes

runner = CliRunner()


def run(*args: str, stdin: str | None = None):
    return runner.invoke(app, list(args), input=stdin)


def sale(amount: str, card: str = "approved") -> dict:
    outcome = run("sale", amount, "--card", card, "--json")
    assert outcome.exit_code in (0, 1), outcome.output
    return json.loads(outcome.stdout)


def test_an_untouched_journal_verifies_with_exit_0():
    sale("12.34")
    sale("1.00")
    outcome = run("journal", "verify", "--json")
    assert outcome.exit_code == 0, outcome.output
    report = json.loads(outcome.stdout)
    assert report["ok"] is True and report["problems"] == []
    assert len(parse_hex(report["head"])) == 32


@pytest.mark.parametrize(
    ("statements", "expected"),
    [
        (["UPDATE entries SET amount_fen = 1 WHERE id = 2"], [("entries:2", "edited: amount_fen")]),
        (["DELETE FROM entries WHERE id = 3"], [("entries:3", "deleted")]),
        (["INSERT INTO entries (lane, kind, state, mti, trace, batch, amount_fen, request,"
          " created_at) VALUES ('10008060', 'refund', 'approved', '0220', '000099', '000001',"
          " 99999, '{}', '2026-01-01T00:00:00')"], [("entries:4", "inserted outside the journal")]),
    ],
)
def test_an_edited_deleted_or_inserted_row_is_named_with_exit_1(statements, expected):
    sale("12.34")
    sale("1.00")
    tamper(data_paths().journal, *statements)
    outcome = run("journal", "verify", "--json")
    assert outcome.exit_code == 1, outcome.output
    problems = json.loads(outcome.stdout)["problems"]
    assert [(p["row"], p["problem"]) for p in problems] == expected


def test_a_deleted_chain_record_breaks_the_chain_where_it_was():
    sale("12.34")
    sale("1.00")
    tamper(data_paths().journal, "DELETE FROM chain WHERE seq = 3")
    outcome = run("journal", "verify")
    assert outcome.exit_code == 1
    assert "does not follow the one before it" in outcome.stdout


def test_export_csv_and_json_list_the_day_with_masked_cards_only():
    paid = sale("12.34")
    today = date.today().isoformat()
    as_csv = run("journal", "export", "--from", today, "--to", today, "--format", "csv")
    assert as_csv.exit_code == 0, as_csv.output
    lines = as_csv.stdout.splitlines()
    assert lines[0].startswith("journal_id,terminal_id,created_at,transaction,state")
    assert any(paid["rrn"] in line and ",1234," in line for line in lines[1:])
    as_json = json.loads(run("journal", "export", "--from", today, "--to", today,
                             "--format", "json").stdout)
    assert [row["rrn"] for row in as_json if row["transaction"] == "sale"] == [paid["rrn"]]
    yesterday = date.fromordinal(date.today().toordinal() - 1).isoformat()
    assert json.loads(run("journal", "export", "--from", yesterday, "--to", yesterday,
                          "--format", "json").stdout) == []
    pans = [card.pan for card in load_cards()]
    for text in (as_csv.stdout, json.dumps(as_json)):
        assert not any(pan in text for pan in pans)


def test_no_full_card_number_in_the_journal_file_or_lookup_json():
    for card in ("approved", "contactless", "expired"):
        sale("3.21", card)
    raw = b"".join(p.read_bytes() for p in data_paths().root.glob("journal.sqlite3*"))
    shown = run("lookup", "--json").stdout
    for card in load_cards():
        assert card.pan.encode() not in raw
        assert card.pan not in shown


def test_lookup_by_last4_amount_and_date_finds_the_sale():
    paid = sale("12.34")
    sale("12.35")
    last4 = paid["card"][-4:]
    outcome = run("lookup", "--last4", last4, "--amount", "12.34", "--date",
                  date.today().isoformat(), "--json")
    assert outcome.exit_code == 0, outcome.output
    found = json.loads(outcome.stdout)
    assert [f["rrn"] for f in found] == [paid["rrn"]]
    view = found[0]
    assert view["refundable_fen"] == 1234 and view["refunded_fen"] == 0
    assert view["voided"] is False and view["state"] == "approved"
    for key in ("transaction", "approved", "response_code", "amount_fen", "card", "card_token",
                "rrn", "auth_code", "trace", "batch", "journal_id", "reason", "operator"):
        assert key in view


def test_status_shows_the_original_and_what_can_be_refunded():
    paid = sale("12.34")
    outcome = run("status", "--rrn", paid["rrn"], "--json")
    assert outcome.exit_code == 0, outcome.output
    view = json.loads(outcome.stdout)
    assert view["refundable_fen"] == 1234 and view["followers"] == []
    assert run("status", "--rrn", "000000000000").exit_code == 1


def test_first_admin_is_free_then_every_change_needs_an_admin_password():
    first = run("operator", "add", "boss", "--role", "admin", "--password-stdin", "--json",
                stdin="boss-pw\n")
    assert first.exit_code == 0, first.output
    added = run("operator", "add", "sue", "--role", "supervisor", "--admin", "boss",
                "--password-stdin", stdin="boss-pw\nsue-pw\n")
    assert added.exit_code == 0, added.output
    wrong = run("operator", "add", "carl", "--role", "cashier", "--admin", "boss",
                "--password-stdin", "--json", stdin="nope\ncarl-pw\n")
    assert wrong.exit_code == 4
    assert json.loads(wrong.stdout)["rule"] == "bad-password"
    nobody = run("operator", "remove", "sue", "--json")
    assert nobody.exit_code == 4 and json.loads(nobody.stdout)["rule"] == "needs-supervisor"
    listed = json.loads(run("operator", "list", "--json").stdout)
    assert [(o["operator"], o["role"]) for o in listed] == [
        ("boss", "admin"), ("sue", "supervisor")]
    trail = json.loads(run("audit", "--json").stdout)
    assert [(r["action"], r["outcome"]) for r in trail] == [
        ("operator-add", "done"), ("operator-add", "authorised"), ("operator-add", "done"),
        ("operator-add", "bad-password"), ("operator-remove", "needs-supervisor")]
    assert "boss-pw" not in json.dumps(trail)


def test_the_audit_trail_keeps_the_lane_apart_from_staff_known_by_number():
    # Lane 10008060 and cashier 4000100 joined by one space read as a Luhn-valid number.
    run("operator", "add", "boss", "--role", "admin", "--password-stdin", stdin="boss-pw\n")
    added = run("operator", "add", "4000100", "--role", "cashier", "--admin", "boss",
                "--password-stdin", stdin="boss-pw\ncash-pw\n")
    assert added.exit_code == 0, added.output
    assert run("sale", "8.88", "--operator", "4000100").exit_code == 0
    shown = run("audit")
    assert shown.exit_code == 0 and "4000100" in shown.stdout
    assert [str(f) for f in scan_bytes(shown.stdout.encode())] == []


def test_locked_operator_is_refused_as_locked_out_until_unlocked():
    run("operator", "add", "boss", "--role", "admin", "--password-stdin", stdin="boss-pw\n")
    run("operator", "add", "sue", "--role", "admin", "--admin", "boss", "--password-stdin",
        stdin="boss-pw\nsue-pw\n")
    for _ in range(5):
        run("operator", "list")
        run("operator", "unlock", "boss", "--admin", "sue", "--password-stdin", stdin="bad\n")
    locked = run("operator", "unlock", "boss", "--admin", "sue", "--password-stdin", "--json",
                 stdin="sue-pw\n")
    assert locked.exit_code == 4 and json.loads(locked.stdout)["rule"] == "locked-out"
    freed = run("operator", "unlock", "sue", "--admin", "boss", "--password-stdin",
                stdin="boss-pw\n")
    assert freed.exit_code == 0, freed.output


def test_recover_with_nothing_pending_says_so():
    sale("1.00")
    outcome = run("recover", "--json")
    assert outcome.exit_code == 0, outcome.output
    assert json.loads(outcome.stdout) == {"resolved": True, "entries": []}
