"""Display width on a receipt printer: how many character cells a string takes.

A receipt printer's Font A puts an ASCII character in one 12-dot cell and a
Chinese character in two (24 dots). ``wcwidth`` says which characters are wide;
columns only line up when every pad and cut counts cells, never ``len()``.
"""

from __future__ import annotations

from wcwidth import wcwidth

__all__ = ["cells", "centre", "fit", "pad_left", "pad_right", "wrap"]


def cells(text: str) -> int:
    """Cells ``text`` takes: two for a wide (CJK) character, one otherwise.

    Control and zero-width characters count nothing; a receipt never carries them,
    but a merchant name typed with one must not push a column out of line.
    """
    return sum(max(wcwidth(char), 0) for char in text)


def fit(text: str, width: int) -> str:
    """``text`` cut to at most ``width`` cells, never splitting a wide character."""
    used = 0
    out = []
    for char in text:
        size = max(wcwidth(char), 0)
        if used + size > width:
            break
        out.append(char)
        used += size
    return "".join(out)


def pad_right(text: str, width: int) -> str:
    """``text`` fitted to ``width`` cells and padded with spaces on the right."""
    text = fit(text, width)
    return text + " " * (width - cells(text))


def pad_left(text: str, width: int) -> str:
    """``text`` fitted to ``width`` cells and padded with spaces on the left."""
    text = fit(text, width)
    return " " * (width - cells(text)) + text


def centre(text: str, width: int) -> str:
    """``text`` centred in ``width`` cells (the odd cell goes to the right)."""
    text = fit(text, width)
    room = width - cells(text)
    return " " * (room // 2) + text + " " * (room - room // 2)


def wrap(text: str, width: int) -> list[str]:
    """``text`` broken into lines of at most ``width`` cells.

    Breaks at a space where the line has one, else between any two characters,
    which is how Chinese is broken: it has no spaces between words.
    """
    lines: list[str] = []
    for paragraph in text.split("\n"):
        rest = paragraph
        while cells(rest) > width:
            head = fit(rest, width)
            cut = head.rfind(" ")
            if cut > 0:
                head = head[:cut]
            lines.append(head.rstrip())
            rest = rest[len(head):].lstrip(" ")
        lines.append(rest)
    return lines
