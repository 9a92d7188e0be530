"""The journal file read raw: what SQLite writes side by side must not read as a card number."""

from __future__ import annotations

import re
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


# -- rows and index entries as SQLite writes them ------------------------------------------

#: Operator ids of six digits (cashier numbers): the longest the layout keeps apart from
#: every neighbour; an id of 13 digits reads as a card number wherever it stands.
CASHIER, SUPERVISOR = "400010", "700117"
NOW = "2026-11-28T07:23:56.420592"  # microseconds: six digits at a timestamp's end
#: A card is kept as its masked number and its token (16 bytes), always both.
CARD = {"card_token": bytes(range(16)), "card_masked": "622609******0048",
        "card_organisation": "CUP"}
DONE = {"completed_at": NOW, "local_date": 1128, "local_time": 72356, "rrn": "072356000001",
        "response_code": "00"}
ORIGINAL = {"original_id": 2, "original_rrn": "072356000002", "original_trace": 2,
            "original_batch": 1, "original_date": 1128}
#: The rows the program writes, each with the columns it leaves empty (NULL, or an integer
#: 0 or 1: neither takes a byte, so the columns around it meet).
ENTRIES = [
    {"kind": "sign_on", "mti": 800, "trace": 1, **DONE, "operator": CASHIER},
    {"kind": "echo", "mti": 820, "trace": 2, **DONE},
    {"kind": "sale", "mti": 200, "trace": 3, "amount_fen": 1234, **DONE, "auth_code": "959165",
     **CARD, "operator": CASHIER},
    # An acquirer that sends no local date or time, nor a card organisation.
    {"kind": "sale", "mti": 200, "trace": 4, "amount_fen": 1234, **DONE, "local_date": None,
     "local_time": None, "auth_code": "959165", **CARD, "card_organisation": None,
     "operator": CASHIER},
    {"kind": "sale", "mti": 200, "trace": 5, "amount_fen": 1234, **DONE, "response_code": "51",
     **CARD, "operator": CASHIER},
    {"kind": "sale", "state": "in_doubt", "mti": 200, "trace": 6, "amount_fen": 1234,
     "reason": "no answer", "operator": CASHIER},
    {"kind": "void", "mti": 200, "trace": 7, "amount_fen": 1234, **DONE, "auth_code": "959173",
     **CARD, **ORIGINAL, "operator": CASHIER, "supervisor": SUPERVISOR},
    {"kind": "void", "state": "in_doubt", "mti": 200, "trace": 8, "amount_fen": 1234,
     **ORIGINAL, "operator": CASHIER, "supervisor": SUPERVISOR},
    {"kind": "refund", "mti": 220, "trace": 9, "amount_fen": 500, **DONE, "auth_code": "959181",
     **CARD, **ORIGINAL, "refund_reason": "returned", "operator": CASHIER,
     "supervisor": SUPERVISOR},
    # A supervisor authorises money only (a void, refund or cancel): its amount stands
    # between the operator and the supervisor. A settlement's row names neither.
    {"kind": "settlement", "mti": 500, "trace": 10, **DONE},
]
AUDIT = [
    {"action": "void", "outcome": "authorised", "operator": CASHIER,
     "authorised_by": SUPERVISOR, "entry_id": 7},
    {"action": "operator-add", "outcome": "done", "operator": SUPERVISOR,
     "detail": "role supervisor", "authorised_by": CASHIER},
    {"action": "refund", "outcome": "needs-supervisor", "operator": CASHIER,
     "detail": f"{CASHIER} is cashier", "authorised_by": CASHIER},
]
_RUN = re.compile(rb"[0-9](?:[ -]?[0-9])*")


def _record_body(values: tuple) -> bytes:
    """A record's body as SQLite writes it: the columns back to back, NULL and the integers
    0 and 1 in no bytes, other integers big-endian in 1, 2, 3, 4, 6 or 8 bytes."""
    body = b""
    for value in values:
        if isinstance(value, int) and value not in (0, 1):
            size = next(n for n in (1, 2, 3, 4, 6, 8) if -(1 << (8 * n - 1)) <= value
                        < 1 << (8 * n - 1))
            body += value.to_bytes(size, "big", signed=True)
        elif isinstance(value, str):
            body += value.encode()
        elif isinstance(value, bytes):
            body += value
    return body


