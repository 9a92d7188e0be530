"""What a transaction came to, in the form every later layer (receipt, journal, CLI) uses.

Holds no full card number: the card is a :class:`~terminal.card_data.ProtectedPan`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from terminal.card_data import ProtectedPan
from terminal.digest_text import colon_hex
from terminal.journal.entry import OriginalRef
from terminal.protocol.catalogue import CATALOGUE, Effect, Kind
from terminal.protocol.response_codes import ResponseCode
from terminal.transactions.amount import format_fen

__all__ = ["SettlementTotals", "TransactionKind", "TransactionResult"]

#: The catalogue's kinds; the name older callers use.
TransactionKind = Kind


@dataclass(frozen=True, slots=True)
class SettlementTotals:
    """A batch's figures as the host sends them (field 48) and prints them."""

    sales_count: int = 0  # sales, not voided or reversed
    sales_fen: int = 0
    completions_count: int = 0  # pre-authorization completions, not voided or reversed
    completions_fen: int = 0
    voids_count: int = 0
    voids_fen: int = 0
    refunds_count: int = 0
    refunds_fen: int = 0
    balanced: bool | None = None  # the acquirer's answer (None before it came)
    uploaded: int = 0  # records sent by batch upload after "not balanced"

    @property
    def debits_count(self) -> int:
        """Sales and completions together: the debits that field 48 sends the acquirer."""
        return self.sales_count + self.completions_count

    @property
    def debits_fen(self) -> int:
        return self.sales_fen + self.completions_fen

    @property
    def net_fen(self) -> int:
        return self.debits_fen - self.refunds_fen

    def to_dict(self) -> dict[str, Any]:
        return {
            "sales": {"count": self.sales_count, "amount_fen": self.sales_fen},
            "completions": {"count": self.completions_count, "amount_fen": self.completions_fen},
            "voids": {"count": self.voids_count, "amount_fen": self.voids_fen},
            "refunds": {"count": self.refunds_count, "amount_fen": self.refunds_fen},
            "net_fen": self.net_fen,
            "balanced": self.balanced,
            "uploaded": self.uploaded,
        }


@dataclass(frozen=True, slots=True)
class TransactionResult:
    """One answered exchange with the terminal."""

    kind: Kind
    response: ResponseCode
    trace: str
    batch: str
    terminal_id: str
    merchant_id: str
    amount_fen: int | None = None
    card: ProtectedPan | None = None
    rrn: str | None = None
    auth_code: str | None = None
    local_date: str | None = None  # MMDD, field 13
    local_time: str | None = None  # hhmmss, field 12
    balance_fen: int | None = None
    card_organisation: str | None = None
    original: OriginalRef | None = None
    totals: SettlementTotals | None = None
    journal_id: int | None = None
    #: Answered by the simulator (``sim://``, or a response carrying its mark): no money
    #: moved, whatever ``moved_money`` says of the transaction.
    simulated: bool = False

    @property
    def approved(self) -> bool:
        return self.response.approved

    @property
    def moved_money(self) -> bool:
        """Whether this approval changed what the card or the merchant holds."""
        effect = CATALOGUE[self.kind].effect
        if self.kind is Kind.REVERSAL:
            return self.approved
        return self.approved and effect is not Effect.NONE

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view; amounts stay integer fen."""
        data: dict[str, Any] = {
            "transaction": self.kind.value,
            "approved": self.approved,
            "moved_money": self.moved_money,
            "response_code": self.response.code,
            "message": self.response.operator_message,
            "meaning": self.response.meaning,
            "amount_fen": self.amount_fen,
            "card": self.card.masked if self.card else None,
            "card_token": colon_hex(self.card.token) if self.card else None,
            "rrn": self.rrn,
            "auth_code": self.auth_code,
            "trace": self.trace,
            "batch": self.batch,
            "terminal_id": self.terminal_id,
            "merchant_id": self.merchant_id,
            "date": self.local_date,
            "time": self.local_time,
            "balance_fen": self.balance_fen,
            "simulated": self.simulated,
        }
        if self.original is not None:
            data["original"] = self.original.to_dict()
        if self.totals is not None:
            data["totals"] = self.totals.to_dict()
        return data

    def summary(self) -> str:
        """One line for a cashier's screen."""
        label = CATALOGUE[self.kind].label
        text = f"{label} {self.response.code} {self.response.operator_message}"
        if self.amount_fen is not None:
            text += f"  金额 {format_fen(self.amount_fen)}"
        if self.balance_fen is not None:
            text += f"  余额 {format_fen(self.balance_fen)}"
        return text
