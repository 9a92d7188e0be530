"""The host's files under one data directory: journal, token key, the simulator's books.

Library code takes the directory as an argument; which directory it is (the
platform's per-user data directory, or ``$TERMINAL_DATA_DIR``) is the command
line's decision (:func:`terminal.cli.paths.data_paths`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["DataPaths", "data_paths"]


@dataclass(frozen=True)
class DataPaths:
    """The files under one data directory."""

    root: Path

    @property
    def journal(self) -> Path:
        return self.root / "journal.sqlite3"

    @property
    def simulator_books(self) -> Path:
        return self.root / "simulator" / "books.sqlite3"

    @property
    def token_key(self) -> Path:
        return self.root / "token.key"


def data_paths(root: Path) -> DataPaths:
    """The files under ``root``."""
    return DataPaths(root)
