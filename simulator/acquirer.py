"""The acquirer's rules: what a void, refund, completion or cancel may refer to.

Small functions keyed by transaction kind, each given the request, the card the
terminal read and the books, returning either a :class:`Refusal` (code and why)
or the original entry the transaction refers to (``None`` for kinds without
one). The codes follow ``docs/protocol.md`` ("Acquirer rules"):

- 25: no such original for this card: unknown, declined, reversed, of another
  kind, another RRN than 61 points at, or **another card than the one that paid**;
- 12: the original may no longer be acted on: voided, refunded (for a void),
  of a settled batch (for a void), completed or cancelled (for a pre-auth),
  outside the refund window;
- 64: the amount does not fit the original: a void or cancel of another amount,
  refunds summing over the original, a completion over the authorised amount
  plus the tolerance.

A refused request is answered without being booked: the books do not change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from simulator.cards import CardProfile
from simulator.config import SimulatorSettings
from simulator.ledger import BatchTotals, Ledger, LedgerEntry
from terminal.protocol.catalogue import Kind, TransactionType
from terminal.protocol.message import Message
from terminal.protocol.response_codes import Rc
from terminal.protocol.settlement import Reconciliation, answer_field, settlement_figures

__all__ = ["Refusal", "answer_totals", "check_rules", "settlement_totals"]


@dataclass(frozen=True)
class Refusal:
    code: Rc
    reason: str


@dataclass(frozen=True)
class _Ask:
    row: TransactionType
    request: Message
    card: CardProfile
    amount: int
    now: datetime
    batch: str
    lane: str
    ledger: Ledger
    settings: SimulatorSettings


def check_rules(
    row: TransactionType,
    request: Message,
    *,
    card: CardProfile,
    amount: int,
    now: datetime,
    batch: str,
    lane: str,
    ledger: Ledger,
    settings: SimulatorSettings,
) -> Refusal | LedgerEntry | None:
    """The refusal of ``request``, or the original it refers to (``None`` if none is needed)."""
    if not row.needs_original:
        return None
    ask = _Ask(row, request, card, amount, now, batch, lane, ledger, settings)
    found = _original(ask)
    if isinstance(found, Refusal):
        return found
    return _RULES[row.kind](ask, found) or found


def _original(ask: _Ask) -> Refusal | LedgerEntry:
    """The original that 61 (batch, trace) points at, checked against 37 and the card."""
    sub61 = ask.request.get(61)
    if not isinstance(sub61, Mapping) or not sub61.get("original_batch") or not sub61.get(
        "original_trace"
    ):
        return Refusal(Rc.FORMAT_ERROR, "no original batch and trace in field 61")
    original = ask.ledger.find(sub61["original_batch"], sub61["original_trace"], lane=ask.lane)
    rrn = ask.request.get(37)
    if original is None:
        return Refusal(Rc.ORIGINAL_NOT_FOUND, "no entry at that batch and trace")
    if rrn is not None and rrn.strip() != original.rrn:
        return Refusal(Rc.ORIGINAL_NOT_FOUND, "field 37 is not the original's RRN")
    if original.kind not in {kind.value for kind in ask.row.originals}:
        return Refusal(Rc.ORIGINAL_NOT_FOUND, f"the original is a {original.kind}")
    if not original.approved or original.reversed:
        return Refusal(Rc.ORIGINAL_NOT_FOUND, "the original was declined or reversed")
    if original.card != ask.card.name:
        return Refusal(Rc.ORIGINAL_NOT_FOUND, "another card than the one that paid")
    return original


def _void(ask: _Ask, original: LedgerEntry) -> Refusal | None:
    assert original.id is not None
    if original.batch != ask.batch:
        return Refusal(Rc.INVALID_TRANSACTION, "the original's batch is settled")
    if ask.ledger.followers(original.id, ask.row.kind):
        return Refusal(Rc.INVALID_TRANSACTION, "already voided")
    if ask.ledger.followers(original.id, Kind.REFUND):
        return Refusal(Rc.INVALID_TRANSACTION, "the original has a refund")
    if ask.amount != original.amount:
        return Refusal(Rc.ORIGINAL_AMOUNT_INCORRECT, "a void is of the whole amount")
    return None


def _refund(ask: _Ask, original: LedgerEntry) -> Refusal | None:
    assert original.id is not None
    if ask.ledger.followers(original.id, Kind.VOID) or ask.ledger.followers(
        original.id, Kind.COMPLETION_VOID
    ):
        return Refusal(Rc.INVALID_TRANSACTION, "the original was voided")
    age = (ask.now.date() - original.time.date()).days
    if age > ask.settings.refund_window_days:
        return Refusal(Rc.INVALID_TRANSACTION, f"the original is {age} days old")
    refunded = sum(entry.amount for entry in ask.ledger.followers(original.id, Kind.REFUND))
    if ask.amount > original.amount - refunded:
        return Refusal(
            Rc.ORIGINAL_AMOUNT_INCORRECT,
            f"{ask.amount} fen is over the {original.amount - refunded} fen left to refund",
        )
    return None


def _preauth_cancel(ask: _Ask, original: LedgerEntry) -> Refusal | None:
    refusal = _preauth_open(ask, original)
    if refusal is None and ask.amount != original.amount:
        return Refusal(Rc.ORIGINAL_AMOUNT_INCORRECT, "a cancel is of the authorised amount")
    return refusal


def _completion(ask: _Ask, original: LedgerEntry) -> Refusal | None:
    refusal = _preauth_open(ask, original)
    if refusal is not None:
        return refusal
    ceiling = original.amount * (100 + ask.settings.completion_tolerance_percent)
    if ask.amount * 100 > ceiling:
        return Refusal(Rc.ORIGINAL_AMOUNT_INCORRECT, "over the authorised amount")
    return None


def _preauth_open(ask: _Ask, original: LedgerEntry) -> Refusal | None:
    assert original.id is not None
    if ask.ledger.followers(original.id, Kind.PREAUTH_CANCEL):
        return Refusal(Rc.INVALID_TRANSACTION, "the pre-authorization was cancelled")
    for completion in ask.ledger.followers(original.id, Kind.COMPLETION):
        assert completion.id is not None
        if not ask.ledger.followers(completion.id, Kind.COMPLETION_VOID):
            return Refusal(Rc.INVALID_TRANSACTION, "the pre-authorization was completed")
    return None


_RULES: dict[Kind, Callable[[_Ask, LedgerEntry], Refusal | None]] = {
    Kind.VOID: _void,
    Kind.COMPLETION_VOID: _void,
    Kind.REFUND: _refund,
    Kind.PREAUTH_CANCEL: _preauth_cancel,
    Kind.COMPLETION: _completion,
}


# -- settlement: field 48 ---------------------------------------------------------------


def settlement_totals(field48: object) -> BatchTotals | None:
    """The host's domestic totals from a 0500's field 48, or ``None`` if unreadable."""
    figures = settlement_figures(field48)
    if figures is None:
        return None
    return BatchTotals(
        batch="", debit_amount=figures.debit_amount, debit_count=figures.debit_count,
        credit_amount=figures.credit_amount, credit_count=figures.credit_count,
    )


def answer_totals(field48: object, *, balanced: bool) -> dict[str, str] | str:
    """Field 48 of the 0510: the host's figures with each reconciliation code set."""
    return answer_field(
        field48, Reconciliation.BALANCED if balanced else Reconciliation.NOT_BALANCED
    )
