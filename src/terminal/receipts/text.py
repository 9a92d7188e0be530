"""A slip as plain text, for a screen (``terminal sale --receipt``): the printed layout.

The text is the 58 mm template's (``layouts/transaction-32.toml``) with its
cells counted the printer's way, so what the cashier sees on screen is what the
printer prints, ``*** 模拟 SIMULATOR ***`` on top of a simulator's slip
included. Only the masked card number ever reaches a receipt.
"""

from __future__ import annotations

from datetime import date

from terminal.receipts.layout import layout, load_template
from terminal.receipts.model import Copy, ReceiptData
from terminal.transactions.result import TransactionResult

__all__ = ["CUSTOMER_COPY", "MERCHANT_COPY", "SIMULATOR_MARK", "render_text_receipt"]

MERCHANT_COPY = "商户存根"
#: Heads a slip printed from the simulator, so that nobody files it as a payment.
SIMULATOR_MARK = "*** 模拟 SIMULATOR ***"
CUSTOMER_COPY = "持卡人存根"
WIDTH = 32
_COPIES = {MERCHANT_COPY: Copy.MERCHANT, CUSTOMER_COPY: Copy.CUSTOMER}


def render_text_receipt(
    result: TransactionResult,
    *,
    merchant_name: str,
    copy: str = MERCHANT_COPY,
    width: int = WIDTH,
    simulated: bool = False,
    today: date | None = None,
) -> str:
    """The slip for ``result``, ``width`` columns (32 or 48) wide, ending in a newline.

    ``simulated`` (the exchange was with the simulator) puts
    :data:`SIMULATOR_MARK` first, so the slip cannot pass for a real payment.
    """
    data = ReceiptData.from_result(result, merchant_name=merchant_name, simulated=simulated,
                                   year=year_of(result.local_date, today or date.today()))
    return layout(load_template("transaction", width), data.fields(_COPIES[copy])).text()


def year_of(mmdd: str | None, today: date) -> str | None:
    """The year of a field-13 date (MMDD): this year, or last year for a December
    date seen in January (a slip printed just after New Year's midnight)."""
    if not mmdd or len(mmdd) != 4 or not mmdd.isdigit():
        return None
    month = int(mmdd[:2])
    return str(today.year - 1 if month > today.month + 6 else today.year)
