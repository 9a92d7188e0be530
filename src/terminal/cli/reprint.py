"""Slips of past transactions, rebuilt from the journal: ``terminal reprint`` and ``receipt``.

Never from stored print bytes: the journal entry is laid out again, marked
``重打印 REPRINT``, so a reprint says what the books say.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from terminal.cli.options import VerboseOption
from terminal.cli.output import out, out_json
from terminal.cli.paths import choose_config, data_paths, is_simulator, resolve_port
from terminal.cli.print_jobs import (
    EXIT_NOT_READY,
    EXIT_OK,
    EXIT_USAGE,
    ConfigOption,
    JsonOption,
    PrinterOption,
    fail,
    job_dict,
    print_slips,
)
from terminal.config import TerminalSettings
from terminal.errors import ConfigError, TerminalError
from terminal.journal import Journal, JournalEntry, JournalError, OriginalNotFound
from terminal.receipts import print_receipt
from terminal.receipts.from_journal import RECEIPT_KINDS, receipt_from_entry
from terminal.receipts.model import Copy, ReceiptData, SettlementReport
from terminal.receipts.printers import open_printer
from terminal.receipts.text import year_of

__all__ = ["receipt_command", "register", "reprint_command"]


def register(app: typer.Typer) -> None:
    """Add ``reprint`` and ``receipt`` to ``app``."""
    app.command("reprint")(reprint_command)
    app.command("receipt")(receipt_command)


CopyChoice = Annotated[
    str | None,
    typer.Option("--copy", help="merchant or customer (default: both)."),
]


RrnOption = Annotated[str | None, typer.Option("--rrn", help="The transaction's RRN (37).")]


TraceOption = Annotated[str | None, typer.Option("--trace", help="The transaction's trace (11).")]


DateOption = Annotated[
    str | None, typer.Option("--date", help="MMDD, with --trace when traces repeat.")
]


def reprint_command(
    last: Annotated[bool, typer.Option("--last", help="The last approved transaction.")] = False,
    rrn: RrnOption = None,
    trace: TraceOption = None,
    date_: DateOption = None,
    copy: CopyChoice = None,
    printer: PrinterOption = None,
    as_json: JsonOption = False,
    config: ConfigOption = None,
    verbose: VerboseOption = 0,
) -> None:
    """Print a transaction's receipt again, rebuilt from the journal and marked 重打印 REPRINT.

    Exit 0 when printed, 1 when it waits in the queue for the printer, 2 when no
    such transaction is in the journal.
    """
    chosen = _config_or_fail(config, as_json)
    entry = _find_entry(chosen, last=last, rrn=rrn, trace=trace, date_=date_, as_json=as_json)
    copies = _copies(copy, as_json)
    data = _entry_receipt(entry, chosen).as_reprint()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    # The copy's name last: the queue's row holds the key and then the lane, and a key
    # ending in the stamp's 12 digits ran into the lane's 8 as one 20-digit number.
    slips: list[tuple[str, ReceiptData | SettlementReport, Copy | None]] = [
        (f"reprint:{entry.lane}:{entry.id}:{stamp}:{c.value}", data, c) for c in copies
    ]
    try:
        report = print_slips(slips, printer, chosen, quiet=as_json)
    except (TerminalError, OSError, sqlite3.Error) as exc:
        fail(f"reprint not queued: {exc}", EXIT_USAGE, as_json)
    if as_json:
        out_json({"printed": [job_dict(job) for job in report.printed],
                  "waiting": [job_dict(job) for job in report.waiting],
                  "message": report.message})
    raise typer.Exit(EXIT_OK if not report.waiting else EXIT_NOT_READY)


def receipt_command(
    png: Annotated[Path, typer.Option("--png", help="Write the slip as this PNG file.")],
    rrn: RrnOption = None,
    trace: TraceOption = None,
    date_: DateOption = None,
    last: Annotated[bool, typer.Option("--last", help="The last approved transaction.")] = False,
    copy: Annotated[
        str, typer.Option("--copy", help="merchant or customer.")
    ] = "customer",
    profile: Annotated[
        str | None, typer.Option("--profile", help="Paper: cn-58 (default) or cn-80.")
    ] = None,
    config: ConfigOption = None,
    verbose: VerboseOption = 0,
) -> None:
    """Draw a transaction's receipt from the journal as a PNG (and its text), printing nothing.

    The picture is the virtual printer's paper for the real ESC/POS bytes; it is
    marked 重打印 REPRINT like any slip rebuilt from the journal.
    """
    chosen = _config_or_fail(config, False)
    entry = _find_entry(chosen, last=last, rrn=rrn, trace=trace, date_=date_, as_json=False)
    [which] = _copies(copy, False)
    data = _entry_receipt(entry, chosen).as_reprint()
    name = profile or chosen.get("printer", {}).get("profile")
    try:
        with open_printer(f"virtual://?profile={name or 'cn-58'}") as device:
            print_receipt(device, data, which)
            paper = device.virtual.save(png.parent, png.stem)
    except (TerminalError, OSError) as exc:
        fail(str(exc), EXIT_USAGE)
    out(paper.text, nl=False)
    out(f"text: {paper.text_path}")
    if paper.problem:
        fail(f"no PNG written: {paper.problem}", EXIT_NOT_READY)
    out(f"PNG: {paper.png}")


def _config_or_fail(config: Path | None, as_json: bool) -> dict[str, Any]:
    try:
        return choose_config(config).data
    except ConfigError as exc:
        fail(str(exc), EXIT_USAGE, as_json)


def _copies(copy: str | None, as_json: bool) -> list[Copy]:
    if copy is None:
        return [Copy.MERCHANT, Copy.CUSTOMER]
    try:
        return [Copy(copy.lower())]
    except ValueError:
        fail("--copy is merchant or customer", EXIT_USAGE, as_json)


def _find_entry(
    config: dict[str, Any], *, last: bool, rrn: str | None, trace: str | None,
    date_: str | None, as_json: bool,
) -> JournalEntry:
    if [last, bool(rrn), bool(trace)].count(True) != 1:
        fail("name the transaction: --last, --rrn RRN or --trace N [--date MMDD]", EXIT_USAGE,
              as_json)
    try:
        lane = TerminalSettings.from_config(config).terminal_id
        with Journal(data_paths().journal) as journal:
            if last:
                found = [e for e in reversed(journal.entries(lane))
                         if e.kind in RECEIPT_KINDS and e.approved]
                if not found:
                    raise OriginalNotFound(f"no approved transaction in the journal of {lane}")
                return found[0]
            return journal.find_original(lane, RECEIPT_KINDS, rrn=rrn, trace=trace, date=date_)
    except (OriginalNotFound, JournalError, ConfigError) as exc:
        fail(str(exc), EXIT_USAGE, as_json)


def _entry_receipt(entry: JournalEntry, config: dict[str, Any]) -> ReceiptData:
    """The entry's slip, simulated when the journal says the exchange went to the
    simulator. Entries written before it said so follow this lane's port."""
    settings = TerminalSettings.from_config(config)
    return receipt_from_entry(
        entry, merchant_name=settings.merchant_name, simulated=_port_is_simulator(config),
        year=year_of(entry.local_date, date.today()),
    )


def _port_is_simulator(config: dict[str, Any]) -> bool:
    try:
        return is_simulator(resolve_port(None, config))
    except ConfigError:
        return False
