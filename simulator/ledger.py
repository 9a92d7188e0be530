"""The acquirer's books: every financial exchange the virtual terminal answered.

The ledger is what the simulated acquirer knows, kept apart from the POS
host's journal so that the two can be reconciled against each other later
(``totals(batch)``), exactly as a shop reconciles against its bank. It keeps
balances too: a card's balance is its profile's opening balance until an entry
for it exists, then the ``balance_after`` of its latest entry, so balances are
derived from the entries and never disagree with them.

A card number is stored only masked (first 6, last 4). With a path the ledger is
a JSON file, rewritten atomically (temp file + ``os.replace``) after every entry
and read back on start, so a simulator restarted mid-test keeps its books.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from simulator.cards import CardProfile
from simulator.issuer import APPROVED
from terminal.errors import ConfigError

__all__ = ["LEDGER_FILE_VERSION", "BatchTotals", "Ledger", "LedgerEntry"]

LEDGER_FILE_VERSION = 1

log = logging.getLogger("simulator")


@dataclass(frozen=True)
class LedgerEntry:
    """One answered financial request, approved or declined.

    ``auth_code`` is ``""`` for a decline. ``balance_after`` is the card's balance
    once this entry is booked (unchanged by declines and inquiries).
    """

    time: datetime
    batch: str
    trace: str
    rrn: str
    auth_code: str
    mti: str
    processing_code: str
    amount: int
    response_code: str
    card: str
    masked_pan: str
    balance_after: int

    def __post_init__(self) -> None:
        # The one place a careless caller could put a full card number into a file.
        if "*" not in self.masked_pan:
            raise ValueError("LedgerEntry.masked_pan must be masked (first 6 and last 4 only)")
        for name in ("amount", "balance_after"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"LedgerEntry.{name} must be int fen, got {value!r}")

    @property
    def approved(self) -> bool:
        return self.response_code == APPROVED

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["time"] = self.time.isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LedgerEntry:
        values = dict(data)
        values["time"] = datetime.fromisoformat(values["time"])
        return cls(**values)


@dataclass(frozen=True)
class BatchTotals:
    """Approved money movements of one batch, the figures a settlement (0500) compares.

    Debits are sales (processing code ``00xxxx``), credits voids and refunds
    (``20xxxx``); inquiries move no money and are not counted.
    """

    batch: str
    debit_count: int = 0
    debit_amount: int = 0
    credit_count: int = 0
    credit_amount: int = 0


class Ledger:
    """The acquirer's entries and card balances, in memory or in a JSON file."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self._entries: list[LedgerEntry] = []
        self._balances: dict[str, int] = {}
        self._by_trace: dict[tuple[str, str], LedgerEntry] = {}
        if self.path is not None and self.path.exists():
            for entry in self._read(self.path):
                self._index(entry)
            log.info("ledger loaded", extra={"path": str(self.path), "entries": len(self)})

    def __len__(self) -> int:
        return len(self._entries)

    def entries(self) -> list[LedgerEntry]:
        """All entries, oldest first (a copy: the books are changed only by :meth:`record`)."""
        return list(self._entries)

    def balance(self, card: CardProfile) -> int:
        """The card's balance in fen now."""
        return self._balances.get(card.name, card.balance)

    def find(self, batch: str, trace: str) -> LedgerEntry | None:
        """The entry for this batch and trace, if any: how repeats are recognised."""
        return self._by_trace.get((batch, trace))

    def last_batch(self) -> str | None:
        """The batch of the newest entry, so a restarted terminal does not reuse old batches."""
        return self._entries[-1].batch if self._entries else None

    def record(self, entry: LedgerEntry) -> None:
        """Book ``entry`` (the card's balance becomes its ``balance_after``) and save."""
        if (entry.batch, entry.trace) in self._by_trace:
            raise ValueError(f"batch {entry.batch} trace {entry.trace} is already booked")
        self._index(entry)
        if self.path is not None:
            self._write(self.path)

    def totals(self, batch: str) -> BatchTotals:
        """Counts and amounts (fen) of the approved debits and credits in ``batch``."""
        debit_count = debit_amount = credit_count = credit_amount = 0
        for entry in self._entries:
            if entry.batch != batch or not entry.approved:
                continue
            if entry.processing_code.startswith("00"):
                debit_count += 1
                debit_amount += entry.amount
            elif entry.processing_code.startswith("20"):
                credit_count += 1
                credit_amount += entry.amount
        return BatchTotals(batch, debit_count, debit_amount, credit_count, credit_amount)

    def _index(self, entry: LedgerEntry) -> None:
        self._entries.append(entry)
        self._balances[entry.card] = entry.balance_after
        self._by_trace[(entry.batch, entry.trace)] = entry

    @staticmethod
    def _read(path: Path) -> list[LedgerEntry]:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read ledger file {path}: {exc}") from exc
        if not isinstance(data, dict) or data.get("version") != LEDGER_FILE_VERSION:
            raise ConfigError(
                f"ledger file {path}: expected version {LEDGER_FILE_VERSION}, "
                f"got {data.get('version') if isinstance(data, dict) else data!r}"
            )
        try:
            return [LedgerEntry.from_json(item) for item in data.get("entries", [])]
        except (TypeError, ValueError, KeyError) as exc:
            raise ConfigError(f"ledger file {path}: bad entry: {exc}") from exc

    def _write(self, path: Path) -> None:
        document = {
            "version": LEDGER_FILE_VERSION,
            "entries": [entry.to_json() for entry in self._entries],
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        # Same directory as the target, so os.replace is a rename on one filesystem:
        # a crash leaves either the old books or the new ones, never half a file.
        fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(document, handle, ensure_ascii=False, indent=1)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp_name, path)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
