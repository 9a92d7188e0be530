"""One journaled exchange, as the host's later steps (receipts, lookup, recovery) read it."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from terminal.protocol.catalogue import CATALOGUE, Kind, TransactionType

__all__ = ["EntryState", "JournalEntry", "OriginalRef"]


class EntryState(enum.StrEnum):
    """Where an exchange stands. Only ``pending`` and ``in_doubt`` need resolving."""

    PENDING = "pending"  # written before the first byte was sent; no answer yet
    APPROVED = "approved"
    DECLINED = "declined"
    IN_DOUBT = "in_doubt"  # sent, but no believable answer: reverse or resend it
    REVERSED = "reversed"  # an approved or in-doubt original, undone by a reversal
    ABANDONED = "abandoned"  # moved no money and was never answered (echo, sign-on, a
    # reversal's own 0400 row that a later send of the same reversal took over)


@dataclass(frozen=True)
class OriginalRef:
    """What a void, refund, completion or reversal says about its original (37, 61)."""

    rrn: str | None
    trace: str
    batch: str
    date: str | None  # MMDD
    auth_code: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"rrn": self.rrn, "trace": self.trace, "batch": self.batch, "date": self.date}


@dataclass(frozen=True)
class JournalEntry:
    """A row of the journal. Card data only as masked number and keyed token."""

    id: int
    lane: str
    kind: Kind
    state: EntryState
    mti: str
    trace: str
    batch: str
    amount_fen: int | None
    request: dict[str, Any]  # the request's JSON shape: everything to resend or reverse it
    created_at: str
    completed_at: str | None = None
    response_code: str | None = None
    rrn: str | None = None
    auth_code: str | None = None
    local_date: str | None = None
    local_time: str | None = None
    card_masked: str | None = None
    card_token: bytes | None = None  # keyed token (:func:`terminal.card_data.protect_pan`)
    original_id: int | None = None
    original_rrn: str | None = None
    original_trace: str | None = None
    original_batch: str | None = None
    original_date: str | None = None
    reason: str | None = None
    operator: str | None = None  # the cashier who ran it
    supervisor: str | None = None  # who authorised it (void, refund, settlement)
    refund_reason: str | None = None  # returned, wrong-amount, duplicate, not-provided, other
    refund_note: str | None = None  # the words that go with "other"
    alarm: str | None = None  # set when the answer cannot be right (another card's approval)
    simulated: bool | None = None  # sent to the simulator; None: written before schema 3
    card_organisation: str | None = None  # field 63 of the answer (CUP, VIS, ...)

    @property
    def type(self) -> TransactionType:
        return CATALOGUE[self.kind]

    @property
    def approved(self) -> bool:
        return self.state is EntryState.APPROVED

    def as_original(self) -> OriginalRef:
        """How a void or refund of this entry refers to it."""
        return OriginalRef(self.rrn, self.trace, self.batch, self.local_date, self.auth_code)
