"""Card numbers as the host may keep them: masked for people, a keyed token for matching.

A full PAN exists on the host only for the instant between decoding a terminal's
response and calling :func:`protect_pan`; everything downstream (results, logs,
receipts, the journal) holds a :class:`ProtectedPan`. The token is an HMAC of the
PAN under a key that never leaves this PC, so "is this refund going to the card
that paid?" can be answered without storing the card number.
"""

from __future__ import annotations

import hmac
import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

from terminal.errors import ConfigError

__all__ = [
    "KEY_BYTES",
    "ProtectedPan",
    "card_number_spans",
    "holds_card_number",
    "load_token_key",
    "luhn_valid",
    "mask_pan",
    "protect_pan",
]

#: Length of the token key in bytes (HMAC-SHA256 key).
KEY_BYTES = 32


@dataclass(frozen=True, slots=True)
class ProtectedPan:
    """What the host keeps of a card number: ``masked`` (first 6, last 4) and ``token``
    (16 bytes; written for people as colon hex, :func:`terminal.digest_text.colon_hex`)."""

    masked: str
    token: bytes

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
    """Mask ``pan`` and derive its token: the first 16 bytes of HMAC-SHA256 under ``key``
    (what journals before schema version 4 kept as 32 hex digits, so tokens still match)."""
    token = hmac.digest(key, pan.strip().encode("ascii"), "sha256")[:16]
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


#: A run of digits as a person types a number: groups joined by one space or dash (ASCII,
#: or the full-width forms a Chinese input method types), never next to another digit.
_TYPED_RUN = re.compile(r"(?<!\d)\d+(?:[ \-\u3000\uff0d]\d+)*(?!\d)")
_GROUP = re.compile(r"\d+")
_SHORTEST, _ALWAYS = 13, 16


def card_number_spans(text: str) -> list[tuple[int, int]]:
    """Where ``text`` holds something a person typed as a card number: ``(start, end)``
    of each such run of digits.

    A run is digits in groups joined by single spaces or dashes, as people type a
    card number off the card (``6222 0200 ...``, ``6222-0200-...``); full-width
    digits and separators count too. The run is a card number when it has:

    - 16 digits or more, always: card numbers are 16 to 19 digits, and no phone
      number or id a shop types is that long. Runs longer than 19 are included:
      they are card numbers typed against other digits (or wallet order numbers
      that belong in no note), and a leak scanner reads the first 19 digits of such
      a run as a candidate;
    - 13 to 15 digits, when the Luhn check passes on the whole run or on any part of
      it made of whole groups (what an anchored scanner checks): a 13-digit Chinese
      mobile number with its 86 and a 15-digit id pass when they fail the check,
      as nine in ten do, and a 13 to 15 digit card is not let through.

    So whatever this lets through, a scanner of 13 to 19 Luhn-valid digits (plain or
    grouped, anchored or greedy: what runs over the journal and every output) does
    not report in the same text. It is the one rule for all text a person types
    (refund notes, operator ids, receipt headers); it shares no code with the leak
    scanner of the tests, which must stay an outside check of it.
    """
    spans = []
    for match in _TYPED_RUN.finditer(text):
        groups = _GROUP.findall(match.group())
        digits = sum(len(g) for g in groups)
        if digits >= _ALWAYS or (digits >= _SHORTEST and _luhn_in_groups(groups)):
            spans.append(match.span())
    return spans


def holds_card_number(text: str) -> bool:
    """Whether ``text`` holds a card number as a person types one (:func:`card_number_spans`)."""
    return bool(card_number_spans(text))


def _luhn_in_groups(groups: list[str]) -> bool:
    """Whether some span of whole ``groups`` with 13 or more digits passes the Luhn check."""
    for first in range(len(groups)):
        for last in range(first, len(groups)):
            span = "".join(groups[first:last + 1])
            if len(span) >= _SHORTEST and luhn_valid(span):  # full-width digits too
                return True
    return False


def load_token_key(path: Path) -> bytes:
    """The host's token key at ``path``, created (random, mode 0600) on first use.

    The command line keeps it beside the config file, so tokens stay comparable
    across runs on this PC and mean nothing anywhere else. A key that exists but
    is not :data:`KEY_BYTES` bytes is refused, never replaced: every token made
    with the old key would silently stop matching its card. Creation is
    race-free: processes starting at once all end up with the one key that
    reached the disk first.

    Raises :class:`~terminal.errors.ConfigError` naming the file when it is
    damaged or cannot be read or created.
    """
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        return _create_token_key(path)
    except OSError as exc:
        raise ConfigError(f"token key {path} cannot be read: {_why(exc)}") from None
    if len(key) != KEY_BYTES:
        raise ConfigError(
            f"token key {path} is damaged: {len(key)} bytes, a key is {KEY_BYTES}. It is not "
            "replaced, because tokens made with the old key would stop matching their cards: "
            "restore the file from a backup, or delete it to start a new key (earlier tokens "
            "then match nothing)"
        )
    return key


def _create_token_key(path: Path) -> bytes:
    """Write a new key to a private temporary file, then hard-link it into place.

    ``os.link`` fails if ``path`` exists, so of several processes racing here
    exactly one key lands, whole; the others read it.
    """
    key = secrets.token_bytes(KEY_BYTES)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(prefix=".token.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise ConfigError(f"token key {path} cannot be created: {_why(exc)}") from None
    try:
        with os.fdopen(fd, "wb") as handle:  # mkstemp makes it 0600
            handle.write(key)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temp_name, path)
        except FileExistsError:
            return load_token_key(path)
        except OSError as exc:
            raise ConfigError(f"token key {path} cannot be created: {_why(exc)}") from None
    finally:
        Path(temp_name).unlink(missing_ok=True)
    return key


def _why(exc: OSError) -> str:
    if isinstance(exc, NotADirectoryError | FileExistsError):
        return "part of its path is a file, not a directory"
    if isinstance(exc, IsADirectoryError):
        return "it is a directory, not a file"
    return exc.strerror or str(exc)
