"""Who answered: the simulator names itself in every response it sends.

A simulated terminal run in another process (``terminal simulate --pty`` or
``--tcp``, the pytest plugin's ``terminal_sim``) is, to the POS, a serial port or
a socket like any other: its URL cannot tell it from a real terminal. So the
simulator says what it is in the message itself, and the host believes the
message, wherever the simulator runs:

- **Where**: field 59 (private use, ``ans..999 LLL``), as one element in a
  tag-length-value layout: a two-character tag, the value's length as three
  digits, the value. Ours is tag :data:`SIMULATOR_TAG` with the text
  :data:`SIMULATOR_TEXT`; other elements a device may put in 59 are passed over.
- **Only on purpose**: the tag *and* the exact text must be found, at an
  element boundary. A real terminal does not send it by accident, and line
  noise spoils the mark rather than making one: a field 59 that is not in this
  layout identifies nothing and is no error (it is the device's own data).
- **In every response**, not only a sign-on's: each answer speaks for itself,
  so a sale after either side restarted, a reversal sent by recovery, or a
  journal shared by several processes needs no remembered "what is on this
  lane", which would go stale the day the cable moves to a real terminal.
- **Under the MAC**: field 64 covers everything up to field 63, so on a MACed
  response the mark can be neither added nor removed without the MAC failing.

Both sides import this module: the simulator to mark (:func:`with_simulator_mark`),
the host to read (:func:`identifies_simulator`). Nothing else about the device
travels this way.
"""

from __future__ import annotations

from typing import Any

from terminal.protocol.message import Message

__all__ = [
    "SIMULATOR_FIELD",
    "SIMULATOR_TAG",
    "SIMULATOR_TEXT",
    "field59_elements",
    "identifies_simulator",
    "simulator_element",
    "with_simulator_mark",
]

#: The private-use field that carries the mark.
SIMULATOR_FIELD = 59
#: The element's tag (``Z``: outside the tags the card schemes allocate).
SIMULATOR_TAG = "ZS"
#: The element's value: what the device is, and what that means for the money.
SIMULATOR_TEXT = "TERMINAL SIMULATOR - NO MONEY MOVED"

_TAG_LENGTH = 2
_LENGTH_DIGITS = 3


def simulator_element() -> str:
    """The mark as it goes into field 59: ``ZS035TERMINAL SIMULATOR - NO MONEY MOVED``."""
    return f"{SIMULATOR_TAG}{len(SIMULATOR_TEXT):0{_LENGTH_DIGITS}d}{SIMULATOR_TEXT}"


def with_simulator_mark(field59: Any = None) -> str:
    """Field 59 carrying the mark: ``field59``'s own elements (if it has any), then ours once."""
    existing = field59 if isinstance(field59, str) else ""
    elements = field59_elements(existing)
    if elements is not None and (SIMULATOR_TAG, SIMULATOR_TEXT) in elements:
        return existing
    return existing + simulator_element()


def identifies_simulator(message: Message) -> bool:
    """True when ``message`` (a response) carries the simulator's mark in field 59."""
    elements = field59_elements(message.get(SIMULATOR_FIELD))
    return elements is not None and (SIMULATOR_TAG, SIMULATOR_TEXT) in elements


def field59_elements(value: Any) -> list[tuple[str, str]] | None:
    """Field 59 read as tag-length-value elements, in order; ``None`` when it is not in
    that layout (absent, not text, a length that is not three digits or runs past the end).

    Not being in the layout is no error: 59 is private, and a device may use it
    in its own way.
    """
    if not isinstance(value, str):
        return None
    elements: list[tuple[str, str]] = []
    at = 0
    while at < len(value):
        head_end = at + _TAG_LENGTH + _LENGTH_DIGITS
        length = value[at + _TAG_LENGTH : head_end]
        if len(length) != _LENGTH_DIGITS or not (length.isascii() and length.isdigit()):
            return None
        end = head_end + int(length)
        if end > len(value):
            return None
        elements.append((value[at : at + _TAG_LENGTH], value[head_end:end]))
        at = end
    return elements
