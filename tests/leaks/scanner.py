"""A card-number scanner as strict as the ones acceptance runs over our outputs.

Outside scanners know nothing of our formats: they read a file's raw bytes (a
SQLite database with its write-ahead log, an ESC/POS stream, a PNG, a trace)
and report every run of 13 to 19 digits, written straight or in groups split by
single spaces or dashes, that passes the Luhn check. So does this one, with no
exemption for hex digests, timestamps or anything else we know to be harmless:
a hex digest whose all-digit stretch passes the Luhn check is reported, because
an outside scanner would report it too.

What a run is: a maximal stretch of digits (not preceded or followed by a
digit), or groups of digits joined by single spaces or dashes. Which 13 to 19
digits of a stretch are candidates depends on how the scanner anchors
(:class:`Mode`). By default this one works as both kinds of scanner in use, the
anchored and the unanchored (greedy) regex, so the first 19 digits of a longer
run are checked too. :attr:`Mode.WINDOWS` (every 13 to 19 digit window of a
stretch) is for what must hold against any scanner, the simulator's books: as
the default it would flag the merchant id (15 digits, field 42) wherever a
message is shown, as a scanner that noisy would. Only runs of one repeated
digit (``0000000000000``, which passes Luhn) are passed over: no issuer numbers
a card that way.

A finding never shows the digits it found: it is itself output someone may
scan, so it gives the run masked (first 6, last 4), its length and where.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

__all__ = ["DEFAULT_MODES", "Finding", "Mode", "Scan", "card_like_runs", "luhn_valid",
           "scan_bytes", "scan_paths"]

MIN_DIGITS = 13
MAX_DIGITS = 19
_STRETCH = re.compile(rb"(?<![0-9])[0-9]+(?:[ -][0-9]+)*(?![0-9])")
_GROUP = re.compile(rb"[0-9]+")
_DIGIT = re.compile(rb"[0-9]")
# An unanchored scanner's pattern: 13 to 19 digits, single spaces or dashes between them.
_UNANCHORED = re.compile(rb"[0-9](?:[ -]?[0-9]){12,18}")


class Mode(Enum):
    """How a scanner picks the 13 to 19 digits it Luhn-checks out of a stretch of digits.

    ``ANCHORED``: spans of whole groups only (``\\b(?:\\d[ -]?){13,19}\\b``); a plain
    run of 20 or more digits is no candidate. ``GREEDY``: the non-overlapping
    matches an unanchored ``\\d{13,19}`` (groups allowed) finds, left to right, so the
    first 19 digits of a 24-digit run are checked. ``WINDOWS``: every window of 13 to
    19 consecutive digits of a stretch, wherever it starts: what the other two find
    and more.
    """

    ANCHORED = "anchored"
    GREEDY = "greedy"
    WINDOWS = "windows"


#: What :func:`scan_bytes` does unless told otherwise: both scanners in common use.
DEFAULT_MODES: tuple[Mode, ...] = (Mode.ANCHORED, Mode.GREEDY)
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Finding:
    """One card-like run: where (``source`` and byte ``offset``) and which, masked."""

    source: str
    offset: int
    masked: str
    length: int

    def __str__(self) -> str:
        return f"{self.source} @{self.offset}: {self.masked} ({self.length} digits)"


@dataclass
class Scan:
    """What a scan covered (so a test can show it looked at real output) and found."""

    files: int = 0
    bytes: int = 0
    lines: int = 0
    findings: list[Finding] = None  # type: ignore[assignment]
    mode: Mode | tuple[Mode, ...] = DEFAULT_MODES

    def __post_init__(self) -> None:
        if self.findings is None:
            self.findings = []

    def add(self, source: str, data: bytes) -> None:
        """Scan ``data`` (one file, or one command's output) as coming from ``source``."""
        self.bytes += len(data)
        self.lines += data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
        self.findings += scan_bytes(data, source, mode=self.mode)


def luhn_valid(digits: str) -> bool:
    """The Luhn check, not terminal.card_data's: a scanner must not share the code it checks."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        digit = int(char)
        if index % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def card_like_runs(data: bytes, mode: Mode | tuple[Mode, ...] = DEFAULT_MODES,
                   ) -> Iterator[tuple[int, str]]:
    """``(offset, digits)`` of every run of ``data`` a scanner working in ``mode`` reports
    (several modes: each run once, in the order the modes find them)."""
    if isinstance(mode, tuple):
        seen: set[tuple[int, str]] = set()
        for one in mode:
            for run in card_like_runs(data, one):
                if run not in seen:
                    seen.add(run)
                    yield run
    elif mode is Mode.GREEDY:
        for match in _UNANCHORED.finditer(data):
            digits = re.sub(rb"[ -]", b"", match.group()).decode()
            if _reported(digits):
                yield match.start(), digits
    elif mode is Mode.WINDOWS:
        yield from _windows(data)
    else:
        yield from _anchored(data)


def _reported(digits: str) -> bool:
    return len(set(digits)) > 1 and luhn_valid(digits)


def _windows(data: bytes) -> Iterator[tuple[int, str]]:
    """Every 13 to 19 consecutive digits of every stretch (separators skipped)."""
    for stretch in _STRETCH.finditer(data):
        if stretch.end() - stretch.start() < MIN_DIGITS:
            continue
        offsets = [stretch.start() + m.start() for m in _DIGIT.finditer(stretch.group())]
        digits = re.sub(rb"[ -]", b"", stretch.group()).decode()
        for first in range(len(digits) - MIN_DIGITS + 1):
            for size in range(MIN_DIGITS, min(MAX_DIGITS, len(digits) - first) + 1):
                window = digits[first:first + size]
                if _reported(window):
                    yield offsets[first], window


def _anchored(data: bytes) -> Iterator[tuple[int, str]]:
    """Spans of whole groups of each stretch; plain runs of 20 or more digits left out."""
    for stretch in _STRETCH.finditer(data):
        groups = [(m.start() + stretch.start(), m.group().decode()) for m in
                  _GROUP.finditer(stretch.group())]
        seen: set[tuple[int, int]] = set()
        for first in range(len(groups)):
            digits = ""
            for last in range(first, len(groups)):
                digits += groups[last][1]
                if len(digits) > MAX_DIGITS:
                    break
                if len(digits) >= MIN_DIGITS and (first, last) not in seen:
                    seen.add((first, last))
                    if _reported(digits):
                        yield groups[first][0], digits


def scan_bytes(data: bytes, source: str = "<bytes>", *,
               mode: Mode | tuple[Mode, ...] = DEFAULT_MODES) -> list[Finding]:
    """Every card-like run in ``data``, and in the text chunks of a PNG (compressed or not)."""
    found = [Finding(source, offset, _mask(digits), len(digits))
             for offset, digits in card_like_runs(data, mode)]
    if data.startswith(_PNG_SIGNATURE):
        for name, text in _png_texts(data):
            found += [Finding(f"{source} [{name}]", offset, _mask(digits), len(digits))
                      for offset, digits in card_like_runs(text, mode)]
    return found


def scan_paths(paths: Iterable[Path], scan: Scan | None = None) -> Scan:
    """Scan every file under ``paths`` (files, or directories walked whole) byte for byte."""
    scan = scan if scan is not None else Scan()
    for root in paths:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            scan.files += 1
            scan.add(str(path), path.read_bytes())
    return scan


def _png_texts(data: bytes) -> Iterator[tuple[str, bytes]]:
    """The text a PNG carries in tEXt, zTXt and iTXt chunks (keyword and value)."""
    pos = len(_PNG_SIGNATURE)
    while pos + 8 <= len(data):
        size = int.from_bytes(data[pos:pos + 4], "big")
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + size]
        pos += 12 + size
        if kind == b"tEXt":
            yield "tEXt", body
        elif kind == b"zTXt":
            keyword, _, rest = body.partition(b"\0")
            yield "zTXt", keyword + b"\0" + _inflate(rest[1:])
        elif kind == b"iTXt":
            keyword, _, rest = body.partition(b"\0")
            compressed, text = rest[0], rest[2:].split(b"\0", 2)[-1]
            yield "iTXt", keyword + b"\0" + (_inflate(text) if compressed else text)


def _inflate(data: bytes) -> bytes:
    try:
        return zlib.decompress(data)
    except zlib.error:
        return data


def _mask(digits: str) -> str:
    return digits[:6] + "*" * (len(digits) - 10) + digits[-4:]
