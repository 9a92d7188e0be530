"""Receipts: the plain-text layout here; ESC/POS printing builds on the same lines."""

from terminal.receipts.text import CUSTOMER_COPY, MERCHANT_COPY, render_text_receipt

__all__ = ["CUSTOMER_COPY", "MERCHANT_COPY", "render_text_receipt"]
