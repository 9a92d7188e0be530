# ruff: noqa: E402  (python-escpos must be imported quietly before the modules using it)
"""Receipts: slips laid out from data templates, printed on ESC/POS printers.

- :class:`ReceiptData` / :class:`SettlementReport` — what a slip says;
- :func:`render_document` — a slip as a :class:`Document` for a paper width
  (templates in ``layouts/``), and its plain text;
- :func:`print_receipt` — onto a :class:`~terminal.receipts.printers.Printer`
  (:func:`~terminal.receipts.printers.open_printer` from a URL);
- :mod:`terminal.receipts.status` — DLE EOT status, "unknown" when silent;
- :mod:`terminal.receipts.queue` — print jobs, journaled, never printed twice.
"""

from terminal.receipts.escpos_import import import_escpos_quietly

import_escpos_quietly()

from terminal.receipts.document import Document
from terminal.receipts.layout import layout, load_template
from terminal.receipts.lookup_code import LookupKey
from terminal.receipts.model import Copy, Original, ReceiptData, SettlementLine, SettlementReport
from terminal.receipts.printers import Printer, PrinterError, open_printer
from terminal.receipts.text import (
    CUSTOMER_COPY,
    MERCHANT_COPY,
    SIMULATOR_MARK,
    render_text_receipt,
)

__all__ = [
    "CUSTOMER_COPY",
    "MERCHANT_COPY",
    "SIMULATOR_MARK",
    "Copy",
    "Document",
    "LookupKey",
    "Original",
    "Printer",
    "PrinterError",
    "ReceiptData",
    "SettlementLine",
    "SettlementReport",
    "open_printer",
    "print_receipt",
    "render_document",
    "render_text_receipt",
]


def render_document(
    data: ReceiptData | SettlementReport, copy: Copy | None, columns: int
) -> Document:
    """The slip for ``data`` on a paper of ``columns`` cells (32 or 48)."""
    if isinstance(data, SettlementReport):
        return layout(load_template("settlement", columns), data.fields(), "settlement")
    return layout(load_template("transaction", columns), data.fields(copy or Copy.MERCHANT),
                  data.kind)


def print_receipt(
    printer: Printer, data: ReceiptData | SettlementReport, copy: Copy | None = None
) -> None:
    """Lay ``data`` out for ``printer``'s paper and print it (no status checks: see
    :mod:`terminal.receipts.queue` for jobs that must print exactly once)."""
    printer.print_document(render_document(data, copy, printer.profile.columns))
