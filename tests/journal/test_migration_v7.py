"""A journal written at schema version 6 taken to version 7 in place.

The file is a real one: made by the program as it was at version 6
(``data/make_journal_v6.sh``) with all-digit operator ids, cashier 4000100 and
supervisor 700117. Version 6 wrote them side by side (a void's and a refund's row,
their audit rows) and the lane with the cashier's id in the operators' unique key:
runs of 13 and 15 digits that pass the Luhn check. After the upgrade the file holds
none, its chain holds with the same head (no record added, none re-hashed), every
row still matches its last record, and the cashier and supervisor work as before.
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

from terminal.journal import SCHEMA_VERSION, Journal
from terminal.journal.chain import CHAINED_COLUMNS, FUNCTIONS, row_json_sql, verify
from terminal.operators import Operators, Role
from tests.leaks.scanner import DEFAULT_MODES, scan_bytes

DATA = Path(__file__).parent / "data"
LANE = "10008060"
CASHIER, SUPERVISOR = "4000100", "700117"


@pytest.fixture
def v6_journal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = Path(os.environ["TERMINAL_DATA_DIR"])
    (data / "simulator").mkdir(parents=True)
    shutil.copyfile(DATA / "journal-v6.sqlite3", data / "journal.sqlite3")
    shutil.copyfile(DATA / "books-v6.sqlite3", data / "simulator" / "books.sqlite3")
    key = tmp_path / "token.key"
    key.write_bytes(bytes(range(32)))
    monkeypatch.setenv("TERMINAL_TOKEN_KEY_FILE", str(key))
    return data / "journal.sqlite3"


def _rows(db: sqlite3.Connection) -> dict[str, list[tuple]]:
    """Each chained table's rows as their chain records show them (the order of columns
    is no part of a record)."""
    return {table: [tuple(row) for row in db.execute(
        f"SELECT t.id, {row_json_sql(table, 't')} FROM {table} AS t ORDER BY t.id")]
        for table in CHAINED_COLUMNS}


def _raw(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(path.parent.glob("journal.sqlite3*")))


def test_the_version_6_file_runs_operator_ids_into_card_like_numbers(v6_journal):
    with sqlite3.connect(v6_journal) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 6
    found = scan_bytes(_raw(v6_journal), mode=DEFAULT_MODES)
    # Two rows of entries, two of audit (cashier then supervisor), the unique key.
    assert sorted(f.length for f in found) == [13, 13, 13, 13, 15], [str(f) for f in found]


def test_migration_keeps_the_chain_head_and_every_row_as_its_record_shows_it(v6_journal):
    with sqlite3.connect(v6_journal) as db:
        for name, function in FUNCTIONS.items():  # what the chain's SQL calls
            db.create_function(name, -1, function)
        head = db.execute("SELECT hash FROM chain ORDER BY seq DESC LIMIT 1").fetchone()[0]
        records = db.execute("SELECT count(*) FROM chain").fetchone()[0]
        before = _rows(db)
    with Journal(v6_journal) as journal:
        db = journal.connection
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        result = verify(db)
        assert result.ok, result.problems
        assert (result.head, result.records) == (head, records)  # nothing re-chained
        assert _rows(db) == before
        order = [row[1] for row in db.execute("PRAGMA table_info(entries)")]
    assert order.index("operator") + 2 == order.index("supervisor")


def test_the_migrated_file_read_raw_holds_no_card_like_run(v6_journal):
    with Journal(v6_journal) as journal:
        journal.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert [str(f) for f in scan_bytes(_raw(v6_journal), mode=DEFAULT_MODES)] == []


def test_names_stay_unique_per_lane_and_passwords_still_work(v6_journal):
    with Journal(v6_journal) as journal:
        staff = Operators(journal, LANE)
        assert staff.authorise(SUPERVISOR, "sue-secret", role=Role.SUPERVISOR,
                               action="void", operator=CASHIER).name == SUPERVISOR
        db = journal.connection
        row = db.execute("SELECT lane, role, created_at, salt, password_hash, updated_at,"
                         " failures, locked, removed FROM operators WHERE name = ?",
                         (CASHIER,)).fetchone()
        with pytest.raises(sqlite3.IntegrityError):
            db.execute("INSERT INTO operators (lane, role, created_at, salt, name,"
                       " password_hash, updated_at, failures, locked, removed)"
                       " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (*row[:4], CASHIER, *row[4:]))
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert f"{CASHIER}:{LANE}".encode() in _raw(v6_journal)  # the key as the index keeps it


def _terminal(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "terminal", *args], input=stdin, text=True,
                          capture_output=True, env=os.environ.copy(), timeout=120)


def test_a_void_after_the_upgrade_writes_rows_no_scanner_reads_a_card_number_into(v6_journal):
    sale = _terminal("sale", "43.21", "--operator", CASHIER, "--json")
    assert sale.returncode == 0, sale.stdout + sale.stderr
    void = _terminal("void", "--rrn", json.loads(sale.stdout)["rrn"], "--operator", CASHIER,
                     "--supervisor", SUPERVISOR, "--password-stdin", stdin="sue-secret\n")
    assert void.returncode == 0, void.stdout + void.stderr
    with Journal(v6_journal) as journal:
        db = journal.connection
        assert verify(db).ok
        voids = db.execute("SELECT count(*) FROM entries WHERE kind = 'void'"
                           " AND operator = ? AND supervisor = ?", (CASHIER, SUPERVISOR))
        assert voids.fetchone()[0] == 2
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert [str(f) for f in scan_bytes(_raw(v6_journal), mode=DEFAULT_MODES)] == []
