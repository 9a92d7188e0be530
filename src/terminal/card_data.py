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
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

from terminal.errors import ConfigError

__all__ = [
    "KEY_BYTES",
    "ProtectedPan",
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
