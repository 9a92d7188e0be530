"""Print jobs, kept in SQLite so that a receipt is never lost and never printed twice.

A job is one slip (one copy of one transaction, a reprint, a settlement
report) with an id. It is written *queued* before anything is sent, marked
*printing* (attempts + 1) in its own committed transaction before the first
byte goes to the printer, and *printed* only once the printer has confirmed the
cut (:mod:`terminal.receipts.spool`). A job whose printer stopped under it is
*interrupted* and prints again, whole, when the printer is back; a job found
*printing* after a crash is *unconfirmed*: nobody knows whether its slip came
out, so it waits for the operator (``terminal printer queue --retry ID``)
rather than risking a second copy.

The queue is a small module over a :class:`sqlite3.Connection`: its one table,
``print_jobs``, is created if missing, so it lives in the journal's database
file (:meth:`PrintQueue.open` on the journal's path, as the CLI does) or any other.
Portable SQL, a ``lane`` (terminal id) on every row, as the journal's tables.
"""

from __future__ import annotations

import enum
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from terminal.database import BUSY_TIMEOUT_MS, transaction
from terminal.errors import ConfigError
from terminal.receipts.model import Copy, ReceiptData, SettlementReport, from_payload, to_payload

__all__ = ["SCHEMA", "Job", "JobState", "PrintQueue"]

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS print_jobs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        job_key TEXT NOT NULL UNIQUE,
        lane TEXT NOT NULL,
        document TEXT NOT NULL,
        copy TEXT,
        payload TEXT NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        printer_state TEXT,
        confirmed INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        printed_at TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS print_jobs_waiting ON print_jobs (lane, state, id)",
)


class JobState(enum.StrEnum):
    QUEUED = "queued"
    PRINTING = "printing"
    PRINTED = "printed"
    INTERRUPTED = "interrupted"
    UNCONFIRMED = "unconfirmed"


WAITING = (JobState.QUEUED, JobState.INTERRUPTED)


@dataclass(frozen=True, slots=True)
class Job:
    """One slip to print and where it stands."""

    id: int
    key: str
    lane: str
    document: str
    copy: Copy | None
    data: ReceiptData | SettlementReport
    state: JobState
    attempts: int
    printer_state: str | None
    confirmed: bool
    created_at: str
    printed_at: str | None

    def describe(self) -> str:
        """One line for a cashier: which slip this is."""
        data = self.data
        if isinstance(data, SettlementReport):
            what = f"settlement batch {data.batch}"
        else:
            what = f"{data.kind} trace {data.trace}"
            if data.rrn:
                what += f" rrn {data.rrn}"
        if self.copy is not None:
            what += f" ({self.copy.value} copy)"
        return what + (" REPRINT" if data.reprint else "")


