"""The QR code on a receipt: what ``terminal lookup`` needs to find the transaction.

A cashier scans a customer's slip to void or refund it, or to answer "was I
charged?": the code carries the retrieval reference number, the trace and the
date (the keys ``terminal lookup --rrn --trace --date`` filters on) and the
terminal id (the journal's lane). Never the card number, not even masked: a
photo of a receipt must not add to what the printed text already shows.

The text is a URI, ``terminal:lookup?rrn=...&trace=...&date=MMDD&tid=...``,
short enough for a small code and readable by any scanner.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit

__all__ = ["LOOKUP_SCHEME", "LookupKey"]

LOOKUP_SCHEME = "terminal:lookup"

_FORMS = {
    "rrn": re.compile(r"[0-9A-Za-z]{12}"),
    "trace": re.compile(r"\d{6}"),
    "date": re.compile(r"\d{4}"),
    "tid": re.compile(r"[0-9A-Za-z]{8}"),
}


@dataclass(frozen=True, slots=True)
class LookupKey:
    """The keys that find one transaction in the journal."""

    rrn: str
    trace: str
    date: str  # MMDD, field 13
    terminal_id: str

    def __post_init__(self) -> None:
        for name, value in self._items():
            if not _FORMS[name].fullmatch(value):
                raise ValueError(f"lookup key {name} {value!r} is not of the form {name} needs")

    def _items(self) -> list[tuple[str, str]]:
        return [("rrn", self.rrn), ("trace", self.trace), ("date", self.date),
                ("tid", self.terminal_id)]

    def to_text(self) -> str:
        """The QR code's content."""
        return f"{LOOKUP_SCHEME}?{urlencode(self._items())}"

    @classmethod
    def parse(cls, text: str) -> LookupKey:
        """The key in a scanned code; ``ValueError`` for anything that is not one of ours."""
        parts = urlsplit(text)
        if f"{parts.scheme}:{parts.path}" != LOOKUP_SCHEME:
            raise ValueError(f"not a {LOOKUP_SCHEME} code")
        values = dict(parse_qsl(parts.query, keep_blank_values=True, strict_parsing=True))
        if set(values) != set(_FORMS):
            raise ValueError(f"a {LOOKUP_SCHEME} code holds exactly {', '.join(_FORMS)}")
        return cls(values["rrn"], values["trace"], values["date"], values["tid"])

    def lookup_arguments(self) -> list[str]:
        """The ``terminal lookup`` options that find this transaction."""
        return ["--rrn", self.rrn, "--trace", self.trace, "--date", self.date]
