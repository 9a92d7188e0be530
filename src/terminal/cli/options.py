"""Options shared by several commands, declared once so that they read the same everywhere.

``-v`` is accepted before the command (``terminal -v sale``) and after it
(``terminal sale 1.00 -v``): each command carries the option too, and both
places feed the same logging set-up.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

__all__ = [
    "BaudrateOption",
    "CardOption",
    "ConfigOption",
    "JsonOption",
    "PortOption",
    "VerboseOption",
    "card_profile_names",
    "quiet_library_logs",
]

_LIBRARY_LOGGERS = ("terminal", "simulator")


def _verbose(value: int) -> int:
    """``-v`` logs the transactions to stderr, ``-vv`` the link too (never card data)."""
    if value:
        level = logging.DEBUG if value > 1 else logging.INFO
        root = logging.getLogger()
        if not root.handlers:
            logging.basicConfig(format="%(asctime)s %(name)s %(levelname)s %(message)s")
        root.setLevel(min(root.level, level) if root.level else level)
        # filelock's debug lines name lock objects by id(), long digit runs that
        # say nothing to a shop and look like card numbers to a leak scan.
        logging.getLogger("filelock").setLevel(logging.WARNING)
    return value


def quiet_library_logs() -> None:
    """Without ``-v`` the library's warnings are not printed by Python's last-resort
    handler: the command reports each problem itself, once."""
    for name in _LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
            logger.addHandler(logging.NullHandler())


def card_profile_names() -> list[str]:
    """The simulator's packaged card profiles, for help texts; empty if it is not installed."""
    try:
        from simulator.cards import load_cards

        return load_cards().names()
    except Exception:
        return []


def _card_help() -> str:
    names = card_profile_names()
    listed = f": {', '.join(names)}" if names else ""
    return f"Simulator only: the card profile to present{listed}."


VerboseOption = Annotated[
    int,
    typer.Option(
        "--verbose", "-v", count=True, callback=_verbose,
        help="Log to stderr: -v the transactions, -vv the link too.",
    ),
]
PortOption = Annotated[
    str | None,
    typer.Option(
        "--port", "-p",
        help="pyserial URL: /dev/ttyUSB0, COM3, socket://h:p, sim:// "
        "(default: $TERMINAL_PORT, then the config file, then sim://).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result (or error) as JSON.")]
CardOption = Annotated[str | None, typer.Option("--card", help=_card_help())]
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="Config file (default: $TERMINAL_CONFIG, then the platform's)."),
]
BaudrateOption = Annotated[
    int | None,
    typer.Option(
        "--baudrate",
        help="Serial line speed (default: baudrate in the config file's serial table, else 9600).",
    ),
]
