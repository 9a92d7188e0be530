"""Wake-ups on time for the simulator's serve loops (Linux).

Linux lets the timer of a sleeping thread fire up to its *timer slack* late (50 µs by
default) so that it can batch wake-ups. The serve loop sleeps until the moment a byte
is due on a paced line (:mod:`simulator.pacing`), and a frame's end is what the POS
waits for: each late wake-up is time a real line would not have taken, on every
frame. A thread asks for 1 ns of slack here with ``prctl(PR_SET_TIMERSLACK)``; threads
it starts afterwards inherit it. Elsewhere (Windows, macOS) nothing is done: their
timers have no such setting, and the loop's accuracy is what the platform gives.

Written by hand over ``ctypes``: the one call no library wraps.
"""

from __future__ import annotations

import ctypes
import sys

__all__ = ["tighten_timer_slack"]

#: ``PR_SET_TIMERSLACK`` from ``<linux/prctl.h>``.
_PR_SET_TIMERSLACK = 29
_SLACK_NS = 1


def tighten_timer_slack() -> bool:
    """Give the calling thread (and the threads it starts later) 1 ns of timer slack.

    Returns whether it was done; never raises (a sandbox that forbids ``prctl`` only
    costs accuracy)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(_PR_SET_TIMERSLACK, _SLACK_NS, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False
