"""The acquirer's books: every financial exchange the virtual terminal answered.

The ledger is what the simulated acquirer knows, kept apart from the POS
host's journal so that the two can be reconciled against each other later
(``totals(batch)``), exactly as a shop reconciles against its bank. It keeps
balances too: a card's balance is its profile's opening balance until an entry
for it exists, then the ``balance_after`` of its latest entry, so balances are
derived from the entries and never disagree with them.

A card number is stored only masked (first 6, last 4). With a path the ledger is
a JSON file, rewritten atomically (temp file + fsync + ``os.replace``) after
every entry and read back on start, so a simulator restarted mid-test keeps its
books. Several simulator processes may share one file (six ``terminal sale``
runs at once on ``sim://?ledger=...``): every change is made holding an
exclusive ``flock`` on ``<ledger>.lock`` beside it, on the books re-read under
that lock, so no process writes back a stale copy over another's entries.

The file also keeps the exchange sequence (``"sequence"``), from which the
host builds RRNs and authorisation codes; it is drawn under the same lock, so it
never repeats across processes or restarts. An in-memory ledger starts its
sequence at a random point, so two simulator processes started in the same
second are unlikely to hand out the same RRN.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from simulator.cards import CardProfile
from simulator.issuer import APPROVED
from terminal.errors import ConfigError
from terminal.files import replace_atomically

__all__ = ["LEDGER_FILE_VERSION", "BatchTotals", "Ledger", "LedgerEntry"]

LEDGER_FILE_VERSION = 1
# The exchange sequence runs 1..999999 and wraps: six digits of an RRN.
SEQUENCE_MODULUS = 1_000_000

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
    """The acquirer's entries and card balances, in memory or in a JSON file.

    With a file, every read sees the books as they are on disk (another
    process may have booked since), and every change happens under an
    exclusive lock on ``<path>.lock``: see :meth:`locked`.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self._entries: list[LedgerEntry] = []
        self._balances: dict[str, int] = {}
        self._by_trace: dict[tuple[str, str], LedgerEntry] = {}
        # In memory nothing persists the sequence: start it somewhere random so
        # that simulator processes started in the same second differ in their RRNs.
        self._sequence = secrets.randbelow(SEQUENCE_MODULUS - 1) if path is None else 0
        self._signature: tuple[int, int, int] | None = None
        self._thread_lock = threading.RLock()
        self._lock_depth = 0
        if self.path is not None and self.path.exists():
            self._reload(force=True)
            log.info("ledger loaded", extra={"path": str(self.path), "entries": len(self)})

    @property
    def lock_path(self) -> Path | None:
        """The lock file beside the ledger file (``None`` in memory)."""
        return self.path.with_name(self.path.name + ".lock") if self.path is not None else None

    def __len__(self) -> int:
        self._reload()
        return len(self._entries)

    def entries(self) -> list[LedgerEntry]:
        """All entries, oldest first (a copy: the books are changed only by :meth:`record`)."""
        self._reload()
        return list(self._entries)

    def balance(self, card: CardProfile) -> int:
        """The card's balance in fen now."""
        self._reload()
        return self._balances.get(card.name, card.balance)

    def find(self, batch: str, trace: str) -> LedgerEntry | None:
        """The entry for this batch and trace, if any: how repeats are recognised."""
        self._reload()
        return self._by_trace.get((batch, trace))

    def last_batch(self) -> str | None:
        """The batch of the newest entry, so a restarted terminal does not reuse old batches."""
        self._reload()
        return self._entries[-1].batch if self._entries else None

    @contextmanager
    def locked(self) -> Iterator[Ledger]:
        """Hold the books exclusively: fresh from the file, no other process changing them.

        Everything a booking decides on (is this a repeat? the card's balance,
        the next sequence) must be read inside one ``with ledger.locked():``
        together with the :meth:`record` it leads to. Re-entrant; a no-op file
        lock for an in-memory ledger (threads are still serialised).
        """
        with self._thread_lock:
            if self._lock_depth or self.lock_path is None:
                self._lock_depth += 1
                try:
                    yield self
                finally:
                    self._lock_depth -= 1
                return
            self.lock_path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                self._lock_depth = 1
                try:
                    self._reload(force=True)
                    yield self
                finally:
                    self._lock_depth = 0
                    fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)

    def next_sequence(self) -> int:
        """Draw the next exchange sequence (1..999999), persisted with the file's books.

        Call it holding :meth:`locked` and record the entry built from it in the
        same hold: the draw is saved with that entry, so it is unique across
        processes and restarts (until it wraps after 999999 exchanges).
        """
        with self.locked():
            self._sequence = self._sequence % (SEQUENCE_MODULUS - 1) + 1
            return self._sequence

    def book(self, build: Callable[[int], LedgerEntry]) -> LedgerEntry:
        """Record the entry ``build(sequence)`` makes from a freshly drawn sequence; return it.

        The draw, the build and the write happen under one hold of the lock.
        """
        with self.locked():
            entry = build(self.next_sequence())
            self.record(entry)
            return entry

    def record(self, entry: LedgerEntry) -> None:
        """Book ``entry`` (the card's balance becomes its ``balance_after``) and save.

        With a file: under the lock, on the books as they are on disk now, so
        entries other processes booked meanwhile are kept.
        """
        with self.locked():
            if (entry.batch, entry.trace) in self._by_trace:
                raise ValueError(f"batch {entry.batch} trace {entry.trace} is already booked")
            self._index(entry)
            if self.path is not None:
                self._write(self.path)

    def totals(self, batch: str) -> BatchTotals:
        """Counts and amounts (fen) of the approved debits and credits in ``batch``."""
        debit_count = debit_amount = credit_count = credit_amount = 0
        for entry in self.entries():
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

    def _reload(self, *, force: bool = False) -> None:
        """Take the books from the file if it changed since last read (always if ``force``).

        The file is only ever replaced whole (``os.replace``), so a read without
        the lock still sees one complete version.
        """
        if self.path is None or (self._lock_depth and not force):
            return
        with self._thread_lock:
            try:
                stat = self.path.stat()
            except FileNotFoundError:
                return
            signature = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
            if not force and signature == self._signature:
                return
            entries, sequence = self._read(self.path)
            self._entries, self._balances, self._by_trace = [], {}, {}
            for entry in entries:
                self._index(entry)
            self._sequence = sequence
            self._signature = signature

    @staticmethod
    def _read(path: Path) -> tuple[list[LedgerEntry], int]:
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
            entries = [LedgerEntry.from_json(item) for item in data.get("entries", [])]
        except (TypeError, ValueError, KeyError) as exc:
            raise ConfigError(f"ledger file {path}: bad entry: {exc}") from exc
        # A file written before the sequence was kept: one draw per entry so far.
        sequence = data.get("sequence", len(entries) % SEQUENCE_MODULUS)
        if isinstance(sequence, bool) or not isinstance(sequence, int) or sequence < 0:
            raise ConfigError(f"ledger file {path}: bad sequence {sequence!r}")
        return entries, sequence

    def _write(self, path: Path) -> None:
        document = {
            "version": LEDGER_FILE_VERSION,
            "sequence": self._sequence,
            "entries": [entry.to_json() for entry in self._entries],
        }
        replace_atomically(path, json.dumps(document, ensure_ascii=False, indent=1))
        stat = path.stat()
        self._signature = (stat.st_ino, stat.st_size, stat.st_mtime_ns)

