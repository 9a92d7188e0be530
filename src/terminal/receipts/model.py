"""What a receipt says, as values: one transaction slip, or a settlement report.

These are built from a transaction result now and from a journal entry for a
reprint (never from stored print bytes), so a reprint says what the books say.
They hold the masked card number only. :meth:`fields` turns them into the
strings a layout template fills in; a template may use no other names, and
that is checked when the template is loaded.
"""

from __future__ import annotations

import enum
import json
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from terminal.receipts.lookup_code import LookupKey
from terminal.receipts.names import entry_mode_name, kind_name
from terminal.transactions.amount import format_fen
from terminal.transactions.result import TransactionResult

__all__ = [
    "SETTLEMENT_FIELDS",
    "TRANSACTION_FIELDS",
    "Copy",
    "Original",
    "ReceiptData",
    "SettlementLine",
    "SettlementReport",
]


class Copy(enum.Enum):
    """Which slip of the pair: the merchant keeps one, the cardholder takes the other."""

    MERCHANT = "merchant"
    CUSTOMER = "customer"

    @property
    def label(self) -> str:
        return {"merchant": "商户存根 MERCHANT COPY", "customer": "持卡人存根 CARDHOLDER COPY"}[
            self.value
        ]


@dataclass(frozen=True, slots=True)
class Original:
    """The transaction a void, refund or completion points at (field 61, 37)."""

    rrn: str | None = None
    trace: str | None = None
    batch: str | None = None
    date: str | None = None  # MMDD
    auth_code: str | None = None


@dataclass(frozen=True, slots=True)
class ReceiptData:
    """One transaction as a slip shows it."""

    kind: str  # catalogue name: sale, void, refund, ...
    approved: bool
    response_code: str
    response_text: str
    merchant_name: str
    merchant_id: str
    terminal_id: str
    batch: str
    trace: str
    amount_fen: int | None = None
    balance_fen: int | None = None
    card_masked: str | None = None
    card_organisation: str | None = None
    entry_mode: str | None = None  # field 22
    operator: str | None = None
    rrn: str | None = None
    auth_code: str | None = None
    local_date: str | None = None  # MMDD
    local_time: str | None = None  # hhmmss
    year: str | None = None  # the slip shows YYYY/MM/DD when known
    original: Original | None = None
    reason: str | None = None
    simulated: bool = False
    reprint: bool = False

    @classmethod
    def from_result(
        cls,
        result: TransactionResult,
        *,
        merchant_name: str,
        simulated: bool,
        operator: str | None = None,
        year: str | None = None,
        **extra: Any,
    ) -> ReceiptData:
        """The slip of a transaction just answered. ``extra`` fills what the result
        does not carry (``entry_mode``, ``reason``)."""
        ref = result.original
        if ref is not None and "original" not in extra:
            extra["original"] = Original(ref.rrn, ref.trace, ref.batch, ref.date,
                                         ref.auth_code)
        return cls(
            kind=result.kind.value,
            approved=result.approved,
            response_code=result.response.code,
            response_text=result.response.operator_message,
            merchant_name=merchant_name,
            merchant_id=result.merchant_id,
            terminal_id=result.terminal_id,
            batch=result.batch,
            trace=result.trace,
            amount_fen=result.amount_fen,
            balance_fen=result.balance_fen,
            card_masked=result.card.masked if result.card else None,
            card_organisation=result.card_organisation,
            rrn=result.rrn,
            auth_code=result.auth_code,
            local_date=result.local_date,
            local_time=result.local_time,
            operator=operator,
            year=year,
            simulated=simulated,
            **extra,
        )

    def as_reprint(self) -> ReceiptData:
        return replace(self, reprint=True)

    @property
    def lookup_key(self) -> LookupKey | None:
        """What the QR code holds; none for a slip the journal cannot find (no RRN)."""
        if not (self.rrn and self.local_date):
            return None
        return LookupKey(self.rrn, self.trace, self.local_date, self.terminal_id)

    def fields(self, copy: Copy) -> dict[str, Any]:
        """The template's names: strings to print, booleans for ``when`` conditions."""
        name = kind_name(self.kind)
        original = self.original or Original()
        key = self.lookup_key
        return {
            "merchant_name": self.merchant_name,
            "merchant_id": self.merchant_id,
            "terminal_id": self.terminal_id,
            "operator": self.operator or "",
            "copy": copy.label,
            "merchant_copy": copy is Copy.MERCHANT,
            "kind": name.both,
            "kind_zh": name.chinese,
            "kind_en": name.english,
            "card": self.card_masked or "",
            "card_organisation": self.card_organisation or "",
            "entry_mode": entry_mode_name(self.entry_mode),
            "batch": self.batch,
            "trace": self.trace,
            "rrn": self.rrn or "",
            "auth_code": self.auth_code or "",
            "date_time": _date_time(self.year, self.local_date, self.local_time),
            "amount": f"RMB {format_fen(self.amount_fen)}" if self.amount_fen is not None else "",
            "balance": f"RMB {format_fen(self.balance_fen)}"
            if self.balance_fen is not None else "",
            "response": f"{self.response_code} {self.response_text}",
            "approved": self.approved,
            "declined": not self.approved,
            "original": bool(self.original),
            "original_rrn": original.rrn or "",
            "original_trace": original.trace or "",
            "original_batch": original.batch or "",
            "original_date": _month_day(original.date),
            "original_auth_code": original.auth_code or "",
            "reason": self.reason or "",
            "signature": copy is Copy.MERCHANT and self.approved and name.signature,
            "simulated": self.simulated,
            "reprint": self.reprint,
            "lookup": key.to_text() if key else "",
        }


