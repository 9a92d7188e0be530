"""Operator prompts with a timeout: a person at the console, or the simulator answering itself.

A prompt that nobody answers in time returns ``None``, which the checks report
as "no operator response" (a skip), never as a fault of the device.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import IO, Any, Protocol

__all__ = ["YES_NO", "AutoOperator", "ConsoleOperator", "Operator", "SilentOperator"]


#: The answers a yes/no prompt takes, and what they mean.
YES_NO: dict[str, str] = {"y": "y", "yes": "y", "是": "y", "n": "n", "no": "n", "否": "n"}


class Operator(Protocol):
    """Answers a prompt within ``timeout`` seconds, or returns ``None``.

    With ``choices`` (answer → meaning, e.g. :data:`YES_NO`) the answer returned
    is the meaning of one of them; without, any line (Enter included) answers.
    The prompt is the question alone: the operator shows the time it waits.
    """

    def ask(self, prompt: str, timeout: float, *, context: dict[str, Any],
            choices: dict[str, str] | None = None) -> str | None: ...


class AutoOperator:
    """The simulator's side answers: presents the test card, asks the printer if it cut.

    ``context`` carries what the check knows: ``port`` (a ``sim://`` port has a
    ``simulator`` to present a card to), ``printed`` (a callable asking the
    printer whether the receipt is out, ``GS r``).
    """

    def ask(self, prompt: str, timeout: float, *, context: dict[str, Any],
            choices: dict[str, str] | None = None) -> str | None:
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

    def ask(self, prompt: str, timeout: float, *, context: dict[str, Any],
            choices: dict[str, str] | None = None) -> str | None:
        return None


class ConsoleOperator:
    """A person at the console: the prompt on ``output``, a line from ``input`` in time.

    The line is read in a helper thread, so the wait works the same on Windows
    (no ``select`` on a console there) and on POSIX. Lines typed while no
    prompt was waiting (a late answer to a prompt that timed out) are dropped
    when the next prompt is shown, so they never answer a question nobody had
    asked yet. An answer that is not one of the ``choices`` is asked again in
    the time left; a closed input (end of file) is "no operator response" at
    once rather than after the whole timeout.
    """

    def __init__(self, input: IO[str], output: IO[str],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._input = input
        self._output = output
        self._clock = clock
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._closed = False
        # Reading starts now, so that lines typed before the first prompt are
        # dropped with the other stale ones rather than answering it.
        self._reader = threading.Thread(target=self._read, name="operator", daemon=True)
        self._reader.start()

    def ask(self, prompt: str, timeout: float, *, context: dict[str, Any],
            choices: dict[str, str] | None = None) -> str | None:
        self._drop_stale_lines()
        self._show(f"\n>>> {prompt} ({timeout:g} s) ")
        deadline = self._clock() + timeout
        while not self._closed:
            left = deadline - self._clock()
            if left <= 0:
                break
            try:
                line = self._lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                self._closed = True
                break
            answer = line.strip()
            if choices is None:
                return answer
            meaning = choices.get(answer.lower())
            if meaning is not None:
                return meaning
            self._show(f"    please answer {'/'.join(_first_of_each(choices))} "
                       f"({max(deadline - self._clock(), 0):.0f} s left) ")
        self._show("(no answer)\n")
        return None

    def _show(self, text: str) -> None:
        self._output.write(text)
        self._output.flush()

    def _drop_stale_lines(self) -> None:
        while True:
            try:
                line = self._lines.get_nowait()
            except queue.Empty:
                return
            if line is None:
                self._closed = True

    def _read(self) -> None:
        while True:
            line = self._input.readline()
            self._lines.put(line or None)
            if not line:
                return


def _first_of_each(choices: dict[str, str]) -> list[str]:
    """One answer per meaning, as the hint shows them: ``y/n``."""
    seen: dict[str, str] = {}
    for answer, meaning in choices.items():
        seen.setdefault(meaning, answer)
    return list(seen.values())
