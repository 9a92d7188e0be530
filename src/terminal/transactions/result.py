"""What a transaction came to, in the form every later layer (receipt, journal, CLI) uses.

Holds no full card number: the card is a :class:`~terminal.card_data.ProtectedPan`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from terminal.card_data import ProtectedPan
from terminal.protocol.response_codes import ResponseCode
from terminal.transactions.amount import format_fen

__all__ = ["TransactionKind", "TransactionResult"]


class TransactionKind(enum.Enum):
    SIGN_ON = "sign_on"
    ECHO = "echo"
    BALANCE = "balance"
    SALE = "sale"

    @property
    def label(self) -> str:
        """The transaction's name on a Chinese receipt or screen."""
        return _LABELS[self]


_LABELS = {
    TransactionKind.SIGN_ON: "签到",
    TransactionKind.ECHO: "回响测试",
    TransactionKind.BALANCE: "余额查询",
    TransactionKind.SALE: "消费",
}


@dataclass(frozen=True, slots=True)
class TransactionResult:
    """One answered exchange with the terminal."""

    kind: TransactionKind
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

    @property
    def approved(self) -> bool:
        return self.response.approved

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view; amounts stay integer fen."""
        return {
            "transaction": self.kind.value,
            "approved": self.approved,
            "response_code": self.response.code,
            "message": self.response.operator_message,
            "meaning": self.response.meaning,
            "amount_fen": self.amount_fen,
            "card": self.card.masked if self.card else None,
            "card_token": self.card.token if self.card else None,
            "rrn": self.rrn,
            "auth_code": self.auth_code,
            "trace": self.trace,
            "batch": self.batch,
            "terminal_id": self.terminal_id,
            "merchant_id": self.merchant_id,
            "date": self.local_date,
            "time": self.local_time,
            "balance_fen": self.balance_fen,
        }

    def summary(self) -> str:
        """One line for a cashier's screen."""
        text = f"{self.kind.label} {self.response.code} {self.response.operator_message}"
        if self.amount_fen is not None:
            text += f"  金额 {format_fen(self.amount_fen)}"
        if self.balance_fen is not None:
            text += f"  余额 {format_fen(self.balance_fen)}"
        return text
