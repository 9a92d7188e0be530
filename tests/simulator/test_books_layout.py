"""The simulator's books hold no digit run any card-number scanner reads a card number from.

SQLite writes a row's columns (and an index entry's keys) back to back, so digit
columns side by side read as one long number in the file's bytes. Version 1 of
the books ran time, batch, trace, RRN and authorisation code together into runs
of 30 and more digits: anchored scanners pass over those (no card is that
long), but one that checks every 13 to 19 digit window inside a run flags a
busy day's books many times over. The books are scanned here raw, file and
write-ahead log, in window mode, the strictest.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from simulator.ledger import LEDGER_SCHEMA_VERSION, Ledger, LedgerEntry
from tests.leaks.scanner import Mode, scan_bytes

LANE = "10008060"
#: The kinds a day books, with the MTI and processing code the host sends for each.
_KINDS = (("sale", "0200", "000000"), ("refund", "0220", "200000"),
          ("balance", "0200", "310000"), ("preauth", "0100", "030000"),
          ("reversal", "0400", "000000"), ("void", "0200", "200000"))


def _auth_code(sequence: int) -> str:
    """As the simulated host derives it (simulator.host): six digits from the sequence."""
    return f"{(sequence * 7919 + 104729) % 1_000_000:06d}"


def book_a_day(ledger: Ledger, count: int = 400) -> list[LedgerEntry]:
    """``count`` bookings the way the host makes them: clock times with and without a zone
    and microseconds, batches rolling over, RRNs from time and sequence, declines without
    an authorisation code, reversals pointing at their original; state written too."""
    start = datetime(2026, 11, 28, 9, 0, 1, 285329)
    booked: list[LedgerEntry] = []
    for number in range(count):
        now = start + timedelta(seconds=61 * number, microseconds=104729 * number)
        if number % 3 == 0:
            now = now.replace(tzinfo=timezone(timedelta(hours=8)))
        if number % 5 == 0:
            now = now.replace(microsecond=0)
        kind, mti, processing = _KINDS[number % len(_KINDS)]
        approved = number % 7 != 3
        original = booked[-1].id if kind in ("reversal", "void") and booked else None

        def build(sequence: int, now=now, kind=kind, mti=mti, processing=processing,
                  approved=approved, original=original, number=number) -> LedgerEntry:
            return LedgerEntry(
                time=now, batch=f"{1 + number // 150:06d}", trace=f"{number + 1:06d}",
                rrn=f"{now:%H%M%S}{sequence:06d}",
                auth_code=_auth_code(sequence) if approved else "", mti=mti,
                processing_code=processing, amount=1 + number * 4_099,
                response_code="00" if approved else "51", card="approved",
                masked_pan="622609******0048", balance_after=10_000_000 - number * 977,
                kind=kind, lane=LANE, delta=-number * 977 if approved else 0,
                original_id=original,
            )

        booked.append(ledger.book(build))
        ledger.set_state(LANE, "batch", str(1 + number // 150))
        ledger.set_state(LANE, "last_trace", str(number + 1))
    return booked


def raw_findings(path: Path, mode: Mode = Mode.WINDOWS) -> list[str]:
    """What a scanner reports reading the books file and its write-ahead log byte for byte."""
    found = []
    for part in (path, path.with_name(path.name + "-wal")):
        if part.exists():
            found += [str(finding) for finding in scan_bytes(part.read_bytes(), part.name,
                                                              mode=mode)]
    return found


@pytest.mark.parametrize("mode", list(Mode))
def test_a_busy_day_of_books_read_raw_holds_no_card_like_run(tmp_path, mode):
    path = tmp_path / "books.sqlite3"
    ledger = Ledger(path)
    try:
        book_a_day(ledger)
        assert path.with_name(path.name + "-wal").stat().st_size > 0  # the log is scanned too
        assert raw_findings(path, mode) == []
    finally:
        ledger.close()
    assert raw_findings(path, mode) == []


def test_the_books_keep_every_value_as_booked(tmp_path):
    path = tmp_path / "books.sqlite3"
    ledger = Ledger(path)
    booked = book_a_day(ledger, 60)
    ledger.close()
    reopened = Ledger(path)
    try:
        assert reopened.entries() == booked
        last = booked[-1]
        assert reopened.find(last.batch, last.trace, lane=LANE, mti=last.mti) == last
        assert reopened.last_batch(LANE) == "000001"
        assert reopened.state(LANE, "last_trace") == "60"
    finally:
        reopened.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == LEDGER_SCHEMA_VERSION


#: What version 1 of the program created (frozen here: the test must not follow the code).
_V1_SCHEMA = (
    """CREATE TABLE entries (
        id INTEGER PRIMARY KEY, lane TEXT NOT NULL, time TEXT NOT NULL, batch TEXT NOT NULL,
        trace TEXT NOT NULL, rrn TEXT NOT NULL, auth_code TEXT NOT NULL, kind TEXT NOT NULL,
        mti TEXT NOT NULL, processing_code TEXT NOT NULL, amount INTEGER NOT NULL,
        response_code TEXT NOT NULL, card TEXT NOT NULL, masked_pan TEXT NOT NULL,
        balance_after INTEGER NOT NULL, delta INTEGER NOT NULL DEFAULT 0,
        original_id INTEGER REFERENCES entries(id), reversed INTEGER NOT NULL DEFAULT 0,
        UNIQUE (lane, batch, trace, mti))""",
    "CREATE INDEX entries_rrn ON entries (rrn)",
    "CREATE INDEX entries_original ON entries (original_id)",
    "CREATE TABLE state (lane TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL,"
    " PRIMARY KEY (lane, name))",
    "PRAGMA user_version=1",
)


def _version_1_books(path: Path, entries: list[LedgerEntry]) -> None:
    """Books as version 1 wrote them: every code a digit string, in the old column order."""
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode=WAL")
        for statement in _V1_SCHEMA:
            db.execute(statement)
        for entry in entries:
            db.execute(
                "INSERT INTO entries (id, lane, time, batch, trace, rrn, auth_code, kind, mti,"
                " processing_code, amount, response_code, card, masked_pan, balance_after,"
                " delta, original_id, reversed) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (entry.id, entry.lane, entry.time.isoformat(), entry.batch, entry.trace,
                 entry.rrn, entry.auth_code, entry.kind, entry.mti, entry.processing_code,
                 entry.amount, entry.response_code, entry.card, entry.masked_pan,
                 entry.balance_after, entry.delta, entry.original_id, int(entry.reversed)))
        db.execute("INSERT INTO state VALUES (?, 'batch', '3'), ('', 'sequence', '400')",
                   (LANE,))
    sqlite3.connect(path).close()


def test_version_1_books_are_rebuilt_in_place_keeping_every_entry(tmp_path):
    scratch = Ledger()
    booked = book_a_day(scratch)
    scratch.close()
    path = tmp_path / "books.sqlite3"
    _version_1_books(path, booked)
    assert len(raw_findings(path, Mode.GREEDY)) > 0  # what a scanner flagged in them

    ledger = Ledger(path)
    try:
        assert ledger.entries() == booked
        assert raw_findings(path) == []  # the old pages are gone from the file already
        assert ledger.state(LANE, "batch") == "3"
        last = booked[-1]
        assert ledger.find(last.batch, last.trace, lane=LANE, mti=last.mti) == last
        with pytest.raises(ValueError, match="already booked"):
            ledger.record(last)
        assert ledger.next_sequence() == 401  # the exchange sequence carries on
    finally:
        ledger.close()
    assert raw_findings(path) == []
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == LEDGER_SCHEMA_VERSION
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        assert {row[0] for row in db.execute("SELECT DISTINCT typeof(trace) FROM entries")} == {
            "integer"}
