"""The devices under test, opened once for the whole run, and what the checks learn.

One :class:`Bench` per run: the terminal's port (any pyserial URL, or ``sim://``
for the embedded simulator; the same interface either way), the link and host
client over it, the printer, and a transcript per check. Every byte goes
through :class:`~terminal.trace.TracingPort`, so each check leaves a masked hex
transcript whose path a failure names.
"""

from __future__ import annotations

import contextlib
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from terminal.bringup.operator import AutoOperator, Operator
from terminal.config import SerialSettings, TerminalSettings
from terminal.journal import Journal, JournalStore
from terminal.link import LinkTimers, SerialLink
from terminal.trace import TraceWriter, TracingPort
from terminal.transactions.client import Security, TerminalClient
from terminal.transactions.result import TransactionResult

__all__ = ["Bench", "BenchSettings"]


@dataclass
class BenchSettings:
    """What the run is pointed at and how patient it is."""

    port: str = "sim://"
    printer: str | None = None
    transcripts: Path | None = None  # default: a new temporary directory
    operator: Operator = field(default_factory=AutoOperator)
    terminal: TerminalSettings = field(default_factory=TerminalSettings)
    serial: SerialSettings = field(default_factory=SerialSettings)  # the line: 9600 8N1
    timers: LinkTimers = field(default_factory=LinkTimers)
    # The POS's journal (trace and batch counters, the test sale and its void); an
    # in-memory one when None. The command line passes the POS's own.
    journal: JournalStore | None = None
    security: Security | None = field(default_factory=Security)  # master key, MAC
    token_key: bytes = b"\x00" * 32  # for the masked card's token in results
    card: str = "approved"  # the test card the embedded simulator presents
    # Who rings up the test sale and authorises its void on a lane with operators (their
    # password already given: the command line asks it first); without one that check is
    # skipped there.
    supervisor: str | None = None
    prompt_timeout: float = 30.0
    receipt_timeout: float = 60.0


class Bench:
    """Opened devices and facts; the checks fill it in order (see :mod:`.checks`)."""

    def __init__(self, settings: BenchSettings) -> None:
        self.settings = settings
        self.transcripts = settings.transcripts or Path(
            tempfile.mkdtemp(prefix="terminal-bringup-")
        )
        self.transcripts.mkdir(parents=True, exist_ok=True)
        self.port: Any = None
        self.traced: TracingPort | None = None
        self.link: SerialLink | None = None
        self.client: TerminalClient | None = None
        self.printer: Any = None
        self.sale: TransactionResult | None = None
        self._own_journal = settings.journal is None
        self.journal: JournalStore = settings.journal or Journal(":memory:")
        #: What the device said about itself (terminal id, batch, keys...), for the report.
        self.facts: dict[str, Any] = {}
        self._current = self.transcripts / "00-open.trace"

    def attach(self, port: Any) -> None:
        """Take the opened terminal port: trace it, and build the link and client over it."""
        self.port = port
        self.traced = TracingPort(
            port, TraceWriter(self._current, port=self.settings.port)
        )
        self.link = SerialLink(self.traced, self.settings.timers)
        self.client = TerminalClient(
            self.link, self.settings.terminal, journal=self.journal,
            token_key=self.settings.token_key, security=self.settings.security,
            response_timeout=self.settings.timers.response_timeout,
            # On a lane with operators the supervisor rings the test sale up too (any
            # role rings up); on one without, nobody is named, as before.
            operator=self.settings.supervisor,
        )

    def transcript(self, number: int, name: str) -> Path:
        """Start the transcript of check ``number``; its path."""
        path = self.transcripts / f"{number:02d}-{name}.trace"
        self._current = path
        if self.traced is not None:
            self.traced.retarget(TraceWriter(path, port=self.settings.port))
        return path

    def close(self) -> None:
        """Close what was opened; safe to call twice."""
        for closing in (self.traced or self.port, self.printer):
            if closing is not None:
                with contextlib.suppress(OSError):  # closing what may already be gone
                    closing.close()
        self.traced = self.port = self.printer = None
        if self._own_journal:
            self.journal.close()
