"""Crash points for the crash-consistency tests: a process that dies where it is told to.

A client given ``crash_at`` (the CLI takes it from ``$TERMINAL_CRASH_AT``) names a
point (``before-send``, ``after-send``, ``before-commit``) and, optionally, the
transaction kind (``after-send:refund``); reaching it, the process kills itself
with SIGKILL, as a power cut would, leaving the journal exactly as it was at
that instant. Without it (always, outside those tests) :func:`reach` does nothing.
"""

from __future__ import annotations

import os
import signal

__all__ = ["CRASH_ENV", "POINTS", "reach"]

#: The environment variable the CLI reads the crash point from.
CRASH_ENV = "TERMINAL_CRASH_AT"
POINTS = ("before-send", "after-send", "before-commit")


def reach(point: str, kind: str, wanted: str | None) -> None:
    """Die here if ``wanted`` names ``point`` (and ``kind``, when it names one)."""
    if not wanted:
        return
    name, _, only = wanted.partition(":")
    if name == point and (not only or only == kind):
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))
