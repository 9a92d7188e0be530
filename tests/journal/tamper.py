"""Editing a journal file the way someone without the program would."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def tamper(path: Path, *statements: str) -> None:
    """Run ``statements`` on the file with a plain connection, the chain's triggers taken
    out first and put back after (the careful forger: the triggers themselves stay)."""
    db = sqlite3.connect(path, isolation_level=None)
    try:
        triggers = db.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
        ).fetchall()
        db.execute("BEGIN IMMEDIATE")
        for name, _ in triggers:
            db.execute(f"DROP TRIGGER {name}")
        for statement in statements:
            db.execute(statement)
        for _, sql in triggers:
            db.execute(sql)
        db.execute("COMMIT")
    finally:
        db.close()
