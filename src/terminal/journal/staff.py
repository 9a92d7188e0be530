"""Who works a lane: whether it has operators, and whether one may ring up money now.

Read by the host's rules (:mod:`terminal.transactions.rules`, which the client runs
whatever its caller) and by :class:`terminal.operators.Operators`, which audits and
explains a refusal for the command line; one query, so the two cannot disagree.
A lane nobody has set operators up for (first use, the demo) has nobody to check
against, so nothing is refused there.
"""

from __future__ import annotations

import sqlite3

__all__ = ["is_operator", "not_on_duty", "staffed"]


def staffed(db: sqlite3.Connection, lane: str) -> bool:
    """Whether ``lane`` has operators (any not removed)."""
    row = db.execute(
        "SELECT 1 FROM operators WHERE lane = ? AND removed = 0 LIMIT 1", (lane,)
    ).fetchone()
    return row is not None


def is_operator(db: sqlite3.Connection, lane: str, name: str) -> bool:
    """Whether ``name`` is an operator of ``lane`` (removed ones too): an audit row names only
    those, never text a caller made up."""
    row = db.execute(
        "SELECT 1 FROM operators WHERE lane = ? AND name = ? LIMIT 1", (lane, name)
    ).fetchone()
    return row is not None


def not_on_duty(db: sqlite3.Connection, lane: str, name: str | None) -> str | None:
    """Why ``name`` may not ring up money on ``lane`` (``missing``, ``unknown``,
    ``removed``, ``locked``), or None: on duty, or the lane has no operators yet."""
    if not staffed(db, lane):
        return None
    if name is None:
        return "missing"
    row = db.execute(
        "SELECT removed, locked FROM operators WHERE lane = ? AND name = ?"
        " ORDER BY removed LIMIT 1", (lane, name),
    ).fetchone()
    if row is None:
        return "unknown"
    return "removed" if row["removed"] else "locked" if row["locked"] else None
