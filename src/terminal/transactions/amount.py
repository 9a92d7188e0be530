"""Money as integer fen, parsed from and shown as yuan text without floats."""

from __future__ import annotations

import re

__all__ = ["MAX_AMOUNT_FEN", "format_fen", "parse_yuan"]

# Field 4 is n12: the largest amount the message can carry.
MAX_AMOUNT_FEN = 999_999_999_999

_YUAN = re.compile(r"^\s*(\d{1,10})(?:\.(\d{1,2}))?\s*$")


def parse_yuan(text: str) -> int:
    """``"12.34"`` -> ``1234``. At most two decimals; no sign, no exponent.

    Parsed as text so that no binary float ever touches an amount; ``12.345``
    is refused rather than rounded, since a cashier typo must not become money.
    """
    match = _YUAN.match(text)
    if not match:
        raise ValueError(f"amount {text!r} is not yuan with at most two decimals, e.g. 12.34")
    whole, cents = match.group(1), (match.group(2) or "").ljust(2, "0")
    fen = int(whole) * 100 + int(cents)
    if fen <= 0:
        raise ValueError("amount must be greater than zero")
    if fen > MAX_AMOUNT_FEN:
        raise ValueError(f"amount {text!r} is over the largest the terminal accepts")
    return fen


def format_fen(fen: int) -> str:
    """``1234`` -> ``"12.34"``."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole}.{cents:02d}"
