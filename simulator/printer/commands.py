"""ESC/POS as a table: which byte sequences are commands and how long each one is.

The virtual printer cuts its input into :class:`Command` and text tokens with
this table alone; what a command *does* is the printer's business
(:mod:`simulator.printer.device`). A sequence that starts like a command
(``ESC``, ``GS``, ``FS``, ``DLE``) but is not in the table is an unknown command:
reported with its offset, never skipped silently.

Sources: the ESC/POS command reference (Epson's "ESC/POS Application
Programming Guide" command pages, as implemented by the Chinese thermal
printers POS shops use, which add ``FS &``/``FS .``/``FS !`` for GB text).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "COMMANDS",
    "Command",
    "RealTime",
    "Text",
    "Tokenizer",
    "Unknown",
]

ESC, GS, FS, DLE = 0x1B, 0x1D, 0x1C, 0x10
LF, CR = 0x0A, 0x0D


@dataclass(frozen=True, slots=True)
class Command:
    """A recognised command: its name, the argument bytes, where it began in the stream."""

    name: str
    args: bytes
    offset: int


@dataclass(frozen=True, slots=True)
class RealTime(Command):
    """A real-time command (``DLE EOT``, ``DLE DC4``): executed on arrival, even when the
    printer is offline or out of paper, and never held in the buffer."""


@dataclass(frozen=True, slots=True)
class Text:
    """Printable bytes (code-page or GB characters) and whether Chinese mode applied."""

    data: bytes
    chinese: bool
    offset: int


@dataclass(frozen=True, slots=True)
class Unknown:
    """Bytes that look like a command the table does not know."""

    data: bytes
    offset: int
    reason: str


Token = Command | Text | Unknown

# Argument length given the bytes after the command's own bytes: a number, or
# None while more bytes are needed to tell.
_Length = Callable[[bytes], int | None]


def _fixed(n: int) -> _Length:
    return lambda rest: n


def _cut_length(rest: bytes) -> int | None:
    # GS V m: m = 0/1/48/49 cuts at once; 65/66 take a feed amount n as well.
    if not rest:
        return None
    return 2 if rest[0] in (65, 66) else 1


def _length_prefixed(rest: bytes) -> int | None:
    # GS ( k pL pH ...: pL + pH*256 bytes follow the two length bytes.
    if len(rest) < 2:
        return None
    return 2 + rest[0] + rest[1] * 256


def _dc4_length(rest: bytes) -> int | None:
    # DLE DC4 fn ...: fn 1 (pulse) takes m t; fn 2 (power off) and 8 (clear buffers) 1 3 20 1 6 2 8.
    if not rest:
        return None
    return {1: 3, 2: 8, 8: 8}.get(rest[0], 1)


# (command bytes) -> (name, argument length, real-time)
COMMANDS: dict[bytes, tuple[str, _Length, bool]] = {
    bytes([ESC, 0x40]): ("init", _fixed(0), False),  # ESC @
    bytes([ESC, 0x21]): ("print_mode", _fixed(1), False),  # ESC ! n
    bytes([ESC, 0x45]): ("bold", _fixed(1), False),  # ESC E n
    bytes([ESC, 0x47]): ("double_strike", _fixed(1), False),  # ESC G n
    bytes([ESC, 0x2D]): ("underline", _fixed(1), False),  # ESC - n
    bytes([ESC, 0x61]): ("align", _fixed(1), False),  # ESC a n
    bytes([ESC, 0x64]): ("feed_lines", _fixed(1), False),  # ESC d n
    bytes([ESC, 0x4A]): ("feed_dots", _fixed(1), False),  # ESC J n
    bytes([ESC, 0x74]): ("code_page", _fixed(1), False),  # ESC t n
    bytes([ESC, 0x4D]): ("font", _fixed(1), False),  # ESC M n
    bytes([ESC, 0x32]): ("line_spacing_default", _fixed(0), False),  # ESC 2
    bytes([ESC, 0x33]): ("line_spacing", _fixed(1), False),  # ESC 3 n
    bytes([ESC, 0x7B]): ("upside_down", _fixed(1), False),  # ESC { n
    bytes([GS, 0x21]): ("char_size", _fixed(1), False),  # GS ! n
    bytes([GS, 0x42]): ("reverse", _fixed(1), False),  # GS B n
    bytes([GS, 0x56]): ("cut", _cut_length, False),  # GS V m [n]
    bytes([GS, 0x72]): ("transmit_status", _fixed(1), False),  # GS r n (answered in turn)
    bytes([GS, 0x28, 0x6B]): ("2d_code", _length_prefixed, False),  # GS ( k
    bytes([FS, 0x26]): ("chinese_on", _fixed(0), False),  # FS &
    bytes([FS, 0x2E]): ("chinese_off", _fixed(0), False),  # FS .
    bytes([FS, 0x21]): ("chinese_print_mode", _fixed(1), False),  # FS ! n
    bytes([DLE, 0x04]): ("status", _fixed(1), True),  # DLE EOT n
    bytes([DLE, 0x14]): ("realtime_request", _dc4_length, True),  # DLE DC4 fn ...
}
_PREFIXES = {ESC, GS, FS, DLE}
_LONGEST = max(len(key) for key in COMMANDS)


class Tokenizer:
    """Cuts a byte stream into tokens, across ``feed`` calls (a command or a GB
    character may arrive split over two reads of a pty or socket)."""

    def __init__(self) -> None:
        self._buffer = b""
        self._offset = 0  # stream offset of _buffer[0]
        self.chinese = False  # FS & seen (tokenizing depends on it: 2-byte characters)
        self.encoding = "gb18030"

    def feed(self, data: bytes) -> list[Token]:
        self._buffer += data
        tokens: list[Token] = []
        while self._buffer:
            used, token = self._next()
            if used == 0:
                break
            if token is not None:
                tokens.append(token)
                if isinstance(token, Command) and token.name in ("chinese_on", "chinese_off"):
                    self.chinese = token.name == "chinese_on"
                elif isinstance(token, Command) and token.name == "init":
                    self.chinese = False
            self._buffer = self._buffer[used:]
            self._offset += used
        return tokens

    def _next(self) -> tuple[int, Token | None]:
        buffer, offset = self._buffer, self._offset
        first = buffer[0]
        if first in _PREFIXES:
            return self._command(buffer, offset)
        if first in (LF, CR):
            return 1, Command("line_feed" if first == LF else "carriage_return", b"", offset)
        if first < 0x20 or first == 0x7F:
            return 1, Unknown(buffer[:1], offset, f"control byte 0x{first:02X}")
        end = 0
        while end < len(buffer) and buffer[end] >= 0x20 and buffer[end] not in _PREFIXES:
            size = self._char_size(buffer, end)
            if size is None:
                break
            end += size
        if end == 0:
            return 0, None  # a split character: wait for the rest
        return end, Text(buffer[:end], self.chinese, offset)

    def _char_size(self, buffer: bytes, at: int) -> int | None:
        """Bytes in the character at ``at``; None when it is not all here yet."""
        lead = buffer[at]
        if not self.chinese or lead < 0x81 or lead == 0xFF:
            return 1
        if at + 1 >= len(buffer):
            return None
        if 0x30 <= buffer[at + 1] <= 0x39:  # GB18030 four-byte sequence
            return 4 if at + 3 < len(buffer) else None
        return 2

    def _command(self, buffer: bytes, offset: int) -> tuple[int, Token | None]:
        for size in range(_LONGEST, 1, -1):
            spec = COMMANDS.get(buffer[:size])
            if spec is None:
                continue
            name, length, realtime = spec
            need = length(buffer[size:])
            if need is None or len(buffer) < size + need:
                return 0, None
            kind = RealTime if realtime else Command
            return size + need, kind(name, buffer[size : size + need], offset)
        if len(buffer) < _LONGEST and any(key.startswith(buffer) for key in COMMANDS):
            return 0, None  # the start of a known command: wait
        return 2 if len(buffer) > 1 else 1, Unknown(
            buffer[:2], offset, f"unknown command {buffer[:2].hex(' ')}"
        )
