"""A receipt as printable blocks: lines with their style, QR codes, feeds.

The layout engine makes a :class:`Document` from a template and the receipt's
values; the ESC/POS writer turns it into printer commands, and :meth:`Document.text`
into the plain text shown on a screen. Lines are already cut and padded to the
paper's columns, so both outputs line up the same way.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from terminal.receipts.cells import cells

__all__ = ["Align", "Block", "Document", "Feed", "QrCode", "TextLine"]


class Align(enum.Enum):
    LEFT = "left"
    CENTER = "center"
    RIGHT = "right"


@dataclass(frozen=True, slots=True)
class TextLine:
    """One printed line. ``width``/``height`` are character magnifications (1 or 2)."""

    text: str
    align: Align = Align.LEFT
    bold: bool = False
    width: int = 1
    height: int = 1


@dataclass(frozen=True, slots=True)
class QrCode:
    """A QR code printed by the printer itself (``GS ( k``), centred.

    ``module`` is the dot size of one module (1-16); 4 dots on a 203 dpi head is
    0.5 mm, which phone cameras and handheld scanners read at arm's length.
    """

    data: str
    module: int = 4


@dataclass(frozen=True, slots=True)
class Feed:
    """Blank paper, in lines."""

    lines: int = 1


Block = TextLine | QrCode | Feed


@dataclass(frozen=True, slots=True)
class Document:
    """One slip: the blocks in order, for a paper ``columns`` cells wide. Ends in a cut."""

    name: str
    columns: int
    blocks: tuple[Block, ...]

    def text(self) -> str:
        """The slip as plain text, ``columns`` cells wide, ending in a newline.

        A magnified line is shown at normal size; a QR code as one line naming
        what it holds, since a screen has no use for the picture.
        """
        out: list[str] = []
        for block in self.blocks:
            if isinstance(block, TextLine):
                room = self.columns // block.width
                out.append(_aligned(block.text, block.align, room).rstrip())
            elif isinstance(block, QrCode):
                out.append(_aligned(f"[QR {block.data}]", Align.CENTER, self.columns).rstrip())
            else:
                out.extend([""] * block.lines)
        return "\n".join(out) + "\n"


def _aligned(text: str, align: Align, room: int) -> str:
    gap = max(0, room - cells(text))
    if align is Align.CENTER:
        return " " * (gap // 2) + text
    if align is Align.RIGHT:
        return " " * gap + text
    return text
