"""The host's journal: every exchange with the terminal, written before it is sent.

One SQLite file in the data directory (:mod:`terminal.paths`, chosen by the CLI); see
:mod:`terminal.journal.store` for why and how. Later steps (recovery, lookup,
tamper evidence) read and extend the same tables.
"""

from terminal.journal.entry import EntryState, JournalEntry, OriginalRef
from terminal.journal.schema import SCHEMA_VERSION
from terminal.journal.store import (
    Journal,
    JournalError,
    JournalStore,
    OriginalNotFound,
    open_journal,
)

__all__ = [
    "SCHEMA_VERSION",
    "EntryState",
    "Journal",
    "JournalEntry",
    "JournalError",
    "JournalStore",
    "OriginalNotFound",
    "OriginalRef",
    "open_journal",
]
