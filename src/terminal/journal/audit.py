"""The audit trail: who did what, when, on which lane, authorised by whom, and how it ended.

Written in the same transaction as what it records (an operator change, a
password check) and chained with the journal (:mod:`terminal.journal.chain`).
Transactions themselves are in ``entries`` (with operator and supervisor);
:func:`trail` merges both, so ``terminal audit`` shows one timeline, refused
attempts included.
"""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from terminal.database import transaction
from terminal.journal.store import codes_as_text

__all__ = ["AuditRecord", "record", "trail", "write"]


@dataclass(frozen=True)
class AuditRecord:
    at: str
    lane: str
    operator: str | None
    action: str
    authorised_by: str | None
    outcome: str
    detail: str | None = None
    entry_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def write(
    db: sqlite3.Connection, lane: str, now: datetime, *, operator: str | None, action: str,
    authorised_by: str | None, outcome: str, detail: str | None = None,
    entry_id: int | None = None,
) -> None:
    """One audit row, inside the caller's transaction."""
    db.execute(
        "INSERT INTO audit (lane, at, operator, action, authorised_by, outcome, detail,"
        " entry_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (lane, now.isoformat(), operator, action, authorised_by, outcome,
         (detail or None) and detail[:400], entry_id),
    )


def record(db: sqlite3.Connection, lane: str, now: datetime, **fields: Any) -> None:
    """:func:`write` in its own transaction (a refusal that touches nothing else)."""
    with transaction(db):
        write(db, lane, now, **fields)


def trail(
    db: sqlite3.Connection, lane: str | None = None, *, start: date | None = None,
    end: date | None = None,
) -> list[AuditRecord]:
    """Audit rows and transactions, oldest first, between ``start`` and ``end`` (days)."""
    clauses, args = [], []
    if lane:
        clauses.append("lane = ?")
        args.append(lane)
    if start:
        clauses.append("{at} >= ?")
        args.append(start.isoformat())
    if end:
        clauses.append("{at} < ?")
        args.append(date.fromordinal(end.toordinal() + 1).isoformat())
    where = " AND ".join(clauses) or "1 = 1"
    records = [
        AuditRecord(r["at"], r["lane"], r["operator"], r["action"], r["authorised_by"],
                    r["outcome"], r["detail"], r["entry_id"])
        for r in db.execute(f"SELECT * FROM audit WHERE {where.format(at='at')}", args)
    ]
    for row in db.execute(
        f"SELECT * FROM entries WHERE {where.format(at='created_at')} AND mti <> '0800'", args
    ):
        r = codes_as_text(dict(row))
        outcome = r["state"] + (f" {r['response_code']}" if r["response_code"] else "")
        detail = f"trace {r['trace']}" + (
            f" amount_fen {r['amount_fen']}" if r["amount_fen"] is not None else "")
        if r["refund_reason"]:
            detail += f" reason {r['refund_reason']}"
        if r["alarm"]:
            detail += " ALARM"
        records.append(AuditRecord(r["created_at"], r["lane"], r["operator"], r["kind"],
                                   r["supervisor"], outcome, detail, r["id"]))
    return sorted(records, key=lambda rec: rec.at)
