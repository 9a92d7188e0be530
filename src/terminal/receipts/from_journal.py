"""Receipts rebuilt from the journal: reprints and the settlement report.

A reprint is laid out again from what the journal recorded about the
transaction (never from stored print bytes), so it says what the books say
and carries ``重打印 REPRINT``. The settlement report counts the batch's
approved entries by kind: sales, completions, voids (of sales and of
completions), refunds, each apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from terminal.journal.entry import JournalEntry
from terminal.protocol.catalogue import Kind
from terminal.protocol.response_codes import describe
from terminal.receipts.model import Original, ReceiptData, SettlementLine, SettlementReport

__all__ = ["RECEIPT_KINDS", "receipt_from_entry", "settlement_from_entries"]

#: Kinds that print a slip: money, holds and balance; not network or batch messages.
RECEIPT_KINDS = frozenset({
    Kind.SALE, Kind.VOID, Kind.REFUND, Kind.BALANCE, Kind.PREAUTH, Kind.PREAUTH_CANCEL,
    Kind.COMPLETION, Kind.COMPLETION_VOID, Kind.REVERSAL,
})


def receipt_from_entry(
    entry: JournalEntry,
    *,
    merchant_name: str,
    simulated: bool,
    year: str | None = None,
) -> ReceiptData:
    """The slip of a journaled transaction (call :meth:`ReceiptData.as_reprint` to mark it).

    ``simulated`` counts only for entries written before the journal recorded where
    each exchange went (schema 3); otherwise the entry's own word is taken."""
    if entry.kind not in RECEIPT_KINDS:
        raise ValueError(f"a {entry.kind.value} prints no receipt")
    fields = _request_fields(entry)
    code = entry.response_code or ""
    original = None
    if entry.original_rrn or entry.original_trace:
        original = Original(entry.original_rrn, entry.original_trace, entry.original_batch,
                            entry.original_date)
    return ReceiptData(
        kind=entry.kind.value,
        approved=entry.approved,
        response_code=code,
        response_text=describe(code).operator_message if code else "",
        merchant_name=merchant_name,
        merchant_id=str(fields.get("42", "")),
        terminal_id=entry.lane,
        batch=entry.batch,
        trace=entry.trace,
        amount_fen=entry.amount_fen,
        card_masked=entry.card_masked,
        card_organisation=entry.card_organisation,
        entry_mode=str(fields["22"]) if "22" in fields else None,
        rrn=entry.rrn,
        auth_code=entry.auth_code,
        local_date=entry.local_date,
        local_time=entry.local_time,
        year=year,
        original=original,
        reason=entry.reason if entry.kind is Kind.REFUND else None,
        operator=entry.operator,
        simulated=simulated if entry.simulated is None else entry.simulated,
    )


def settlement_from_entries(
    entries: Iterable[JournalEntry],
    *,
    merchant_name: str,
    merchant_id: str,
    terminal_id: str,
    batch: str,
    balanced: bool | None,
    simulated: bool,
    local_date: str | None = None,
    local_time: str | None = None,
    year: str | None = None,
) -> SettlementReport:
    """The report of ``batch`` from its approved journal entries."""
    lines: dict[str, list[int]] = {name: [0, 0] for name in
                                   ("sales", "completions", "voids", "refunds")}
    category = {Kind.SALE: "sales", Kind.COMPLETION: "completions", Kind.VOID: "voids",
                Kind.COMPLETION_VOID: "voids", Kind.REFUND: "refunds"}
    for entry in entries:
        name = category.get(entry.kind)
        if name is None or not entry.approved or entry.batch != batch:
            continue
        lines[name][0] += 1
        lines[name][1] += entry.amount_fen or 0
    return SettlementReport(
        merchant_name=merchant_name, merchant_id=merchant_id, terminal_id=terminal_id,
        batch=batch, balanced=balanced, local_date=local_date, local_time=local_time,
        year=year, simulated=simulated,
        **{name: SettlementLine(count, fen) for name, (count, fen) in lines.items()},
    )


def _request_fields(entry: JournalEntry) -> dict[str, Any]:
    fields = entry.request.get("fields", {}) if isinstance(entry.request, dict) else {}
    return fields if isinstance(fields, dict) else {}
