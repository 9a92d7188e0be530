"""A journal written at schema version 3 (digests as hex text) taken to version 4 in place.

The file is a real one: made by the program as it was at version 3
(``data/make_journal_v3.sh``), with two sales, a refund and two operators. After
the upgrade its digests are bytes, its chain still holds with the same head (no
record added, none re-hashed), its card tokens still find their card and its
operators' passwords still work.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from tamper import tamper

from simulator import load_cards
from terminal.card_data import protect_pan
from terminal.digest_text import colon_hex
from terminal.journal import SCHEMA_VERSION, Journal
from terminal.journal.chain import verify
from tests.leaks.scanner import scan_bytes

DATA = Path(__file__).parent / "data"
#: The token key the version 3 file was written with.
KEY = bytes(range(32))
PAN = next(card.pan for card in load_cards() if card.name == "approved")


@pytest.fixture
def v3_journal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = Path(os.environ["TERMINAL_DATA_DIR"])
    (data / "simulator").mkdir(parents=True)
    shutil.copyfile(DATA / "journal-v3.sqlite3", data / "journal.sqlite3")
    shutil.copyfile(DATA / "books-v3.sqlite3", data / "simulator" / "books.sqlite3")
    key = tmp_path / "token.key"
    key.write_bytes(KEY)
    monkeypatch.setenv("TERMINAL_TOKEN_KEY_FILE", str(key))
    return data / "journal.sqlite3"


def _before(path: Path) -> dict:
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 3
        return {
            "head": db.execute("SELECT hash FROM chain ORDER BY seq DESC LIMIT 1").fetchone()[0],
            "records": db.execute("SELECT count(*) FROM chain").fetchone()[0],
            "tokens": dict(db.execute("SELECT id, card_token FROM entries")),
            "salts": dict(db.execute("SELECT name, salt FROM operators")),
        }


def test_the_version_3_file_holds_hex_digests_a_scanner_reads_card_numbers_into(v3_journal):
    with sqlite3.connect(v3_journal) as db:
        kinds = {row[0] for row in db.execute("SELECT typeof(hash) FROM chain")}
        hashes = [row[0] for row in db.execute("SELECT hash FROM chain")]
    assert kinds == {"text"} and all(len(h) == 64 for h in hashes)  # what version 4 changes


def test_migration_keeps_the_chain_head_and_verifies_every_row(v3_journal):
    before = _before(v3_journal)
    with Journal(v3_journal) as journal:
        db = journal.connection
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        result = verify(db)
        assert result.ok, result.problems
        assert result.head == bytes.fromhex(before["head"])  # the head a shop noted still holds
        assert result.records == before["records"]  # nothing re-chained, nothing added
        types = {row[0] for row in db.execute(
            "SELECT typeof(hash) FROM chain UNION SELECT typeof(prev_hash) FROM chain"
            " UNION SELECT typeof(salt) FROM operators"
            " UNION SELECT typeof(password_hash) FROM operators"
            " UNION SELECT typeof(card_token) FROM entries WHERE card_token IS NOT NULL")}
        assert types == {"blob"}
        tokens = dict(db.execute("SELECT id, card_token FROM entries"))
        contents = "".join(row[0] for row in db.execute("SELECT content FROM chain"))
    assert tokens == {k: v and bytes.fromhex(v) for k, v in before["tokens"].items()}
    for hexed in [*before["salts"].values(), *filter(None, before["tokens"].values())]:
        assert hexed not in contents  # shown as colon hex now
        assert colon_hex(bytes.fromhex(hexed)) in contents


def test_a_migrated_journal_still_finds_an_edit_of_a_record_from_before(v3_journal):
    Journal(v3_journal).close()
    tamper(v3_journal, "UPDATE chain SET content = replace(content, '\"amount_fen\":1234,',"
                       " '\"amount_fen\":1243,') WHERE tbl = 'entries'")
    with Journal(v3_journal) as journal:
        result = verify(journal.connection)
    assert not result.ok
    assert any("edited or forged" in p.problem for p in result.problems)


def test_the_migrated_file_read_raw_holds_no_card_like_run(v3_journal):
    """Old rows are rewritten, not left in free pages: the file holds nothing of version 3's
    hex digests or row layout for a scanner to read a card number into."""
    with Journal(v3_journal) as journal:
        journal.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        rows = journal.connection.execute("SELECT content FROM chain").fetchall()
    assert all(scan_bytes(row[0].encode()) == [] for row in rows)
    old_hash = _before_hashes()
    data = b"".join(p.read_bytes() for p in v3_journal.parent.glob("journal.sqlite3*"))
    assert [str(f) for f in scan_bytes(data)] == []
    assert not any(h.encode() in data for h in old_hash)


def _before_hashes() -> list[str]:
    with sqlite3.connect(DATA / "journal-v3.sqlite3") as db:
        return [row[0] for row in db.execute("SELECT hash FROM chain")]


def _terminal(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "terminal", *args], input=stdin, text=True,
                          capture_output=True, env=os.environ.copy(), timeout=120)


def test_tokens_from_before_the_migration_still_find_their_card(v3_journal):
    token = colon_hex(protect_pan(PAN, KEY).token)
    found = _terminal("lookup", "--last4", PAN[-4:], "--json")
    assert found.returncode == 0, found.stderr
    shown = json.loads(found.stdout)
    entries = shown if isinstance(shown, list) else shown.get("entries", shown.get("results"))
    sales = [e for e in entries if e["transaction"] == "sale"]
    assert len(sales) == 2 and {e["card_token"] for e in sales} == {token}
    # The refund's same-card check compares the new sale's token with the stored one,
    # and sue's password is checked against the migrated scrypt salt and hash.
    refund = _terminal("refund", "2.00", "--rrn", sales[0]["rrn"], "--reason", "returned",
                       "--operator", "sue", "--supervisor", "sue", "--password-stdin", "--json",
                       stdin="sue-secret\n")
    assert refund.returncode == 0, refund.stdout + refund.stderr
    assert json.loads(refund.stdout)["card_token"] == token
    wrong = _terminal("refund", "2.00", "--rrn", sales[0]["rrn"], "--reason", "returned",
                      "--operator", "sue", "--supervisor", "sue", "--password-stdin",
                      stdin="not-sues\n")
    assert wrong.returncode == 4, wrong.stdout + wrong.stderr
    with Journal(v3_journal) as journal:
        assert verify(journal.connection).ok
        assert not any(entry.alarm for entry in journal.entries())
