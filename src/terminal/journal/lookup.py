"""Finding past transactions in the journal: by reference, by what the customer remembers.

Read-only queries over :class:`~terminal.journal.store.Journal`'s connection.
The refund and void rules (:mod:`terminal.transactions.rules`) find an
original's candidates and followers here; ``terminal lookup`` and ``terminal
status`` combine the filters of :class:`Filters` (the customer lost the receipt
but knows the last 4 digits, the amount and the day).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from terminal.digest_text import colon_hex
from terminal.journal.entry import EntryState, JournalEntry
from terminal.journal.store import Journal, _entry
from terminal.protocol.catalogue import Kind

__all__ = [
    "COMMITTED",
    "Filters",
    "candidates",
    "entry_view",
    "find",
    "followers",
    "refunded_fen",
    "voided",
]

#: States in which a follower counts against its original: answered yes, or still to be
#: resolved (a refund is resent until answered, so an unanswered one is money promised).
COMMITTED = (EntryState.APPROVED, EntryState.PENDING, EntryState.IN_DOUBT)
_VOIDS = (Kind.VOID, Kind.COMPLETION_VOID)


def candidates(
    journal: Journal, lane: str, kinds: Iterable[Kind], *, rrn: str | None = None,
    trace: str | None = None, date_mmdd: str | None = None,
) -> list[JournalEntry]:
    """Entries of ``kinds`` with this RRN, or this trace (and date), newest first."""
    names = [kind.value for kind in kinds]
    marks = ", ".join("?" for _ in names)
    if rrn:
        where, args = "rrn = ?", [rrn]
    elif trace:
        where, args = "trace = ?", [f"{int(trace):06d}" if trace.isdigit() else trace]
        if date_mmdd:
            where += " AND local_date = ?"
            args.append(date_mmdd)
    else:
        return []
    rows = journal.connection.execute(
        f"SELECT * FROM entries WHERE lane = ? AND {where} AND kind IN ({marks})"
        " ORDER BY id DESC",
        [lane, *args, *names],
    )
    return [_entry(row) for row in rows]


def followers(journal: Journal, original_id: int) -> list[JournalEntry]:
    """The voids, refunds and completions that name ``original_id``."""
    return journal.followers(original_id)


def refunded_fen(entries: Iterable[JournalEntry]) -> int:
    """What the refunds among ``entries`` (an original's followers) took back or will."""
    return sum(
        e.amount_fen or 0 for e in entries if e.kind is Kind.REFUND and e.state in COMMITTED
    )


def voided(entries: Iterable[JournalEntry]) -> bool:
    """Whether a void among ``entries`` (an original's followers) stands or may stand."""
    return any(e.kind in _VOIDS and e.state in COMMITTED for e in entries)


@dataclass(frozen=True)
class Filters:
    """What ``terminal lookup`` filters on; every given filter must hold."""

    rrn: str | None = None
    trace: str | None = None
    auth_code: str | None = None
    last4: str | None = None
    amount_fen: int | None = None
    day: date | None = None  # the day the transaction was made (local time)
    start: date | None = None  # from this day ...
    end: date | None = None  # ... to this day, inclusive
    operator: str | None = None
    kind: Kind | None = None
    limit: int = 1000

    def where(self) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        args: list[Any] = []
        if self.rrn:
            clauses.append("rrn = ?")
            args.append(self.rrn)
        if self.trace:
            clauses.append("trace = ?")
            args.append(f"{int(self.trace):06d}" if self.trace.isdigit() else self.trace)
        if self.auth_code:
            clauses.append("auth_code = ?")
            args.append(self.auth_code)
        if self.last4:
            clauses.append("card_masked LIKE ?")
            args.append(f"%{self.last4}")
        if self.amount_fen is not None:
            clauses.append("amount_fen = ?")
            args.append(self.amount_fen)
        start, end = (self.day, self.day) if self.day else (self.start, self.end)
        if start:
            clauses.append("created_at >= ?")
            args.append(start.isoformat())
        if end:
            clauses.append("created_at < ?")
            args.append(date.fromordinal(end.toordinal() + 1).isoformat())
        if self.operator:
            clauses.append("operator = ?")
            args.append(self.operator)
        if self.kind:
            clauses.append("kind = ?")
            args.append(self.kind.value)
        return (" AND ".join(clauses) or "1 = 1"), args


def find(journal: Journal, lane: str | None, filters: Filters) -> list[JournalEntry]:
    """Entries matching every filter (reversals' own 0400 rows left out), newest first."""
    where, args = filters.where()
    lane_sql = "lane = ? AND " if lane else ""
    rows = journal.connection.execute(
        f"SELECT * FROM entries WHERE {lane_sql}{where} AND mti <> '0400'"
        " ORDER BY id DESC LIMIT ?",
        [*([lane] if lane else []), *args, filters.limit],
    )
    return [_entry(row) for row in rows]


def entry_view(journal: Journal, entry: JournalEntry) -> dict[str, Any]:
    """An entry as ``terminal lookup --json`` gives it: the ``sale`` keys plus its standing."""
    later = followers(journal, entry.id)
    refunded = refunded_fen(later)
    is_voided = voided(later)
    refundable = 0
    if entry.kind in (Kind.SALE, Kind.COMPLETION) and entry.approved and not is_voided:
        refundable = max((entry.amount_fen or 0) - refunded, 0)
    view: dict[str, Any] = {
        "journal_id": entry.id,
        "transaction": entry.kind.value,
        "state": entry.state.value,
        "approved": entry.approved,
        "response_code": entry.response_code,
        "amount_fen": entry.amount_fen,
        "card": entry.card_masked,
        "card_token": colon_hex(entry.card_token) if entry.card_token else None,
        "rrn": entry.rrn,
        "auth_code": entry.auth_code,
        "trace": entry.trace,
        "batch": entry.batch,
        "terminal_id": entry.lane,
        "date": entry.local_date,
        "time": entry.local_time,
        "created_at": entry.created_at,
        "refunded_fen": refunded,
        "refundable_fen": refundable,
        "voided": is_voided,
        "reason": entry.refund_reason,
        "note": entry.refund_note,
        "operator": entry.operator,
        "supervisor": entry.supervisor,
        "alarm": entry.alarm,
        # 1 the simulator answered it (test money), 0 a real terminal, None not recorded.
        "simulated": entry.simulated,
    }
    if entry.original_id is not None:
        view["original"] = {"rrn": entry.original_rrn, "trace": entry.original_trace,
                            "batch": entry.original_batch, "date": entry.original_date,
                            "journal_id": entry.original_id}
    return view


