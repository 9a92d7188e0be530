"""Money as integer fen, parsed from and shown as yuan text without floats."""

from __future__ import annotations

import re

__all__ = ["MAX_AMOUNT_FEN", "format_fen", "parse_yuan"]

# Field 4 is n12: the largest amount the message can carry.
MAX_AMOUNT_FEN = 999_999_999_999

_YUAN = re.compile(r"([0-9]+)(?:\.([0-9]+))?", re.ASCII)
_SIGNED = re.compile(r"[-+][0-9.]+", re.ASCII)
# A Chinese input method types full-width digits (１２．３４) as readily as ASCII ones:
# they mean the same amount, so they are read as such, on purpose. Other scripts'
# digits (which Python's int() would also accept) are refused.
_FULL_WIDTH = str.maketrans(
    {**{0xFF10 + i: str(i) for i in range(10)}, 0xFF0E: ".", 0xFF0B: "+", 0xFF0D: "-",
     0x3000: " "}
)


def parse_yuan(text: str) -> int:
    """``"12.34"`` -> ``1234``. At most two decimals; no sign, no exponent.

    Parsed as text so that no binary float ever touches an amount; ``12.345``
    is refused rather than rounded, since a cashier typo must not become money.
    Full-width digits and point (``１２．３４``) are read as their ASCII forms.
    """
    cleaned = text.translate(_FULL_WIDTH).strip()
    shown = text.strip()
    if _SIGNED.fullmatch(cleaned):
        if cleaned.startswith("-"):
            raise ValueError(f"amount must be positive, got {shown}")
        raise ValueError(f"amount takes no sign: write {cleaned[1:]}, not {shown}")
    match = _YUAN.fullmatch(cleaned)
    if not match:
        raise ValueError(f"amount {shown!r} is not yuan with at most two decimals, e.g. 12.34")
    whole, cents = match.group(1), match.group(2) or ""
    if len(cents) > 2:
        raise ValueError(f"amount {shown} has more than two decimals; fen is the smallest unit")
    fen = int(whole) * 100 + int(cents.ljust(2, "0"))
    if fen <= 0:
        raise ValueError(f"amount must be positive, got {shown}")
    if fen > MAX_AMOUNT_FEN:
        raise ValueError(
            f"amount {shown} is over the maximum of {format_fen(MAX_AMOUNT_FEN)} yuan"
        )
    return fen


def format_fen(fen: int) -> str:
    """``1234`` -> ``"12.34"``."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole}.{cents:02d}"
