"""The acquirer's books: every financial exchange the virtual terminal answered, and its state.

The ledger is what the simulated acquirer knows, kept apart from the POS
host's journal so that the two can be reconciled against each other
(:meth:`Ledger.totals`), as a shop reconciles against its bank. It knows every
original, so the acquirer's rules (a void only once, refunds never above the
original, the card that paid) are queries on it; balances are derived from
the entries (each carries the card's balance after it), never kept apart.

With a path the books are a SQLite file (WAL, ``synchronous=FULL``, schema
versioned: :mod:`terminal.database`); without one, a private in-memory
database. Several simulator processes may share one file (six ``terminal
sale`` runs at once on ``sim://?ledger=...``): everything a booking decides on
is read and written inside one :meth:`Ledger.locked` transaction, which takes
SQLite's write lock first. The file also keeps the terminal's state between
runs (open batch, sign-on, working keys, the card presented next) and the
exchange sequence that RRNs and authorisation codes come from, drawn in the
same transaction as the entry it numbers. A card number is stored only masked.

No card-number scanner reads a card number out of the file's bytes (see
``tests/simulator/test_books_layout.py``): SQLite writes a row's columns and an
index entry's keys back to back, so schema version 2 keeps the numeric codes
(MTI, processing code, batch, trace, RRN, authorisation code) as INTEGER, stored
binary, and puts a column of letters between the digit text columns (lane,
time, masked card number). Version 1 ran time, batch, trace, RRN and
authorisation code into runs of 30 and more digits; opening such a file
rebuilds its table in place (same ids, same values).
"""

from __future__ import annotations

import logging
import secrets
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from simulator.cards import CardProfile
from terminal.database import open_database, transaction
from terminal.protocol.catalogue import CATALOGUE, Effect, Kind
from terminal.protocol.response_codes import APPROVED

__all__ = ["LEDGER_SCHEMA_VERSION", "BatchTotals", "Ledger", "LedgerEntry"]

# The exchange sequence runs 1..999999 and wraps: six digits of an RRN.
SEQUENCE_MODULUS = 1_000_000

log = logging.getLogger("simulator")

_V2_COLUMNS = (
    "id, lane, kind, time, card, masked_pan, response_code, mti, processing_code, batch,"
    " trace, rrn, auth_code, amount, balance_after, delta, original_id, reversed"
)
#: The codes kept as INTEGER since version 2, and the digits each is written with.
_CODE_WIDTHS = {"mti": 4, "processing_code": 6, "batch": 6, "trace": 6, "rrn": 12,
                "auth_code": 6}

