"""The journal file read raw: what SQLite writes side by side must not read as a card number."""

from __future__ import annotations

import sqlite3

from terminal.journal import Journal
from tests.leaks.scanner import luhn_valid, scan_paths

LANE = "10008060"
#: Digits a column's value can start and end with (a timestamp: 2026-11-28, joined by dashes
#: as scanners allow, and its microseconds).
DIGITS = {"lane": (8, 8), "trace": (6, 6), "batch": (6, 6), "local_date": (4, 4),
          "local_time": (6, 6), "rrn": (12, 12), "auth_code": (6, 6), "mti": (4, 4),
          "response_code": (2, 2), "original_rrn": (12, 12), "original_trace": (6, 6),
          "original_batch": (6, 6), "original_date": (4, 4), "created_at": (8, 6),
          "completed_at": (8, 6), "at": (8, 6), "updated_at": (8, 6), "next_at": (8, 6)}


def test_no_journal_index_puts_digit_columns_side_by_side_that_make_13_digits(tmp_path):
    """An index entry is its columns back to back and then the row id (a digit or none)."""
    Journal(tmp_path / "journal.sqlite3").close()
    with sqlite3.connect(tmp_path / "journal.sqlite3") as db:
        indexes = [row[0] for row in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")]
        columns = {name: [row[2] for row in db.execute(f"PRAGMA index_info({name})")]
                   for name in indexes}
    side_by_side = [(name, cols[i], cols[i + 1]) for name, cols in columns.items()
                    for i in range(len(cols) - 1)
                    if cols[i] in DIGITS and cols[i + 1] in DIGITS
                    and DIGITS[cols[i]][1] + DIGITS[cols[i + 1]][0] + 1 >= 13]
    assert side_by_side == []


def test_an_index_entry_of_a_trace_and_day_reads_as_no_card_number(tmp_path):
    # A trace whose lane + trace + date (18 digits as version 4's index wrote them) passes
    # the Luhn check, and whose row (mti + trace + batch, side by side) does not.
    trace = next(f"{n:06d}" for n in range(1, 1000)
                 if luhn_valid(f"{LANE}{n:06d}1128") and not luhn_valid(f"0200{n:06d}000001"))
    path = tmp_path / "journal.sqlite3"
    with Journal(path) as journal:
        journal.connection.execute(
            "INSERT INTO entries (lane, kind, state, mti, trace, batch, request, created_at,"
            " local_date) VALUES (?, 'sale', 'approved', '0200', ?, '000001', '{}', 'x', '1128')",
            (LANE, trace),
        )
        journal.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert [str(f) for f in scan_paths([path]).findings] == []
