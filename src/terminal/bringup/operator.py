"""Operator prompts with a timeout: a person at the console, or the simulator answering itself.

A prompt that nobody answers in time returns ``None``, which the checks report
as "no operator response" (a skip), never as a fault of the device.
"""

from __future__ import annotations

import queue
import threading
from typing import IO, Any, Protocol

__all__ = ["AutoOperator", "ConsoleOperator", "Operator", "SilentOperator"]


class Operator(Protocol):
    """Answers a prompt within ``timeout`` seconds, or returns ``None``."""

    def ask(self, prompt: str, timeout: float, *, context: dict[str, Any]) -> str | None: ...


class AutoOperator:
    """The simulator's side answers: presents the test card, asks the printer if it cut.

    ``context`` carries what the check knows: ``port`` (a ``sim://`` port has a
    ``simulator`` to present a card to), ``printed`` (a callable asking the
    printer whether the receipt is out, ``GS r``).
    """

    def ask(self, prompt: str, timeout: float, *, context: dict[str, Any]) -> str | None:
        card = context.get("card")
        simulator = getattr(context.get("port"), "simulator", None)
        if card and simulator is not None and hasattr(simulator, "present_card"):
            simulator.present_card(card)
        printed = context.get("printed")
        if callable(printed):
            return "y" if printed(timeout) else "n"
        return "ok"


class SilentOperator:
    """Nobody there: every prompt times out (for proving the "no operator response" path)."""

    def ask(self, prompt: str, timeout: float, *, context: dict[str, Any]) -> str | None:
        return None


class ConsoleOperator:
    """A person at the console: the prompt on ``output``, a line from ``input`` in time.

    The line is read in a helper thread, so the wait works the same on Windows
    (no ``select`` on a console there) and on POSIX.
    """

    def __init__(self, input: IO[str], output: IO[str]) -> None:
        self._input = input
        self._output = output
        self._lines: queue.Queue[str] = queue.Queue()
        self._reader: threading.Thread | None = None

    def ask(self, prompt: str, timeout: float, *, context: dict[str, Any]) -> str | None:
        self._output.write(f"\n>>> {prompt} ({timeout:g} s) ")
        self._output.flush()
        if self._reader is None or not self._reader.is_alive():
            self._reader = threading.Thread(target=self._read, name="operator", daemon=True)
            self._reader.start()
        try:
            return self._lines.get(timeout=timeout).strip()
        except queue.Empty:
            self._output.write("(no answer)\n")
            return None

    def _read(self) -> None:
        line = self._input.readline()
        if line:
            self._lines.put(line)