@dataclass(frozen=True, slots=True)
class SettlementLine:
    """One category of the batch: how many and how much."""

    count: int = 0
    amount_fen: int = 0


@dataclass(frozen=True, slots=True)
class SettlementReport:
    """A batch's totals as the settlement report (结算单) prints them.

    Sales and completions are debits, voids of them cancel debits, refunds are
    credits; ``net`` is what the merchant is owed for the batch.
    """

    merchant_name: str
    merchant_id: str
    terminal_id: str
    batch: str
    sales: SettlementLine = field(default_factory=SettlementLine)
    completions: SettlementLine = field(default_factory=SettlementLine)
    voids: SettlementLine = field(default_factory=SettlementLine)
    refunds: SettlementLine = field(default_factory=SettlementLine)
    balanced: bool | None = None  # None: the bank has not answered
    local_date: str | None = None
    local_time: str | None = None
    year: str | None = None
    operator: str | None = None
    simulated: bool = False
    reprint: bool = False

    @property
    def net_fen(self) -> int:
        return (self.sales.amount_fen + self.completions.amount_fen
                - self.voids.amount_fen - self.refunds.amount_fen)

    def as_reprint(self) -> SettlementReport:
        return replace(self, reprint=True)

    def fields(self, copy: Copy | None = None) -> dict[str, Any]:
        agreed = {True: "平账 BALANCED", False: "不平 NOT BALANCED", None: "未对账 NOT CHECKED"}
        values: dict[str, Any] = {
            "merchant_name": self.merchant_name,
            "merchant_id": self.merchant_id,
            "terminal_id": self.terminal_id,
            "operator": self.operator or "",
            "batch": self.batch,
            "date_time": _date_time(self.year, self.local_date, self.local_time),
            "net": f"RMB {format_fen(self.net_fen)}",
            "total_count": str(self.sales.count + self.completions.count + self.voids.count
                               + self.refunds.count),
            "bank": agreed[self.balanced],
            "balanced": self.balanced is True,
            "not_balanced": self.balanced is False,
            "simulated": self.simulated,
            "reprint": self.reprint,
        }
        for name in ("sales", "completions", "voids", "refunds"):
            line: SettlementLine = getattr(self, name)
            values[f"{name}_count"] = str(line.count)
            values[f"{name}_amount"] = f"RMB {format_fen(line.amount_fen)}"
        return values


def to_payload(data: ReceiptData | SettlementReport) -> str:
    """The receipt's values as JSON, for a print job waiting in the queue (the values,
    never printer bytes: the slip is laid out again when it prints)."""
    document = "settlement" if isinstance(data, SettlementReport) else "transaction"
    return json.dumps({"document": document, "values": asdict(data)}, ensure_ascii=False,
                      sort_keys=True)


def from_payload(text: str) -> ReceiptData | SettlementReport:
    """The values :func:`to_payload` wrote."""
    payload = json.loads(text)
    values = dict(payload["values"])
    if payload["document"] == "settlement":
        for name in ("sales", "completions", "voids", "refunds"):
            values[name] = SettlementLine(**values[name])
        return SettlementReport(**values)
    if values.get("original") is not None:
        values["original"] = Original(**values["original"])
    return ReceiptData(**values)


def _month_day(mmdd: str | None) -> str:
    return f"{mmdd[:2]}/{mmdd[2:]}" if mmdd and len(mmdd) == 4 else ""


def _date_time(year: str | None, mmdd: str | None, hhmmss: str | None) -> str:
    if not (mmdd and hhmmss and len(mmdd) == 4 and len(hhmmss) == 6):
        return ""
    date = f"{year}/{mmdd[:2]}/{mmdd[2:]}" if year else f"{mmdd[:2]}/{mmdd[2:]}"
    return f"{date} {hhmmss[:2]}:{hhmmss[2:4]}:{hhmmss[4:]}"


# The names a template may use, from the values themselves so the two cannot drift.
TRANSACTION_FIELDS = frozenset(
    ReceiptData("sale", True, "00", "", "", "", "", "", "").fields(Copy.MERCHANT)
)
SETTLEMENT_FIELDS = frozenset(SettlementReport("", "", "", "").fields())
