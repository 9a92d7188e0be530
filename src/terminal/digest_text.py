"""How digests, tokens and MACs are written where people and scanners read them.

Card-data scanners (acceptance runs them over every output and file) flag any
run of 13 to 19 digits that passes the Luhn check, grouped by single spaces or
dashes or not. Plain hex is digits more than half the time: a 32-byte digest
has an all-digit stretch of that length and check about once in 220, and a
CUP MAC's hex (ASCII hex characters, 0x30-0x46) is nothing but digits. So a
digest is written as upper-case hex bytes joined by colons (``9F:86:D0:81``),
the form OpenSSL prints fingerprints in: no more than two digits ever stand
together, and a colon is no separator any card scanner accepts. Stored, a
digest is raw bytes (SQLite BLOB), which hold no text at all.
"""

from __future__ import annotations

import re

__all__ = ["colon_hex", "parse_hex"]

_SEPARATORS = re.compile(r"[\s:]")


def colon_hex(data: bytes) -> str:
    """``data`` as ``AB:01:FF``: upper-case hex, one colon between bytes, no digit runs."""
    return data.hex(":").upper()


def parse_hex(text: str) -> bytes:
    """Bytes from hex written with colons (:func:`colon_hex`), spaces, or nothing between.

    Raises ``ValueError`` when ``text`` is not hex (as :meth:`bytes.fromhex` does).
    """
    return bytes.fromhex(_SEPARATORS.sub("", text))