def _longest_run(data: bytes) -> int:
    """Digits of the longest run a scanner reads (single spaces and dashes join groups)."""
    return max((len(re.sub(rb"[ -]", b"", m.group())) for m in _RUN.finditer(data)), default=0)


def _insert(db: sqlite3.Connection, table: str, row: dict) -> None:
    db.execute(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
               tuple(row.values()))


def _written(path) -> tuple[bytes, dict[str, list[bytes]]]:
    """The file's bytes, and the body of every row and index entry of its tables."""
    with Journal(path) as journal:
        db = journal.connection
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        bodies: dict[str, list[bytes]] = {}
        for table, in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"
                                 " AND name NOT LIKE 'sqlite_%'").fetchall():
            key = [r[1] for r in db.execute(f"PRAGMA table_info({table})") if r[5] == 1
                   and r[2] == "INTEGER"]  # the rowid's alias is stored as NULL
            names = [r[1] for r in db.execute(f"PRAGMA table_info({table})")]
            shown = ", ".join("NULL" if name in key else name for name in names)
            bodies[table] = [_record_body(tuple(row)) for row in
                             db.execute(f"SELECT {shown} FROM {table}")]
            for index, sql in db.execute("SELECT name, sql FROM sqlite_master WHERE"
                                         " type = 'index' AND tbl_name = ?", (table,)).fetchall():
                parts = [{-1: "rowid", -2: sql and sql[sql.index("(") + 1:sql.rindex(")")]}
                         .get(r[1], r[2]) for r in db.execute(f"PRAGMA index_xinfo({index})")
                         if r[5] or r[1] == -1]
                bodies[index] = [_record_body(tuple(row)) for row in
                                 db.execute(f"SELECT {', '.join(parts)} FROM {table}")]
    return path.read_bytes(), bodies


def test_no_row_or_index_entry_of_the_journal_runs_digit_columns_into_13_digits(tmp_path):
    path = tmp_path / "journal.sqlite3"
    with Journal(path) as journal:
        db = journal.connection
        for row in ENTRIES:
            _insert(db, "entries", {"lane": LANE, "state": "approved", "request": "{}",
                                    "created_at": NOW, "batch": 1, "simulated": 1, **row})
        for row in AUDIT:
            _insert(db, "audit", {"lane": LANE, "at": NOW, **row})
        for number, name in enumerate((CASHIER, SUPERVISOR)):
            _insert(db, "operators", {
                "lane": LANE, "name": name, "role": "cashier", "salt": bytes(range(16)),
                "password_hash": bytes(range(32)), "failures": number, "locked": 0,
                "removed": 0, "created_at": NOW, "updated_at": NOW})
        _insert(db, "saf", {"lane": LANE, "entry_id": 8, "action": "reversal", "request": "{}",
                            "state": "pending", "attempts": 2, "next_at": NOW,
                            "last_error": "no answer", "updated_at": NOW,
                            "owner": "till-1:123456"})
    data, bodies = _written(path)
    assert len(bodies["entries"]) == len(ENTRIES) and "operators_name_lane" in bodies
    for name, written in bodies.items():
        for body in written:
            assert body in data, name  # the model is what SQLite wrote
            assert _longest_run(body) < 13, (name, body)


def test_every_chained_table_ends_its_rows_with_an_integer(tmp_path):
    """A row's header ends with its last column's type, right before the first column's
    bytes: a text of 18 to 22 bytes there is an ASCII digit in front of the lane."""
    Journal(tmp_path / "journal.sqlite3").close()
    with sqlite3.connect(tmp_path / "journal.sqlite3") as db:
        for table in ("entries", "operators", "audit", "saf"):
            last = db.execute(f"PRAGMA table_info({table})").fetchall()[-1]
            assert last[2] in ("INTEGER", "SMALLINT"), (table, last)
