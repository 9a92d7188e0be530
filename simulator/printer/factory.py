"""The ``virtual://`` printer: a :class:`~simulator.printer.VirtualPrinter` from URL options.

Registered under the ``terminal.devices`` entry points (``virtual =
"simulator.printer.factory:build_printer"``), so ``terminal.receipts`` opens it
without importing the simulator, as ``sim://`` finds the virtual terminal.
"""

from __future__ import annotations

from collections.abc import Mapping

from simulator.printer.device import VirtualPrinter
from terminal.clock import Clock
from terminal.errors import ConfigError

__all__ = ["STATES", "build_printer"]

# ``state=`` in a virtual:// URL: the conditions the printer starts in.
STATES: dict[str, dict[str, bool]] = {
    "ready": {},
    "paper-near-end": {"paper_near_end": True},
    "paper-out": {"paper_out": True},
    "cover-open": {"cover_open": True},
    "offline": {"offline": True},
    "error": {"cutter_error": True},
    "no-answer": {"no_answer": True},
}


def build_printer(options: Mapping[str, str], *, clock: Clock) -> VirtualPrinter:
    """``dots`` and ``encoding`` (from the printer profile), ``state`` and
    ``paper_lines`` (a roll that ends after so many lines)."""
    state = options.get("state", "ready")
    if state not in STATES:
        raise ConfigError(f"virtual printer state is one of {', '.join(STATES)}, not {state!r}")
    try:
        dots = int(options.get("dots", "384"))
        lines = int(options["paper_lines"]) if "paper_lines" in options else None
    except ValueError:
        raise ConfigError("virtual printer dots and paper_lines are whole numbers") from None
    device = VirtualPrinter(dots=dots, encoding=options.get("encoding", "gb18030"))
    device.set_conditions(**STATES[state])
    if lines is not None:
        device.load_paper(lines)
    return device
