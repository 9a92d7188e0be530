"""Recovery: no journal entry stays unknown.

What the journal's store-and-forward queue (:mod:`terminal.journal.saf`) holds
is sent until the acquirer answers it:

* a reversible transaction left without a valid answer (timeout, broken link,
  bad MAC, a response that does not answer it, Ctrl-C, a crash) is reversed:
  its 0400, same trace. Approved: the entry is ``reversed``. Answered 25 (the
  acquirer never booked the original): the entry is ``reversed`` too, with
  that said; either way it counts for nothing;
* a refund is never reversed: the same request is sent again, same trace; the
  acquirer answers a repeat with its first answer, so it never refunds twice;
* a row prepared by a process that died before the exchange ended is treated
  as the same (see :meth:`SafItem.orphaned`).

Each send that gets no answer counts an attempt; the next waits
``retry_seconds``; after ``max_attempts`` the entry is *flagged* for the
operator (``terminal recover`` still sends flagged ones when asked to).
Every money command runs :func:`recover` first; ``terminal recover`` runs it
on demand. Entries that moved no money and never got an answer (an echo, a
sign-on, a reversal's own 0400 row superseded by a later send) are
``abandoned``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from terminal.errors import LinkError, ProtocolError
from terminal.journal import saf
from terminal.journal.entry import EntryState
from terminal.journal.store import Journal
from terminal.protocol.catalogue import Kind
from terminal.transactions.client import TerminalClient
from terminal.transactions.result import TransactionResult

__all__ = ["Outcome", "RecoveryLimits", "recover"]

log = logging.getLogger("terminal.recovery")

#: The acquirer's answer to a reversal of something it never booked.
NEVER_BOOKED = "25"


@dataclass(frozen=True)
class RecoveryLimits:
    """``[recovery]`` of the config file."""

    max_attempts: int = 5
    retry_seconds: float = 30.0
    #: A prepared row of a live process on another machine is left alone this long.
    stale_seconds: float = 300.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any], **overrides: Any) -> RecoveryLimits:
        section = dict(config.get("recovery", {}))
        section.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**section)


@dataclass(frozen=True)
class Outcome:
    """What became of one entry."""

    journal_id: int
    transaction: str
    trace: str
    amount_fen: int | None
    action: str  # reversal, resend, none
    outcome: str  # reversed, not-booked, answered, cleared, abandoned, retry, flagged, waiting
    response_code: str | None = None
    attempts: int = 0
    error: str | None = None
    #: Whether the exchange went to the simulator: what its answer said, else what the
    #: journal recorded when it was sent (None: not known).
    simulated: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def resolved(self) -> bool:
        return self.outcome not in ("retry", "flagged", "waiting")


def recover(
    client: TerminalClient, *, limits: RecoveryLimits | None = None, on_demand: bool = False,
) -> list[Outcome]:
    """Resolve every open queue row and every pending entry of the client's lane.

    ``on_demand`` (``terminal recover``) sends flagged rows and does not wait for
    retry intervals; before a money command they are honoured.
    """
    limits = limits or RecoveryLimits()
    journal = client.journal
    if not isinstance(journal, Journal):
        return []
    now = client._now()
    outcomes: list[Outcome] = []
    for item in saf.open_items(journal.connection, client.lane):
        if not item.orphaned(now, limits.stale_seconds):
            continue
        outcome = _resolve(client, journal, item, limits, now, on_demand)
        if outcome is not None:
            outcomes.append(outcome)
    outcomes.extend(_abandon_stale(journal, client.lane, now, limits))
    return outcomes


def _resolve(
    client: TerminalClient, journal: Journal, item: saf.SafItem, limits: RecoveryLimits,
    now: datetime, on_demand: bool,
) -> Outcome | None:
    entry = journal.get(item.entry_id)
    base = {"journal_id": entry.id, "transaction": entry.kind.value, "trace": entry.trace,
            "amount_fen": entry.amount_fen, "action": item.action.value,
            "simulated": entry.simulated}
    answered = entry.state in (EntryState.APPROVED, EntryState.DECLINED)
    if entry.state is EntryState.REVERSED or (item.state is saf.SafState.PREPARED and answered):
        # The answer was committed; the process died before it cleared the row.
        saf.set_state(journal.connection, item.id, saf.SafState.CLEARED, now)
        _supersede(journal, entry.id, keep=None)
        return Outcome(**base, outcome="cleared", response_code=entry.response_code,
                       attempts=item.attempts)
    if item.state is saf.SafState.FLAGGED and not on_demand:
        return Outcome(**base, outcome="flagged", attempts=item.attempts, error=item.last_error)
    if item.next_at and not on_demand and datetime.fromisoformat(item.next_at) > now:
        return Outcome(**base, outcome="waiting", attempts=item.attempts, error=item.last_error)
    attempts = item.attempts + 1
    try:
        if item.action is saf.SafAction.REVERSAL:
            result = client.run(Kind.REVERSAL, original=entry,
                                reason=item.request.get("39") or saf.NO_ANSWER)
        else:
            result = client.resend(entry)
    except (LinkError, ProtocolError) as exc:
        return _failed(journal, item, base, attempts, str(exc), limits, now)
    return _answered(journal, item, base, attempts, result, now, limits)


def _answered(
    journal: Journal, item: saf.SafItem, base: dict[str, Any], attempts: int,
    result: TransactionResult, now: datetime, limits: RecoveryLimits,
) -> Outcome:
    code = result.response.code
    base = {**base, "simulated": result.simulated}
    if item.action is saf.SafAction.REVERSAL:
        if result.approved:
            outcome = "reversed"
        elif code == NEVER_BOOKED:
            journal.mark(item.entry_id, EntryState.REVERSED,
                         "never booked by the acquirer (its reversal was answered 25)")
            outcome = "not-booked"
        else:
            return _failed(journal, item, base, attempts, f"reversal answered {code}", limits,
                           now)
    else:
        outcome = "answered"
    saf.set_state(journal.connection, item.id, saf.SafState.ANSWERED, now, attempts=attempts)
    _supersede(journal, item.entry_id, keep=result.journal_id)
    log.info("entry %d (%s trace %s): %s, code %s", item.entry_id, base["transaction"],
             base["trace"], outcome, code)
    return Outcome(**base, outcome=outcome, response_code=code, attempts=attempts)


def _failed(
    journal: Journal, item: saf.SafItem, base: dict[str, Any], attempts: int, error: str,
    limits: RecoveryLimits, now: datetime,
) -> Outcome:
    flagged = attempts >= limits.max_attempts
    state = saf.SafState.FLAGGED if flagged else saf.SafState.QUEUED
    next_at = (now + timedelta(seconds=limits.retry_seconds)).isoformat()
    saf.set_state(journal.connection, item.id, state, now, attempts=attempts, next_at=next_at,
                  error=error[:400])
    log.warning("entry %d (%s trace %s): %s attempt %d failed: %s%s", item.entry_id,
                base["transaction"], base["trace"], item.action.value, attempts, error,
                "; flagged for the operator" if flagged else "")
    return Outcome(**base, outcome="flagged" if flagged else "retry", attempts=attempts,
                   error=error)


def _supersede(journal: Journal, original_id: int, *, keep: int | None) -> None:
    """Earlier 0400 rows of an answered reversal, left without an answer, are history now."""
    rows = journal.connection.execute(
        "SELECT id FROM entries WHERE original_id = ? AND kind = ? AND state IN (?, ?)",
        (original_id, Kind.REVERSAL.value, EntryState.PENDING.value, EntryState.IN_DOUBT.value),
    ).fetchall()
    for (entry_id,) in rows:
        if entry_id != keep:
            journal.mark(entry_id, EntryState.ABANDONED,
                         "superseded: the reversal was sent again and answered")


def _abandon_stale(
    journal: Journal, lane: str, now: datetime, limits: RecoveryLimits
) -> list[Outcome]:
    """Pending or in-doubt entries that moved no money, or a reversal's superseded 0400 row."""
    outcomes = []
    cutoff = (now - timedelta(seconds=limits.stale_seconds)).isoformat()
    rows = journal.connection.execute(
        "SELECT e.id FROM entries AS e LEFT JOIN saf AS s ON s.entry_id = e.id"
        " WHERE e.lane = ? AND e.state IN (?, ?) AND s.id IS NULL",
        (lane, EntryState.PENDING.value, EntryState.IN_DOUBT.value),
    ).fetchall()
    for (entry_id,) in rows:
        entry = journal.get(entry_id)
        ended = entry.state is EntryState.IN_DOUBT or entry.created_at < cutoff
        if not ended or entry.kind is Kind.REVERSAL:
            continue  # a reversal's row is settled when its queue row is answered
        journal.mark(entry.id, EntryState.ABANDONED, "moved no money and was never answered")
        outcomes.append(Outcome(entry.id, entry.kind.value, entry.trace, entry.amount_fen,
                                "none", "abandoned", simulated=entry.simulated))
    return outcomes
