"""A host client against the real simulator (``sim://`` with its books in a file).

Each :meth:`Rig.client` opens a fresh ``sim://`` port on the same books and
journal, presenting the card it is given, the way two CLI runs do. Every byte
the host sends goes through :class:`CountingLink`, so a test can say "nothing
was sent" and check the simulator's books as well.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from simulator.ledger import Ledger
from terminal.config import TerminalSettings
from terminal.errors import LinkError, LinkTimeout
from terminal.journal import Journal
from terminal.link import SerialLink
from terminal.protocol import decode
from terminal.protocol.catalogue import FINANCIAL_MTIS
from terminal.transactions.client import Security, TerminalClient
from terminal.transport import open_port

KEY = b"k" * 32


class CountingLink:
    """The real link, counting what goes out; ``fault`` breaks money exchanges (not the
    sign-on before them) on purpose: ``"lose-answer"`` (the request arrives, its answer
    is lost on the way back) or ``"down"`` (nothing gets through)."""

    def __init__(self, link: SerialLink, fault: str | None = None) -> None:
        self.link = link
        self.sent = 0
        self.fault = fault
        self._money = False

    def send(self, data: bytes) -> None:
        self._money = decode(data).mti in FINANCIAL_MTIS or decode(data).mti == "0820"
        if self.fault == "down" and self._money:
            raise LinkError("no ACK: the terminal does not answer")
        self.sent += 1
        self.link.send(data)

    def receive(self, timeout: float | None = None) -> bytes:
        answer = self.link.receive(timeout)
        if self.fault == "lose-answer" and self._money:
            raise LinkTimeout("no response (lost on the way back)")
        return answer


class Rig:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.books = root / "books.sqlite3"
        self.journal = Journal(root / "journal.sqlite3")
        self.sent = 0
        self.now: datetime | None = None

    def close(self) -> None:
        self.journal.close()

    @contextmanager
    def client(
        self, card: str = "approved", fault: str | None = None, **options: Any
    ) -> Iterator[TerminalClient]:
        port = open_port(f"sim://?card={card}&ledger={self.books}")
        counting = CountingLink(SerialLink(port), fault)
        wall = (lambda: self.now) if self.now is not None else datetime.now
        try:
            yield TerminalClient(counting, TerminalSettings(), journal=self.journal,
                                 token_key=KEY, security=Security(), response_timeout=5.0,
                                 wall_time=wall, **options)
        finally:
            self.sent += counting.sent
            port.close()

    def ledger_size(self) -> int:
        return len(self.ledger())

    def ledger(self) -> list[Any]:
        ledger = Ledger(self.books)
        try:
            return ledger.entries()
        finally:
            ledger.close()


def money_in_journal(journal: Journal) -> list[tuple[str, str, int]]:
    """(kind, trace, fen) of every approved money entry the journal counts, sorted."""
    return sorted(
        (e.kind.value, e.trace, e.amount_fen or 0)
        for e in journal.entries()
        if e.state.value == "approved" and e.type.moves_money
    )


def money_in_books(entries: list[Any]) -> list[tuple[str, str, int]]:
    """The same from the simulator's books: approved, not reversed, not a reversal."""
    return sorted(
        (e.kind, e.trace, e.amount)
        for e in entries
        if e.approved and not e.reversed and e.kind != "reversal" and e.effect.value != "none"
    )
