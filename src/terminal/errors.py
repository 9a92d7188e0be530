"""The project's exceptions, rooted at one :class:`TerminalError`.

Each error carries the facts a person needs to act on it (field, byte offset,
response code, what the link saw) as attributes, not only in its message, so
that the CLI, logs and the journal can report them without parsing text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "ConfigError",
    "LinkError",
    "LinkTimeout",
    "ProtocolError",
    "TerminalError",
]


class TerminalError(Exception):
    """Root of every error raised by this project."""


class ConfigError(TerminalError):
    """A configuration file or option is missing, unreadable or inconsistent."""


class ProtocolError(TerminalError):
    """Bytes or values that do not follow the protocol.

    ``field`` names where it went wrong (``"2"``, ``"55.9F26"``, ``"bitmap"``,
    ``"frame.lrc"``), ``offset`` is the byte offset in the input (``None`` when
    encoding a value), ``window`` a hex dump around the offset, and ``decoded``
    the fields decoded before the failure.
    """

    def __init__(
        self,
        reason: str,
        *,
        field: str | None = None,
        offset: int | None = None,
        data: bytes | None = None,
        decoded: Mapping[Any, Any] | None = None,
    ) -> None:
        self.reason = reason
        self.field = field
        self.offset = offset
        self.decoded = dict(decoded or {})
        self.window = hex_window(data, offset) if data is not None else ""
        super().__init__(self._describe())

    def _describe(self) -> str:
        where = []
        if self.field is not None:
            where.append(f"field {self.field}")
        if self.offset is not None:
            where.append(f"byte offset {self.offset}")
        text = f"{', '.join(where)}: {self.reason}" if where else self.reason
        if self.window:
            text += f" [{self.window}]"
        if self.decoded:
            text += f" (decoded so far: {', '.join(str(k) for k in self.decoded)})"
        return text


class LinkError(TerminalError):
    """The serial link failed: no ACK after the last resend, the port went away.

    A transaction whose request may have reached the terminal is in doubt after
    this error; the caller must resolve it (reversal or enquiry), never retry blindly.
    """


class LinkTimeout(LinkError):
    """Nothing (or only part of a frame) arrived before the timer ran out."""


def hex_window(data: bytes, offset: int | None, radius: int = 8) -> str:
    """Hex of ``data`` around ``offset``, the byte at the offset in ``>..<``.

    Why: "bad BCD at 37" is only useful next to the bytes that were there.
    """
    if offset is None:
        return data[: 2 * radius].hex(" ")
    start = max(0, offset - radius)
    before = data[start:offset].hex(" ")
    at = data[offset : offset + 1].hex()
    after = data[offset + 1 : offset + 1 + radius].hex(" ")
    marked = f">{at}<" if at else "><(end)"
    parts = [p for p in (before, marked, after) if p]
    prefix = "… " if start > 0 else ""
    suffix = " …" if offset + 1 + radius < len(data) else ""
    return prefix + " ".join(parts) + suffix
