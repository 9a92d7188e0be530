"""Where the host keeps its files: config, journal, token key, the embedded simulator's books.

Resolved by the CLI and passed down (library code takes paths as arguments).
Data lives in the platform's per-user data directory (``platformdirs``);
``$TERMINAL_DATA_DIR`` relocates all of it at once, e.g. to a shop PC's backed-up
disk or, in tests, to a temporary directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

__all__ = ["DATA_DIR_ENV", "DataPaths", "data_dir", "data_paths"]

DATA_DIR_ENV = "TERMINAL_DATA_DIR"
APP_NAME = "terminal"


def data_dir() -> Path:
    """``$TERMINAL_DATA_DIR``, else the platform's user data directory for ``terminal``."""
    explicit = os.environ.get(DATA_DIR_ENV)
    if explicit:
        return Path(explicit).expanduser()
    return platformdirs.user_data_path(APP_NAME, appauthor=False)


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


def data_paths(root: Path | None = None) -> DataPaths:
    return DataPaths(root if root is not None else data_dir())
