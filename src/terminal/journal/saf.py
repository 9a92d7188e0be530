"""The store-and-forward queue: what must still reach the acquirer, prepared before sending.

A terminal keeps its reversal in non-volatile memory *before* it sends the
transaction it would undo, so that a power cut at any moment leaves it knowing
what to send next. The journal does the same: :meth:`Journal.begin` writes the
pending row and, in the same transaction, a ``saf`` row

* ``reversal`` for a reversible transaction: the 0400 that undoes it, built
  from the request (same trace, amount, 3, 25, 49, 60, 61; 39 = 98 no answer);
* ``resend`` for a refund, which is never reversed: the same request again,
  same trace, until it is answered (the acquirer answers a repeat with its
  first answer, so it never refunds twice).

The row is ``prepared`` until the exchange ends: an answer clears it, no
valid answer queues it (:mod:`terminal.transactions.recovery` sends it, with
retry limits from config, and flags it for the operator when they run out).
"""

from __future__ import annotations

import enum
import json
import os
import socket
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from terminal.database import transaction
from terminal.protocol.catalogue import CATALOGUE, Effect, Kind
from terminal.protocol.json_shape import message_to_json
from terminal.protocol.message import Message

__all__ = [
    "NO_ANSWER",
    "SafAction",
    "SafItem",
    "SafState",
    "prepare",
    "reversal_of",
    "saf_action",
    "settle_answered",
]

_DIALECT = "cup"
#: Field 39 of a reversal sent because no valid answer came.
NO_ANSWER = "98"
_HOST = socket.gethostname()


def owner() -> str:
    """Who prepares a row: this machine and process (asked each time: a fork is another)."""
    return f"{_HOST}:{os.getpid()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # POSIX only: signal 0 asks, it sends nothing
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class SafAction(enum.StrEnum):
    REVERSAL = "reversal"
    RESEND = "resend"


class SafState(enum.StrEnum):
    PREPARED = "prepared"  # written with the pending row; the exchange has not ended
    QUEUED = "queued"  # no valid answer: to be sent until answered
    ANSWERED = "answered"  # the acquirer answered the reversal or the resend
    CLEARED = "cleared"  # the original exchange was answered: nothing to send
    FLAGGED = "flagged"  # retries ran out: an operator must look (still sent on recover)


@dataclass(frozen=True)
class SafItem:
    """One row of the queue."""

    id: int
    lane: str
    entry_id: int
    action: SafAction
    request: dict[str, Any]
    state: SafState
    attempts: int
    next_at: str | None
    last_error: str | None
    updated_at: str
    owner: str

    def orphaned(self, now: datetime, stale_after: float) -> bool:
        """Whether nobody is running this exchange any more.

        A prepared row belongs to the process that began the exchange. On this
        machine a dead process is seen at once; otherwise (another machine, or
        a platform where liveness cannot be asked safely) the row counts as
        abandoned once it is older than ``stale_after`` seconds (longer than
        any exchange may take). Queued and flagged rows are always due."""
        if self.state is not SafState.PREPARED:
            return True
        if self.owner == owner():
            return True  # this very process: its exchange has ended
        host, _, pid = self.owner.rpartition(":")
        if host == _HOST and pid.isdigit() and os.name == "posix" and not _alive(int(pid)):
            return True
        age = (now - datetime.fromisoformat(self.updated_at)).total_seconds()
        return age > stale_after


def saf_action(kind: Kind) -> SafAction | None:
    """What recovers a ``kind`` left without an answer: its reversal, a resend, or nothing."""
    row = CATALOGUE[kind]
    if row.reversible:
        return SafAction.REVERSAL
    if row.effect is Effect.CREDIT:
        return SafAction.RESEND
    return None


def reversal_of(request: Message) -> Message:
    """The 0400 that undoes ``request``: the same trace, amount and codes, 39 = 98."""
    keep = (3, 4, 11, 25, 41, 42, 49, 60, 61)
    fields = {n: request[n] for n in keep if n in request}
    fields[39] = NO_ANSWER
    return Message("0400", fields, tpdu=request.tpdu, header=request.header)


def prepare(
    db: sqlite3.Connection, lane: str, entry_id: int, kind: Kind, request: Message, now: datetime
) -> None:
    """Write the queue row of a just-begun exchange (inside the caller's transaction)."""
    action = saf_action(kind)
    if action is None:
        return
    message = reversal_of(request) if action is SafAction.REVERSAL else request
    db.execute(
        "INSERT INTO saf (lane, entry_id, action, request, state, attempts, next_at,"
        " last_error, updated_at, owner) VALUES (?, ?, ?, ?, ?, 0, NULL, NULL, ?, ?)",
        (lane, entry_id, action.value, _json(message), SafState.PREPARED.value,
         now.isoformat(), owner()),
    )


def item_for(db: sqlite3.Connection, entry_id: int) -> SafItem | None:
    row = db.execute("SELECT * FROM saf WHERE entry_id = ?", (entry_id,)).fetchone()
    return _item(row) if row is not None else None


def open_items(db: sqlite3.Connection, lane: str) -> list[SafItem]:
    """Prepared, queued and flagged rows of ``lane``, oldest first."""
    rows = db.execute(
        "SELECT * FROM saf WHERE lane = ? AND state IN (?, ?, ?) ORDER BY id",
        (lane, SafState.PREPARED.value, SafState.QUEUED.value, SafState.FLAGGED.value),
    )
    return [_item(row) for row in rows]


def set_state(
    db: sqlite3.Connection, item_id: int, state: SafState, now: datetime, *,
    attempts: int | None = None, next_at: str | None = None, error: str | None = None,
) -> None:
    with transaction(db):
        db.execute(
            "UPDATE saf SET state = ?, attempts = COALESCE(?, attempts), next_at = ?,"
            " last_error = COALESCE(?, last_error), updated_at = ? WHERE id = ?",
            (state.value, attempts, next_at, error, now.isoformat(), item_id),
        )


def settle_answered(db: sqlite3.Connection, entry_id: int, at: str) -> None:
    """The exchange of ``entry_id`` was answered (inside the caller's transaction): a
    prepared row is not needed any more (``cleared``); a queued or flagged one, whose
    resend or reversal this answer was, is done (``answered``). Others stay as they are."""
    db.execute(
        "UPDATE saf SET state = CASE state WHEN ? THEN ? ELSE ? END, next_at = NULL,"
        " updated_at = ? WHERE entry_id = ? AND state IN (?, ?, ?)",
        (SafState.PREPARED.value, SafState.CLEARED.value, SafState.ANSWERED.value, at,
         entry_id, SafState.PREPARED.value, SafState.QUEUED.value, SafState.FLAGGED.value),
    )


def _json(message: Message) -> str:
    return json.dumps(message_to_json(message.with_fields({64: None}), _DIALECT))


def _item(row: sqlite3.Row) -> SafItem:
    values = dict(row)
    values["action"] = SafAction(values["action"])
    values["state"] = SafState(values["state"])
    values["request"] = json.loads(values["request"])
    return SafItem(**values)