_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE entries (
            id INTEGER PRIMARY KEY,
            lane TEXT NOT NULL,
            time TEXT NOT NULL,
            batch TEXT NOT NULL,
            trace TEXT NOT NULL,
            rrn TEXT NOT NULL,
            auth_code TEXT NOT NULL,
            kind TEXT NOT NULL,
            mti TEXT NOT NULL,
            processing_code TEXT NOT NULL,
            amount INTEGER NOT NULL,
            response_code TEXT NOT NULL,
            card TEXT NOT NULL,
            masked_pan TEXT NOT NULL,
            balance_after INTEGER NOT NULL,
            delta INTEGER NOT NULL DEFAULT 0,
            original_id INTEGER REFERENCES entries(id),
            reversed INTEGER NOT NULL DEFAULT 0,
            UNIQUE (lane, batch, trace, mti)
        )""",
        "CREATE INDEX entries_rrn ON entries (rrn)",
        "CREATE INDEX entries_original ON entries (original_id)",
        "CREATE TABLE state (lane TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL,"
        " PRIMARY KEY (lane, name))",
    ),
    (
        # Version 2: the same entries, laid out so that no row or index entry puts digit
        # columns side by side. Letters (kind, card) stand between the digit text columns;
        # the codes are INTEGER (their column affinity turns the digit strings written into
        # them into binary integers; the MTI's first byte is never an ASCII digit, so it
        # ends the masked card number's last four and the response code). SQLite's recipe
        # for changing a table's layout: create, copy by name, drop, rename (run with
        # foreign keys off: terminal.database).
        """CREATE TABLE entries_v2 (
            id INTEGER PRIMARY KEY,
            lane TEXT NOT NULL,
            kind TEXT NOT NULL,
            time TEXT NOT NULL,
            card TEXT NOT NULL,
            masked_pan TEXT NOT NULL,
            response_code TEXT NOT NULL,
            mti INTEGER NOT NULL,
            processing_code INTEGER NOT NULL,
            batch INTEGER NOT NULL,
            trace INTEGER NOT NULL,
            rrn INTEGER NOT NULL,
            auth_code INTEGER NOT NULL,
            amount INTEGER NOT NULL,
            balance_after INTEGER NOT NULL,
            delta INTEGER NOT NULL DEFAULT 0,
            original_id INTEGER REFERENCES entries(id),
            reversed INTEGER NOT NULL DEFAULT 0
        )""",
        f"INSERT INTO entries_v2 ({_V2_COLUMNS}) SELECT {_V2_COLUMNS} FROM entries",
        "DROP TABLE entries",
        "ALTER TABLE entries_v2 RENAME TO entries",
        # The lane's eight digits are followed by the MTI (never an ASCII digit first).
        "CREATE UNIQUE INDEX entries_key ON entries (lane, mti, batch, trace)",
        "CREATE INDEX entries_rrn ON entries (rrn)",
        "CREATE INDEX entries_original ON entries (original_id)",
    ),
)
LEDGER_SCHEMA_VERSION = len(_MIGRATIONS)
_GLOBAL = ""  # the state "lane" of what all lanes share (the exchange sequence)


@dataclass(frozen=True)
class LedgerEntry:
    """One answered financial request, approved or declined.

    ``auth_code`` is ``""`` for a decline. ``balance_after`` is the card's
    available balance once this entry is booked, ``delta`` what it changed by
    (0 for declines and inquiries). ``original_id`` points at the entry a void,
    refund, completion, cancel or reversal refers to. ``id`` is given by the
    books when the entry is recorded.
    """

    time: datetime
    batch: str
    trace: str
    rrn: str
    auth_code: str
    mti: str
    processing_code: str
    amount: int
    response_code: str
    card: str
    masked_pan: str
    balance_after: int
    kind: str = Kind.SALE.value
    lane: str = ""
    delta: int = 0
    original_id: int | None = None
    reversed: bool = False
    id: int | None = None

    def __post_init__(self) -> None:
        # The one place a careless caller could put a full card number into the books.
        if "*" not in self.masked_pan:
            raise ValueError("LedgerEntry.masked_pan must be masked (first 6 and last 4 only)")
        for name in ("amount", "balance_after", "delta"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"LedgerEntry.{name} must be int fen, got {value!r}")
        Kind(self.kind)

    @property
    def approved(self) -> bool:
        return self.response_code == APPROVED

    @property
    def effect(self) -> Effect:
        return CATALOGUE[Kind(self.kind)].effect


@dataclass(frozen=True)
class BatchTotals:
    """Approved money movements of one batch: what a settlement (0500) compares.

    Debits are sales and completions that were neither voided nor reversed;
    credits are refunds. Inquiries, pre-authorizations and their cancels move
    no settled money and are not counted.
    """

    batch: str
    debit_count: int = 0
    debit_amount: int = 0
    credit_count: int = 0
    credit_amount: int = 0


_COLUMNS = tuple(f.name for f in fields(LedgerEntry) if f.name != "id")


class Ledger:
    """The acquirer's entries, balances and terminal state, in memory or in a SQLite file."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else None
        older = self.path is not None and _schema_version(self.path) < LEDGER_SCHEMA_VERSION
        self._db = open_database(
            self.path if self.path is not None else ":memory:", _MIGRATIONS, what="ledger"
        )
        self._lock = threading.RLock()
        self._depth = 0
        if older:
            # A migration's write-ahead log holds pages of the old layout (spilled while
            # the table was rebuilt); the file holds them until a checkpoint. Move the log
            # into the file and empty it now, not when the last connection closes.
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        if self.path is None:
            # Nothing persists an in-memory sequence: start it somewhere random so that
            # simulator processes started in the same second differ in their RRNs.
            self._set_state(_GLOBAL, "sequence", str(secrets.randbelow(SEQUENCE_MODULUS - 1)))
        else:
            log.info("ledger opened", extra={"path": str(self.path), "entries": len(self)})

    def close(self) -> None:
        self._db.close()

    # -- reading --------------------------------------------------------------------

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM entries").fetchone()[0])

    def entries(self) -> list[LedgerEntry]:
        """All entries, oldest first."""
        return [_entry(row) for row in self._db.execute("SELECT * FROM entries ORDER BY id")]

    def get(self, entry_id: int) -> LedgerEntry | None:
        row = self._db.execute("SELECT * FROM entries WHERE id = ?", (entry_id,)).fetchone()
        return _entry(row) if row else None

    def balance(self, card: CardProfile) -> int:
        """The card's available balance in fen now."""
        row = self._db.execute(
            "SELECT balance_after FROM entries WHERE card = ? ORDER BY id DESC LIMIT 1",
            (card.name,),
        ).fetchone()
        return int(row[0]) if row else card.balance

    def find(self, batch: str, trace: str, *, lane: str | None = None,
             mti: str | None = None) -> LedgerEntry | None:
        """The entry for this batch and trace (and MTI), if any: how repeats are recognised.

        Without ``mti``, reversals (0400, which reuse their original's trace) are left out.
        """
        sql = "SELECT * FROM entries WHERE batch = ? AND trace = ?"
        args: list[Any] = [batch, trace]
        if lane is not None:
            sql += " AND lane = ?"
            args.append(lane)
        if mti is None:
            sql += " AND mti <> '0400'"
        else:
            sql += " AND mti = ?"
            args.append(mti)
        row = self._db.execute(sql + " ORDER BY id LIMIT 1", args).fetchone()
        return _entry(row) if row else None

    def last_batch(self, lane: str | None = None) -> str | None:
        """The batch of the newest entry, so a restarted terminal does not reuse old batches."""
        sql, args = "SELECT batch FROM entries", ()
        if lane is not None:
            sql, args = sql + " WHERE lane = ?", (lane,)
        row = self._db.execute(sql + " ORDER BY id DESC LIMIT 1", args).fetchone()
        return _code("batch", row[0]) if row else None

    def followers(self, original_id: int, kind: Kind) -> list[LedgerEntry]:
        """Approved, unreversed entries of ``kind`` that refer to ``original_id``."""
        rows = self._db.execute(
            "SELECT * FROM entries WHERE original_id = ? AND kind = ? AND response_code = ?"
            " AND reversed = 0 ORDER BY id",
            (original_id, kind.value, APPROVED),
        )
        return [_entry(row) for row in rows]

    def totals(self, batch: str, lane: str | None = None) -> BatchTotals:
        """Counts and amounts (fen) of the approved debits and credits in ``batch``."""
        debit_count = debit_amount = credit_count = credit_amount = 0
        for entry in self.entries():
            if entry.batch != batch or not entry.approved or entry.reversed:
                continue
            if lane is not None and entry.lane != lane:
                continue
            if entry.effect is Effect.DEBIT:
                if entry.id is not None and self._cancelled(entry.id):
                    continue
                debit_count += 1
                debit_amount += entry.amount
            elif entry.effect is Effect.CREDIT:
                credit_count += 1
                credit_amount += entry.amount
        return BatchTotals(batch, debit_count, debit_amount, credit_count, credit_amount)

    # -- terminal state ---------------------------------------------------------------

    def state(self, lane: str, name: str, default: str | None = None) -> str | None:
        """A named piece of the terminal's state (batch, sign-on, keys, next card)."""
        row = self._db.execute(
            "SELECT value FROM state WHERE lane = ? AND name = ?", (lane, name)
        ).fetchone()
        return str(row[0]) if row else default

    def set_state(self, lane: str, name: str, value: str | None) -> None:
        """Set (``None``: forget) a named piece of state, durably."""
        with self.locked():
            self._set_state(lane, name, value)

    def take_state(self, lane: str, name: str) -> str | None:
        """Read and forget a piece of state in one step (the card presented next)."""
        with self.locked():
            value = self.state(lane, name)
            if value is not None:
                self._set_state(lane, name, None)
            return value

    # -- writing ----------------------------------------------------------------------

    @contextmanager
    def locked(self) -> Iterator[Ledger]:
        """Hold the books exclusively: one write transaction, re-entrant within a thread.

        Everything a booking decides on (is this a repeat? the card's balance,
        the original's refunds, the next sequence) must be read inside one
        ``with ledger.locked():`` together with the writes it leads to.
        """
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self
                finally:
                    self._depth -= 1
                return
            with transaction(self._db):
                self._depth = 1
                try:
                    yield self
                finally:
                    self._depth = 0

    def next_sequence(self) -> int:
        """Draw the next exchange sequence (1..999999), saved with the books.

        Call it holding :meth:`locked` and record the entry built from it in
        the same hold, so it is unique across processes and restarts.
        """
        with self.locked():
            current = int(self.state(_GLOBAL, "sequence", "0") or 0)
            value = current % (SEQUENCE_MODULUS - 1) + 1
            self._set_state(_GLOBAL, "sequence", str(value))
            return value

    def book(self, build: Callable[[int], LedgerEntry]) -> LedgerEntry:
        """Record the entry ``build(sequence)`` makes from a freshly drawn sequence; return it."""
        with self.locked():
            return self.record(build(self.next_sequence()))

    def record(self, entry: LedgerEntry) -> LedgerEntry:
        """Book ``entry``; the returned copy carries its ``id``."""
        with self.locked():
            values = {name: getattr(entry, name) for name in _COLUMNS}
            values["time"] = entry.time.isoformat()
            values["reversed"] = int(entry.reversed)
            try:
                cursor = self._db.execute(
                    f"INSERT INTO entries ({', '.join(_COLUMNS)}) "
                    f"VALUES ({', '.join('?' for _ in _COLUMNS)})",
                    [values[name] for name in _COLUMNS],
                )
            except sqlite3.IntegrityError:
                raise ValueError(
                    f"batch {entry.batch} trace {entry.trace} ({entry.mti}) is already booked"
                ) from None
            return replace(entry, id=cursor.lastrowid)

    def mark_reversed(self, entry_id: int) -> None:
        with self.locked():
            self._db.execute("UPDATE entries SET reversed = 1 WHERE id = ?", (entry_id,))

    # -- helpers ---------------------------------------------------------------------

    def _cancelled(self, entry_id: int) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM entries WHERE original_id = ? AND kind IN (?, ?) AND response_code = ?"
            " AND reversed = 0 LIMIT 1",
            (entry_id, Kind.VOID.value, Kind.COMPLETION_VOID.value, APPROVED),
        ).fetchone()
        return row is not None

    def _set_state(self, lane: str, name: str, value: str | None) -> None:
        if value is None:
            self._db.execute("DELETE FROM state WHERE lane = ? AND name = ?", (lane, name))
        else:
            self._db.execute(
                "INSERT INTO state (lane, name, value) VALUES (?, ?, ?) "
                "ON CONFLICT (lane, name) DO UPDATE SET value = excluded.value",
                (lane, name, value),
            )


def _schema_version(path: Path) -> int:
    """The schema version of the books at ``path`` (a file yet to be made counts as new)."""
    if not path.is_file() or path.stat().st_size == 0:
        return LEDGER_SCHEMA_VERSION
    try:
        connection = sqlite3.connect(str(path))
        try:
            return int(connection.execute("PRAGMA user_version").fetchone()[0])
        finally:
            connection.close()
    except sqlite3.DatabaseError:
        return LEDGER_SCHEMA_VERSION  # not SQLite: open_database says so, naming the file


def _code(name: str, value: object) -> str:
    """A code as the protocol writes it: an INTEGER back to its fixed number of digits."""
    if isinstance(value, int):
        return f"{value:0{_CODE_WIDTHS[name]}d}"
    return str(value)


def _entry(row: sqlite3.Row) -> LedgerEntry:
    values = dict(row)
    for name in _CODE_WIDTHS:
        values[name] = _code(name, values[name])
    values["time"] = datetime.fromisoformat(values["time"])
    values["reversed"] = bool(values["reversed"])
    return LedgerEntry(**values)
