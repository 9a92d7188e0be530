"""The virtual receipt printer: ESC/POS in, paper (text and PNG) and status out.

- :class:`VirtualPrinter` — the device, transport-free: ``feed(bytes)``,
  ``read_output()``; conditions (paper out, cover open, offline, no answer);
- :func:`render_text` / :func:`render_png` — the paper as text and as a picture
  drawn with a real CJK font (:func:`find_cjk_font`);
- :mod:`simulator.printer.serve` — the same device on a pty or a TCP port (9100).
"""

from simulator.printer.device import Conditions, PrintedRow, Slip, VirtualPrinter
from simulator.printer.fonts import find_cjk_font
from simulator.printer.render import NoCjkFont, render_png, render_text

__all__ = [
    "Conditions",
    "NoCjkFont",
    "PrintedRow",
    "Slip",
    "VirtualPrinter",
    "find_cjk_font",
    "render_png",
    "render_text",
]
