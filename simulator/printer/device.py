"""The virtual receipt printer: ESC/POS bytes in, paper and status replies out.

Transport-free like the virtual terminal (``feed`` / ``poll`` / ``read_output`` /
``next_deadline``), so it runs in-process (``virtual://``), behind a pty or on a
TCP port (:mod:`simulator.printer.serve`) unchanged.

It models what the print queue must survive:

- **conditions** a test sets: paper near end, paper out, cover open, offline,
  cutter / unrecoverable / auto-recoverable errors, and *no answer* (status
  requests go unanswered, as from a printer switched off behind a buffer);
- **paper that runs out** after a given number of lines: what was printed stays
  on the torn-off slip, what arrives after is *held* in the receive buffer, as
  a real printer does, and printed when the paper is back unless the host
  clears the buffer first (``DLE DC4 8``). So a host that resends an
  interrupted receipt without clearing gets it twice, and a test sees that;
- **real-time commands** (``DLE EOT n``, ``DLE DC4``) answered on arrival, even
  while out of paper or offline.

Every command is interpreted; an unknown one is recorded in :attr:`unknown`
and logged, never skipped silently.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import qrcode

from simulator.printer.commands import Command, RealTime, Text, Token, Tokenizer, Unknown

__all__ = ["Conditions", "Glyph", "PaperFiles", "PrintedRow", "Slip", "VirtualPrinter"]

log = logging.getLogger("simulator.printer")

CELL = 12  # dots per ASCII cell in Font A; a Chinese character takes two
LINE_HEIGHT = 24  # dots of a Font A character
DEFAULT_SPACING = 30  # ESC 2: 1/6 inch at 180 units per inch, in 203 dpi dots

_CLEAR_BUFFERS = bytes([8, 1, 3, 20, 1, 6, 2, 8])  # DLE DC4 fn=8 and its fixed bytes
_QR_LEVELS = {48: qrcode.constants.ERROR_CORRECT_L, 49: qrcode.constants.ERROR_CORRECT_M,
              50: qrcode.constants.ERROR_CORRECT_Q, 51: qrcode.constants.ERROR_CORRECT_H}


@dataclass(frozen=True, slots=True)
class PaperFiles:
    """Where :meth:`VirtualPrinter.save` put the paper, and the text itself."""

    text: str
    text_path: Path
    png: Path | None
    problem: str


@dataclass
class Conditions:
    """What the printer's sensors and state say; a test changes these."""

    paper_near_end: bool = False
    paper_out: bool = False
    cover_open: bool = False
    offline: bool = False  # taken offline by the operator (or ESC = / a switch)
    feed_button: bool = False
    cutter_error: bool = False
    unrecoverable_error: bool = False
    auto_recoverable_error: bool = False
    no_answer: bool = False

    @property
    def can_print(self) -> bool:
        return not (self.paper_out or self.cover_open or self.offline or self.cutter_error
                    or self.unrecoverable_error or self.auto_recoverable_error)


@dataclass(frozen=True, slots=True)
class Glyph:
    """One printed character: its text, cells (1 or 2) and magnification."""

    char: str
    cells: int
    width: int
    height: int
    bold: bool
    underline: bool


@dataclass
class PrintedRow:
    """One line of paper: characters starting ``indent`` dots in, or a QR matrix."""

    glyphs: list[Glyph] = field(default_factory=list)
    indent: int = 0
    height: int = DEFAULT_SPACING
    qr: list[list[bool]] | None = None
    qr_module: int = 0
    qr_data: str = ""

    @property
    def text(self) -> str:
        return "".join(g.char for g in self.glyphs)