class PrintQueue:
    """The jobs of one lane, in ``connection``'s database."""

    def __init__(self, connection: sqlite3.Connection, lane: str) -> None:
        self.connection = connection
        self.lane = lane
        with transaction(connection):
            for statement in SCHEMA:
                connection.execute(statement)

    @classmethod
    def open(cls, path: Path, lane: str) -> PrintQueue:
        """The queue in the SQLite file at ``path``: the journal's, or one of its own.

        Opened as the journal opens its file (WAL, ``synchronous=FULL``, a busy
        timeout for other processes) but without touching the schema version:
        that belongs to the journal's migrations, and ``print_jobs`` is created
        on its own, if missing, beside whatever tables the file has.
        """
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            connection = sqlite3.connect(str(path), isolation_level=None,
                                         timeout=BUSY_TIMEOUT_MS / 1000)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=FULL")
            connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        except sqlite3.DatabaseError as exc:
            raise ConfigError(f"cannot open the print queue in {path}: {exc}") from exc
        return cls(connection, lane)

    def close(self) -> None:
        self.connection.close()

    def add(self, key: str, data: ReceiptData | SettlementReport, copy: Copy | None) -> Job:
        """Queue a slip under ``key``; a key already queued returns that job, so that
        asking twice to print one receipt prints it once."""
        now = _now()
        document = "settlement" if isinstance(data, SettlementReport) else "transaction"
        with transaction(self.connection) as db:
            db.execute(
                "INSERT INTO print_jobs (job_key, lane, document, copy, payload, state, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (job_key) DO NOTHING",
                (key, self.lane, document, copy.value if copy else None, to_payload(data),
                 JobState.QUEUED.value, now, now),
            )
            [row] = _rows(db, "SELECT * FROM print_jobs WHERE job_key = ?", [key])
        return _job(row)

    def get(self, job_id: int) -> Job:
        rows = _rows(self.connection, "SELECT * FROM print_jobs WHERE id = ? AND lane = ?",
                     [job_id, self.lane])
        if not rows:
            raise KeyError(f"no print job {job_id}")
        return _job(rows[0])

    def waiting(self) -> list[Job]:
        """Jobs to print, oldest first: queued and interrupted."""
        return self._select("state IN (?, ?)", [s.value for s in WAITING])

    def pending(self) -> list[Job]:
        """Every job not printed: waiting, printing and unconfirmed."""
        return self._select("state != ?", [JobState.PRINTED.value])

    def all(self) -> list[Job]:
        return self._select("1 = 1", [])

    def recover(self) -> list[Job]:
        """After a crash: jobs left *printing* become *unconfirmed* (see the module doc)."""
        stuck = self._select("state = ?", [JobState.PRINTING.value])
        for job in stuck:
            self._set(job.id, JobState.UNCONFIRMED, expect=JobState.PRINTING)
        return stuck

    def start(self, job_id: int) -> None:
        """Committed before the first byte of the job is sent."""
        with transaction(self.connection) as db:
            changed = db.execute(
                "UPDATE print_jobs SET state = ?, attempts = attempts + 1, updated_at = ? "
                "WHERE id = ? AND lane = ? AND state IN (?, ?)",
                (JobState.PRINTING.value, _now(), job_id, self.lane,
                 *[s.value for s in WAITING]),
            ).rowcount
        if changed != 1:
            raise RuntimeError(f"print job {job_id} is not waiting to print")

    def printed(self, job_id: int, *, confirmed: bool, printer_state: str) -> None:
        now = _now()
        with transaction(self.connection) as db:
            db.execute(
                "UPDATE print_jobs SET state = ?, confirmed = ?, printer_state = ?, "
                "printed_at = ?, updated_at = ? WHERE id = ? AND state = ?",
                (JobState.PRINTED.value, int(confirmed), printer_state, now, now, job_id,
                 JobState.PRINTING.value),
            )

    def interrupted(self, job_id: int, printer_state: str) -> None:
        self._set(job_id, JobState.INTERRUPTED, expect=JobState.PRINTING,
                  printer_state=printer_state)

    def note_printer(self, job_id: int, printer_state: str) -> None:
        """Why a waiting job did not start (the printer's state when it was tried)."""
        with transaction(self.connection) as db:
            db.execute("UPDATE print_jobs SET printer_state = ?, updated_at = ? WHERE id = ?",
                       (printer_state, _now(), job_id))

    def retry(self, job_id: int) -> Job:
        """The operator's word that an unconfirmed slip did not come out: print it again."""
        self._set(job_id, JobState.INTERRUPTED, expect=JobState.UNCONFIRMED)
        return self.get(job_id)

    def _set(self, job_id: int, state: JobState, *, expect: JobState,
             printer_state: str | None = None) -> None:
        with transaction(self.connection) as db:
            changed = db.execute(
                "UPDATE print_jobs SET state = ?, printer_state = COALESCE(?, printer_state), "
                "updated_at = ? WHERE id = ? AND lane = ? AND state = ?",
                (state.value, printer_state, _now(), job_id, self.lane, expect.value),
            ).rowcount
        if changed != 1:
            raise KeyError(f"print job {job_id} is not {expect.value}")

    def _select(self, where: str, args: list[object]) -> list[Job]:
        rows = _rows(self.connection,
                     f"SELECT * FROM print_jobs WHERE lane = ? AND {where} ORDER BY id",
                     [self.lane, *args])
        return [_job(row) for row in rows]


def _rows(db: sqlite3.Connection, sql: str, args: list[object]) -> list[dict[str, Any]]:
    """Rows as dicts, whatever row factory the owner of the connection chose."""
    cursor = db.execute(sql, args)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _job(row: dict[str, Any]) -> Job:
    return Job(
        id=row["id"], key=row["job_key"], lane=row["lane"], document=row["document"],
        copy=Copy(row["copy"]) if row["copy"] else None, data=from_payload(row["payload"]),
        state=JobState(row["state"]), attempts=row["attempts"],
        printer_state=row["printer_state"], confirmed=bool(row["confirmed"]),
        created_at=row["created_at"], printed_at=row["printed_at"],
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
