"""A supervisor's authorisation, as the audit trail holds it, and its single use.

A supervisor authorises a void, a refund or a settlement by their password
(:meth:`terminal.operators.Operators.authorise`), which writes an audit row with
outcome :data:`AUTHORISED`, the action and who authorised it. That row is the
grant: the transaction it authorises finds it (fresh, of that action, by that
supervisor, not used yet) and writes its own journal entry's id into the row's
``entry_id`` in the same transaction as the entry (:func:`use`), so one password
authorises one transaction, and the audit trail shows which.

The check lives with the money, not in a user interface: a POS that drives the
library directly gets the same rule as ``terminal refund`` (see
:meth:`terminal.transactions.rules.HostRules.authorisation`). A lane nobody has
set operators up for (first use, the demo) has nobody to authorise anything, so
nothing is asked there; once an admin adds operators, every supervised
transaction needs a grant.
"""

from __future__ import annotations

import sqlite3

__all__ = ["AUTHORISED", "find", "use"]

#: The outcome :meth:`terminal.operators.Operators.authorise` writes for a good password.
AUTHORISED = "authorised"


def find(
    db: sqlite3.Connection, lane: str, action: str, supervisor: str, *, since: str, until: str
) -> int | None:
    """The newest unused grant of ``action`` by ``supervisor`` on ``lane`` written between
    ``since`` and ``until`` (ISO times, as the audit trail writes them); its audit row id."""
    row = db.execute(
        "SELECT id FROM audit WHERE lane = ? AND action = ? AND authorised_by = ?"
        " AND outcome = ? AND entry_id IS NULL AND at >= ? AND at <= ?"
        " ORDER BY id DESC LIMIT 1",
        (lane, action, supervisor, AUTHORISED, since, until),
    ).fetchone()
    return None if row is None else int(row[0])


def use(db: sqlite3.Connection, grant: int, entry_id: int) -> bool:
    """Spend ``grant`` on ``entry_id``, inside the caller's transaction (the one writing the
    entry); False when another transaction spent it first (or it is no grant)."""
    spent = db.execute(
        "UPDATE audit SET entry_id = ? WHERE id = ? AND entry_id IS NULL AND outcome = ?",
        (entry_id, grant, AUTHORISED),
    ).rowcount
    return bool(spent == 1)
