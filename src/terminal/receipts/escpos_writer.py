"""A :class:`~terminal.receipts.document.Document` onto paper through python-escpos.

python-escpos 3.1 does the generic part (``ESC @``, alignment, bold, ``GS !``,
the native QR code ``GS ( k``, the cut). Chinese it gets wrong, so those bytes
go through its ``_raw`` (the documented way to send a command it has no method
for), each with the reason beside it:

- its ``text()`` runs a "magic encoder" that picks a single-byte code page per
  character and turns ``，`` and ``。`` into ``?``; we encode each line with the
  printer profile's GB18030 or GBK ourselves;
- it never sends ``FS &``, the command that puts Epson-style printers into
  Chinese (double-byte) mode;
- its ``double_height``/``double_width`` use ``ESC !``, which on most printers
  enlarges ASCII only; we use ``GS !`` (through ``set(custom_size=True)``) and
  add ``FS !``, the Chinese print mode, so both halves of a line grow alike.
"""

from __future__ import annotations

import logging

from escpos.constants import QR_ECLEVEL_M
from escpos.escpos import Escpos

from terminal.receipts.document import Align, Document, Feed, QrCode, TextLine
from terminal.receipts.profiles import PrinterProfile

__all__ = ["FS_CHINESE_MODE", "encode_text", "fs_print_mode", "write_document"]

log = logging.getLogger("terminal.receipts")

FS_CHINESE_MODE = b"\x1c\x26"  # FS &: select Chinese (Kanji) character mode
_FS_PRINT_MODE = b"\x1c\x21"  # FS ! n: Chinese print mode, bit 2 double width, bit 3 height

# Characters a GBK font lacks, written with ones it has: a slip must never show "?"
# where a reader needs a character. Anything else outside the encoding becomes "?".
SUBSTITUTES = {
    "€": "EUR",
    "—": "-",
    "–": "-",
    "•": "*",
    "\u00a0": " ",
    "\u2009": " ",
}


def write_document(printer: Escpos, document: Document, profile: PrinterProfile) -> None:
    """Send ``document`` to ``printer`` and cut; the printer is left in its default mode."""
    printer.hw("INIT")
    if profile.chinese_mode:
        # python-escpos has no call for FS &; without it an Epson-style printer reads
        # each GB18030 byte as a code-page character and prints mojibake.
        printer._raw(FS_CHINESE_MODE)
    for block in document.blocks:
        if isinstance(block, TextLine):
            _write_line(printer, block, profile)
        elif isinstance(block, QrCode):
            printer.print_and_feed(1)  # a quiet zone above the code for the scanner
            printer.set(align="center")
            # Native: the printer draws the code from the text, a few bytes instead of
            # an image; error level M survives a crease or a thermal fade.
            printer.qr(block.data, ec=QR_ECLEVEL_M, size=block.module, native=True)
            printer.set(align="left")
            printer.print_and_feed(1)  # and below it
        elif isinstance(block, Feed):
            printer.print_and_feed(block.lines)
    printer.set(align="left", bold=False, custom_size=True, width=1, height=1)
    printer._raw(fs_print_mode(1, 1))
    printer.cut(mode="PART" if profile.cut == "partial" else "FULL")


def _write_line(printer: Escpos, line: TextLine, profile: PrinterProfile) -> None:
    printer.set(
        align={Align.LEFT: "left", Align.CENTER: "center", Align.RIGHT: "right"}[line.align],
        bold=line.bold,
        custom_size=True,
        width=line.width,
        height=line.height,
    )
    # FS ! sizes the Chinese characters; GS ! (sent by set() above) sizes ASCII and,
    # on printers that apply it to both, Chinese too. Sending both is harmless.
    printer._raw(fs_print_mode(line.width, line.height))
    # Our own encoding instead of text(): see the module docstring.
    printer._raw(encode_text(line.text, profile.encoding) + b"\n")


def fs_print_mode(width: int, height: int) -> bytes:
    """``FS ! n`` for a magnification of 1 or 2 in each direction."""
    mode = (0x04 if width > 1 else 0) | (0x08 if height > 1 else 0)
    return _FS_PRINT_MODE + bytes([mode])


def encode_text(text: str, encoding: str) -> bytes:
    """``text`` in the printer's encoding; characters it lacks are substituted or ``?``.

    GB18030 covers all of Unicode, so with it nothing is replaced; GBK lacks some
    symbols, which are logged so a shop sees why its slip shows a "?".
    """
    try:
        return text.encode(encoding)
    except UnicodeEncodeError:
        pass
    out = bytearray()
    for char in text:
        try:
            out += char.encode(encoding)
        except UnicodeEncodeError:
            substitute = SUBSTITUTES.get(char, "?")
            log.warning("character U+%04X is not in %s; printed as %r", ord(char), encoding,
                        substitute)
            out += substitute.encode(encoding, errors="replace")
    return bytes(out)