@dataclass
class Slip:
    """A piece of paper: the rows printed on it, and whether it was cut off cleanly
    (False: the paper ran out under it, or it is still in the printer)."""

    rows: list[PrintedRow] = field(default_factory=list)
    cut: bool = False
    torn: bool = False

    def text_lines(self, dots: int) -> list[str]:
        """Each row as text, indented by its position in cells."""
        lines = []
        for row in self.rows:
            if row.qr is not None:
                lines.append(" " * (row.indent // CELL) + f"[QR {row.qr_data}]")
            else:
                lines.append((" " * (row.indent // CELL) + row.text).rstrip())
        return lines


@dataclass
class _Style:
    align: int = 0
    bold: bool = False
    underline: bool = False
    ank_width: int = 1  # ESC ! / GS ! for ASCII
    ank_height: int = 1
    gs_width: int = 1
    gs_height: int = 1
    cn_width: int = 1  # FS ! for Chinese
    cn_height: int = 1
    code_page: int = 0
    spacing: int = DEFAULT_SPACING


class VirtualPrinter:
    """An ESC/POS receipt printer in memory. ``dots`` is the print width (384 for 58
    mm paper, 576 for 80 mm); ``encoding`` is its Chinese font's (gb18030 or gbk)."""

    def __init__(self, *, dots: int = 384, encoding: str = "gb18030") -> None:
        self.dots = dots
        self.encoding = encoding
        self.conditions = Conditions()
        self.slips: list[Slip] = []
        self.unknown: list[Unknown] = []
        self.received = bytearray()
        self.paper_lines_left: int | None = None
        self._tokens = Tokenizer()
        self._held: list[Token] = []
        self._output = bytearray()
        self._style = _Style()
        self._line: list[Glyph] = []
        self._line_align = 0
        self._qr = {"module": 3, "level": qrcode.constants.ERROR_CORRECT_L, "data": b""}
        self._slip = Slip()

    # -- the device interface (feed / poll / read_output / next_deadline) -----------

    def feed(self, data: bytes, at: float | None = None) -> None:
        """Take bytes from the host; ``at`` is unused: a printer keeps no link timers."""
        self.received += data
        for token in self._tokens.feed(data):
            if isinstance(token, RealTime):
                self._realtime(token)
            elif self.conditions.can_print and not self._held:
                self._execute(token)
            else:
                self._held.append(token)

    def poll(self) -> None:
        """Nothing runs on a timer: a printer only reacts to bytes and its sensors."""

    def read_output(self) -> bytes:
        out, self._output = bytes(self._output), bytearray()
        return out

    def next_deadline(self) -> float | None:
        return None

    def disconnected(self) -> None:
        """A host went away: its unread status replies are dropped."""
        self._output.clear()

    # -- what a test or the operator does ------------------------------------------

    def set_conditions(self, **changes: bool) -> None:
        """Change sensors or state (``paper_out=True``); held data prints once it can."""
        for name, value in changes.items():
            if not hasattr(self.conditions, name):
                raise ValueError(f"no printer condition {name!r}")
            setattr(self.conditions, name, bool(value))
        if changes.get("paper_out") is False:
            self.paper_lines_left = None
        self._resume()

    def load_paper(self, lines: int | None = None) -> None:
        """A new roll: ``lines`` long (None: endless)."""
        self.conditions.paper_out = False
        self.paper_lines_left = lines
        self._resume()

    def save(self, folder: Path, stem: str, slips: list[Slip] | None = None) -> PaperFiles:
        """Write the paper so far (or ``slips``) as ``stem.txt`` and ``stem.png`` in ``folder``.

        The text is always written; the PNG needs a CJK font, and without one
        :attr:`PaperFiles.problem` says so (the caller shows it) and ``png`` is None.
        """
        from simulator.printer.render import NoCjkFont, render_png, render_text

        folder.mkdir(parents=True, exist_ok=True)
        slips = self.slips if slips is None else slips
        text = render_text(slips, self.dots)
        text_path = folder / f"{stem}.txt"
        text_path.write_text(text, "utf-8")
        try:
            png = render_png(slips, self.dots, folder / f"{stem}.png")
        except NoCjkFont as exc:
            return PaperFiles(text, text_path, None, str(exc))
        return PaperFiles(text, text_path, png, "")

    @property
    def held(self) -> int:
        """Tokens waiting in the receive buffer for the printer to be able to print."""
        return len(self._held)

    @property
    def cut_slips(self) -> list[Slip]:
        """Slips cut off cleanly: whole receipts."""
        return [slip for slip in self.slips if slip.cut]

    @property
    def current_slip(self) -> Slip:
        return self._slip

    # -- interpretation ------------------------------------------------------------

    def _resume(self) -> None:
        while self._held and self.conditions.can_print:
            self._execute(self._held.pop(0))

    def _realtime(self, command: Command) -> None:
        if command.name == "status":
            n = command.args[0]
            if n not in (1, 2, 3, 4):
                self._report(Unknown(b"\x10\x04" + command.args, command.offset,
                                     f"DLE EOT {n}: n must be 1 to 4"))
                return
            if not self.conditions.no_answer:
                self._output.append(self.status_byte(n))
            return
        if command.args == _CLEAR_BUFFERS:
            # DLE DC4 8: clear the receive and print buffers.
            self._held.clear()
            self._line.clear()
            return
        self._report(Unknown(b"\x10\x14" + command.args, command.offset,
                             "DLE DC4 function not supported"))

    def status_byte(self, n: int) -> int:
        """The reply to ``DLE EOT n``: fixed bits 0x12 plus the condition bits."""
        c = self.conditions
        value = 0x12
        if n == 1:
            value |= 0x08 if not c.can_print else 0  # offline
            value |= 0x20 if c.auto_recoverable_error or c.cutter_error else 0
            value |= 0x40 if c.feed_button else 0
        elif n == 2:
            value |= 0x04 if c.cover_open else 0
            value |= 0x08 if c.feed_button else 0
            value |= 0x20 if c.paper_out else 0
            value |= 0x40 if (c.cutter_error or c.unrecoverable_error
                              or c.auto_recoverable_error) else 0
        elif n == 3:
            value |= 0x08 if c.cutter_error else 0
            value |= 0x20 if c.unrecoverable_error else 0
            value |= 0x40 if c.auto_recoverable_error else 0
        else:
            value |= 0x0C if c.paper_near_end or c.paper_out else 0
            value |= 0x60 if c.paper_out else 0
        return value

    def _execute(self, token: Token) -> None:
        if not self.conditions.can_print:
            self._held.append(token)
            return
        if isinstance(token, Unknown):
            self._report(token)
        elif isinstance(token, Text):
            self._text(token)
        else:
            handler = getattr(self, f"_cmd_{token.name}", None)
            if handler is None:
                self._report(Unknown(b"", token.offset, f"{token.name} is not interpreted"))
            else:
                handler(token.args, token.offset)

    def _report(self, token: Unknown) -> None:
        log.warning("printer: %s at byte %d", token.reason, token.offset)
        self.unknown.append(token)

    def _text(self, token: Text) -> None:
        for char, cells in self._decode(token):
            self._add_glyph(char, cells)

    def _decode(self, token: Text) -> list[tuple[str, int]]:
        data = token.data
        if not token.chinese:
            table = {0: "cp437", 16: "cp1252"}.get(self._style.code_page, "cp437")
            return [(chr(b) if b < 0x80 else bytes([b]).decode(table, "replace"), 1)
                    for b in data]
        out: list[tuple[str, int]] = []
        at = 0
        while at < len(data):
            lead = data[at]
            if lead < 0x80:
                out.append((chr(lead), 1))
                at += 1
                continue
            size = 4 if at + 1 < len(data) and 0x30 <= data[at + 1] <= 0x39 else 2
            chunk = data[at : at + size]
            try:
                if size == 4 and self.encoding != "gb18030":
                    raise UnicodeDecodeError(self.encoding, chunk, 0, size, "4-byte sequence")
                out.append((chunk.decode(self.encoding), 2))
            except UnicodeDecodeError:
                self._report(Unknown(chunk, token.offset + at,
                                     f"bytes {chunk.hex(' ')} are no {self.encoding} character"))
                out.append(("?", 2 if size == 2 else 1))
            at += size
        return out

    def _add_glyph(self, char: str, cells: int) -> None:
        s = self._style
        if cells == 2:
            width, height = max(s.gs_width, s.cn_width), max(s.gs_height, s.cn_height)
        else:
            width, height = max(s.gs_width, s.ank_width), max(s.gs_height, s.ank_height)
        glyph = Glyph(char, cells, width, height, s.bold, s.underline)
        if self._line_dots() + cells * CELL * width > self.dots:
            self._print_line()  # the line is full: the printer wraps, as real ones do
        if not self._line:
            self._line_align = s.align
        self._line.append(glyph)

    def _line_dots(self) -> int:
        return sum(g.cells * CELL * g.width for g in self._line)

    def _print_line(self, feed_only: bool = False) -> None:
        used = self._line_dots()
        indent = {0: 0, 1: (self.dots - used) // 2, 2: self.dots - used}[self._line_align]
        tallest = max((g.height for g in self._line), default=1)
        height = max(self._style.spacing, LINE_HEIGHT * tallest + (self._style.spacing
                                                                    - LINE_HEIGHT))
        self._add_row(PrintedRow(list(self._line), indent, height))
        self._line.clear()

    def _add_row(self, row: PrintedRow) -> None:
        if self.conditions.paper_out:
            return
        self._slip.rows.append(row)
        if self.paper_lines_left is not None:
            self.paper_lines_left -= 1
            if self.paper_lines_left <= 0:
                # The roll ends under this line: the slip is torn off unfinished.
                self.conditions.paper_out = True
                self._slip.torn = True
                self.slips.append(self._slip)
                self._slip = Slip()

    # -- commands --------------------------------------------------------------------

    def _cmd_init(self, args: bytes, offset: int) -> None:
        self._style = _Style()
        self._line.clear()

    def _cmd_line_feed(self, args: bytes, offset: int) -> None:
        self._print_line()

    def _cmd_carriage_return(self, args: bytes, offset: int) -> None:
        """CR is ignored: our printers feed on LF (auto line feed off)."""

    def _cmd_print_mode(self, args: bytes, offset: int) -> None:
        n = args[0]
        self._style.bold = bool(n & 0x08)
        self._style.ank_height = 2 if n & 0x10 else 1
        self._style.ank_width = 2 if n & 0x20 else 1
        self._style.underline = bool(n & 0x80)

    def _cmd_bold(self, args: bytes, offset: int) -> None:
        self._style.bold = bool(args[0] & 1)

    def _cmd_double_strike(self, args: bytes, offset: int) -> None:
        self._style.bold = bool(args[0] & 1)

    def _cmd_underline(self, args: bytes, offset: int) -> None:
        self._style.underline = args[0] in (1, 2, 49, 50)

    def _cmd_align(self, args: bytes, offset: int) -> None:
        self._style.align = {0: 0, 1: 1, 2: 2, 48: 0, 49: 1, 50: 2}.get(args[0], 0)

    def _cmd_feed_lines(self, args: bytes, offset: int) -> None:
        if self._line:
            self._print_line()
        for _ in range(args[0]):
            self._add_row(PrintedRow(height=self._style.spacing))

    def _cmd_feed_dots(self, args: bytes, offset: int) -> None:
        if self._line:
            self._print_line()
        self._add_row(PrintedRow(height=args[0]))

    def _cmd_code_page(self, args: bytes, offset: int) -> None:
        self._style.code_page = args[0]

    def _cmd_font(self, args: bytes, offset: int) -> None:
        if args[0] not in (0, 48):
            self._report(Unknown(b"\x1bM" + args, offset, "only Font A is drawn"))

    def _cmd_line_spacing_default(self, args: bytes, offset: int) -> None:
        self._style.spacing = DEFAULT_SPACING

    def _cmd_line_spacing(self, args: bytes, offset: int) -> None:
        self._style.spacing = args[0]

    def _cmd_upside_down(self, args: bytes, offset: int) -> None:
        if args[0] & 1:
            self._report(Unknown(b"\x1b{" + args, offset, "upside-down printing is not drawn"))

    def _cmd_reverse(self, args: bytes, offset: int) -> None:
        if args[0] & 1:
            self._report(Unknown(b"\x1dB" + args, offset, "reverse printing is not drawn"))

    def _cmd_char_size(self, args: bytes, offset: int) -> None:
        n = args[0]
        self._style.gs_width = (n >> 4 & 0x07) + 1
        self._style.gs_height = (n & 0x07) + 1

    def _cmd_chinese_on(self, args: bytes, offset: int) -> None:
        """The tokenizer already reads two-byte characters from here on."""

    def _cmd_chinese_off(self, args: bytes, offset: int) -> None:
        """Back to single-byte code-page characters."""

    def _cmd_chinese_print_mode(self, args: bytes, offset: int) -> None:
        n = args[0]
        self._style.cn_width = 2 if n & 0x04 else 1
        self._style.cn_height = 2 if n & 0x08 else 1
        if n & 0x80:
            self._style.underline = True

    def _cmd_cut(self, args: bytes, offset: int) -> None:
        if self._line:
            self._print_line()
        if self.conditions.paper_out:
            return
        self._slip.cut = True
        self.slips.append(self._slip)
        self._slip = Slip()

    def _cmd_transmit_status(self, args: bytes, offset: int) -> None:
        """GS r n: answered when reached in the data, so its reply says all before it
        printed. n=1 paper sensors (bits 0-1 near end, 2-3 end), n=2 drawer."""
        n = args[0]
        if n in (1, 49):
            c = self.conditions
            self._output.append((0x03 if c.paper_near_end else 0) | (0x0C if c.paper_out else 0))
        elif n in (2, 50):
            self._output.append(0x00)
        else:
            self._report(Unknown(b"\x1dr" + args, offset, f"GS r {n} not supported"))

    def _cmd_2d_code(self, args: bytes, offset: int) -> None:
        body = args[2:]
        if len(body) < 2 or body[0] != 49:
            self._report(Unknown(b"\x1d(k" + args[:4], offset, "only QR codes (cn 49) are drawn"))
            return
        fn, params = body[1], body[2:]
        if fn == 65:  # model
            if params[:1] not in (b"2", b"\x32"):
                self._report(Unknown(b"\x1d(k" + args, offset, "only QR model 2 is drawn"))
        elif fn == 67:  # module size
            self._qr["module"] = params[0]
        elif fn == 69:  # error correction level
            self._qr["level"] = _QR_LEVELS.get(params[0], qrcode.constants.ERROR_CORRECT_L)
        elif fn == 80:  # store the data (after m = 48)
            self._qr["data"] = params[1:]
        elif fn == 81:  # print the stored code
            self._print_qr()
        else:
            self._report(Unknown(b"\x1d(k" + args[:5], offset, f"QR function {fn} not supported"))

    def _print_qr(self) -> None:
        if self._line:
            self._print_line()
        data = bytes(self._qr["data"]).decode("utf-8", "replace")
        code = qrcode.QRCode(version=None, error_correction=self._qr["level"], border=0)
        code.add_data(data)
        code.make(fit=True)
        matrix = [list(row) for row in code.get_matrix()]
        module = int(self._qr["module"])
        size = len(matrix) * module
        indent = {0: 0, 1: (self.dots - size) // 2, 2: self.dots - size}[self._style.align]
        self._add_row(PrintedRow(indent=max(indent, 0), height=size, qr=matrix,
                                 qr_module=module, qr_data=data))
