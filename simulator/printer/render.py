"""Paper to pictures: a slip as plain text, and as a PNG of the thermal paper.

The PNG is drawn dot for dot at the printer's resolution (384 dots across 58 mm,
576 across 80 mm, 203 dpi): each character in its Font A cell (12 x 24 dots, a
Chinese one 24 x 24), magnified by whole dots as the printer does, QR modules as
square dots. Chinese is drawn with a real CJK font (:mod:`simulator.printer.fonts`).
The slip's text is stored in the PNG's ``Description`` text chunk, so a picture
can be searched, and scanned for card numbers, like the text rendering.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo

from simulator.printer.device import CELL, LINE_HEIGHT, PrintedRow, Slip
from simulator.printer.fonts import find_cjk_font

__all__ = ["NoCjkFont", "render_png", "render_text"]

MARGIN = 16  # white paper around the print area, in dots
BASELINE = 19  # dots from the top of a 24-dot cell


class NoCjkFont(RuntimeError):
    """No font that draws Chinese was found; only the text rendering can be written."""


def render_text(slips: list[Slip], dots: int) -> str:
    """The slips as text, one after another, a scissors line where each was cut."""
    out: list[str] = []
    for slip in slips:
        out.extend(slip.text_lines(dots))
        if slip.cut:
            out.append("-" * (dots // CELL) + " ✂")
        elif slip.torn:
            out.append("~" * (dots // CELL) + " (paper ran out)")
    return "\n".join(out) + "\n" if out else ""


def render_png(slips: list[Slip], dots: int, path: Path, *, font: Path | None = None) -> Path:
    """Draw ``slips`` to ``path`` (a PNG) and return it; :class:`NoCjkFont` without a font."""
    font_path = font or find_cjk_font()
    if font_path is None:
        raise NoCjkFont(
            "no CJK font found (pip install pylopdf-fonts-zh-cn, or apt install "
            "fonts-noto-cjk, or set TERMINAL_CJK_FONT); the text rendering was written"
        )
    rows = [row for slip in slips for row in slip.rows]
    gap = 3 * LINE_HEIGHT  # between slips: the tear-off margin
    height = MARGIN * 2 + sum(row.height for row in rows) + gap * max(len(slips) - 1, 0)
    image = Image.new("L", (dots + 2 * MARGIN, max(height, 2 * MARGIN)), 255)
    draw = ImageDraw.Draw(image)
    y = MARGIN
    for number, slip in enumerate(slips):
        if number:
            _dashes(draw, y + gap // 2, dots)
            y += gap
        for row in slip.rows:
            if row.qr is not None:
                _draw_qr(draw, row, y)
            else:
                _draw_glyphs(image, row, y, str(font_path))
            y += row.height
    info = PngInfo()
    info.add_itxt("Description", render_text(slips, dots))
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format="PNG", pnginfo=info)
    return path


def _dashes(draw: ImageDraw.ImageDraw, y: int, dots: int) -> None:
    for x in range(0, dots + 2 * MARGIN, 12):
        draw.line([(x, y), (x + 6, y)], fill=160)


def _draw_qr(draw: ImageDraw.ImageDraw, row: PrintedRow, y: int) -> None:
    module = row.qr_module
    assert row.qr is not None
    for r, line in enumerate(row.qr):
        for c, dark in enumerate(line):
            if dark:
                x0, y0 = MARGIN + row.indent + c * module, y + r * module
                draw.rectangle([x0, y0, x0 + module - 1, y0 + module - 1], fill=0)


def _draw_glyphs(image: Image.Image, row: PrintedRow, y: int, font_path: str) -> None:
    x = MARGIN + row.indent
    # Characters of one line stand on one baseline; the line spacing is below them.
    baseline = y + LINE_HEIGHT * max((g.height for g in row.glyphs), default=1)
    for glyph in row.glyphs:
        cell = _glyph_image(glyph.char, glyph.cells, glyph.bold, glyph.underline, font_path)
        w, h = glyph.cells * CELL * glyph.width, LINE_HEIGHT * glyph.height
        if (w, h) != cell.size:
            cell = cell.resize((w, h), Image.NEAREST)  # the printer magnifies by whole dots
        image.paste(0, (x, baseline - h), cell)
        x += w


@lru_cache(maxsize=4096)
def _glyph_image(char: str, cells: int, bold: bool, underline: bool, font_path: str):
    """A character in its cell as a 1-bit mask (dots to burn)."""
    width = cells * CELL
    font = _font(font_path)
    # A proportional font's wide Latin letters (M, W) are drawn at their width and
    # narrowed into the cell, like a printer's monospaced ROM font.
    drawn = max(width, int(font.getlength(char)) + 1) if char.strip() else width
    mask = Image.new("L", (drawn, LINE_HEIGHT), 0)
    if char.strip():
        draw = ImageDraw.Draw(mask)
        # One baseline for Latin and Chinese alike, 5 dots above the cell's foot
        # for descenders; each character centred in its cell.
        draw.text((drawn / 2, BASELINE), char, font=font, fill=255, anchor="ms")
        if bold:
            draw.text((drawn / 2 + 1, BASELINE), char, font=font, fill=255, anchor="ms")
    if drawn != width:
        mask = mask.resize((width, LINE_HEIGHT), Image.LANCZOS)
    if underline:
        ImageDraw.Draw(mask).line([(0, LINE_HEIGHT - 1), (width, LINE_HEIGHT - 1)], fill=255)
    return mask.point(lambda v: 255 if v > 96 else 0)


@lru_cache(maxsize=4)
def _font(path: str) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, 22)

