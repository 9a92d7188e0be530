"""Card numbers as the host may keep them: masked for people, a keyed token for matching.

A full PAN exists on the host only for the instant between decoding a terminal's
response and calling :func:`protect_pan`; everything downstream (results, logs,
receipts, the journal) holds a :class:`ProtectedPan`. The token is an HMAC of the
PAN under a key that never leaves this PC, so "is this refund going to the card
that paid?" can be answered without storing the card number.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ProtectedPan",
    "load_token_key",
    "luhn_valid",
    "mask_pan",
    "protect_pan",
]

TOKEN_KEY_ENV = "TERMINAL_TOKEN_KEY_FILE"
_KEY_BYTES = 32


@dataclass(frozen=True, slots=True)
class ProtectedPan:
    """What the host keeps of a card number: ``masked`` (first 6, last 4) and ``token``."""

    masked: str
    token: str

    def __str__(self) -> str:
        return self.masked

    def __repr__(self) -> str:
        return f"ProtectedPan({self.masked!r})"


def mask_pan(pan: str) -> str:
    """``621483******1467``: the first 6 and last 4 digits, the rest ``*``.

    Numbers too short to keep 10 digits and still hide some are masked whole but
    for the last 4, so that a short or malformed value never shows in full.
    """
    digits = pan.strip()
    if len(digits) >= 13:
        return digits[:6] + "*" * (len(digits) - 10) + digits[-4:]
    keep = digits[-4:] if len(digits) > 4 else ""
    return "*" * (len(digits) - len(keep)) + keep


def protect_pan(pan: str, key: bytes) -> ProtectedPan:
    """Mask ``pan`` and derive its token (HMAC-SHA256 under ``key``, 32 hex digits)."""
    token = hmac.new(key, pan.strip().encode("ascii"), hashlib.sha256).hexdigest()[:32]
    return ProtectedPan(mask_pan(pan), token)


def luhn_valid(pan: str) -> bool:
    """The ISO/IEC 7812 check digit test."""
    if not pan.isdigit():
        return False
    total = 0
    for index, char in enumerate(reversed(pan)):
        digit = int(char)
        if index % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def load_token_key(path: Path | None = None) -> bytes:
    """The host's token key, created (random, mode 0600) on first use.

    Kept beside the config (``$TERMINAL_TOKEN_KEY_FILE`` overrides), so tokens
    stay comparable across runs on this PC and mean nothing anywhere else.
    """
    if path is None:
        explicit = os.environ.get(TOKEN_KEY_ENV)
        if explicit:
            path = Path(explicit)
        else:
            from terminal.config import config_path

            path = config_path().with_name("token.key")
    try:
        key = path.read_bytes()
        if len(key) == _KEY_BYTES:
            return key
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(_KEY_BYTES)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key
