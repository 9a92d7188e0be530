"""Import python-escpos without letting it configure the program's logging.

python-escpos 3.1 calls ``logging.basicConfig()`` when ``escpos.capabilities`` is
imported. That puts a stderr handler on the root logger of every program that imports
us, so library warnings (the simulator's, the host's) would be printed as
``WARNING:simulator:...`` lines beside the CLI's own one message per problem, and
``-v`` would find the root logger already configured. ``basicConfig`` does nothing
when the root logger has a handler, so the import runs with a placeholder there.
"""

from __future__ import annotations

import logging

__all__ = ["import_escpos_quietly"]


def import_escpos_quietly() -> None:
    """Import python-escpos with the root logger's handlers left as they were."""
    root = logging.getLogger()
    placeholder = logging.NullHandler()
    root.addHandler(placeholder)
    try:
        import escpos.capabilities  # noqa: F401  (the module that calls basicConfig)
    finally:
        root.removeHandler(placeholder)
