"""Printing receipts from the command line: the printer URL, the queue, the virtual paper.

Shared by every command that prints (``sale``/``void``/``refund``/``preauth``/``reverse``/``settle``
``--print``, ``reprint``, ``printer queue --print``). The printer is ``--printer
URL``, else ``$TERMINAL_PRINTER``, else ``url`` in the config file's
``[printer]`` table, else ``virtual://`` (the virtual printer, whose paper is
written as text and PNG under the data directory). A ``[printer] profile``
applies when the URL names none. Printing never decides a command's exit code
for money: a printer problem leaves the slips in the queue and is said on stderr.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn
from urllib.parse import parse_qsl, urlencode

import typer

from terminal.cli.output import err, out, out_json
from terminal.cli.paths import data_paths
from terminal.cli.redact import scrub_digits
from terminal.config import TerminalSettings
from terminal.errors import ConfigError, TerminalError
from terminal.journal import Journal
from terminal.protocol.catalogue import Kind
from terminal.receipts.from_journal import (
    RECEIPT_KINDS,
    receipt_from_entry,
    settlement_from_entries,
)
from terminal.receipts.model import Copy, ReceiptData, SettlementReport
from terminal.receipts.printers import DEFAULT_PRINTER, Printer, PrinterError, open_printer
from terminal.receipts.queue import Job, PrintQueue
from terminal.receipts.spool import SpoolReport, print_waiting
from terminal.receipts.text import year_of
from terminal.transactions.result import TransactionResult

__all__ = [
    "ConfigOption",
    "JsonOption",
    "PrintOption",
    "PrinterOption",
    "data_dir",
    "open_queue",
    "print_slips",
    "print_transaction",
    "resolve_printer",
]

EXIT_OK, EXIT_NOT_READY, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3
PRINTER_ENV = "TERMINAL_PRINTER"


PrinterOption = Annotated[
    str | None,
    typer.Option("--printer", help="Printer URL: serial:///dev/ttyUSB0?baudrate=19200, "
                 "tcp://host:9100, usb://0416:5011, file:///path, virtual://"),
]
PrintOption = Annotated[
    bool, typer.Option("--print", help="Print the receipt (both copies; a settlement its report).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="Config file (default: the platform's).")
]


def resolve_printer(explicit: str | None, config: dict[str, Any]) -> str:
    """The printer URL: option, ``$TERMINAL_PRINTER``, ``[printer] url``, ``virtual://``."""
    section = config.get("printer", {})
    if not isinstance(section, dict):
        raise ConfigError("[printer] must be a table: url = \"...\", profile = \"...\"")
    if explicit is not None and not explicit.strip():
        raise ConfigError("--printer is empty; give a printer URL")
    url = explicit or os.environ.get(PRINTER_ENV) or str(section.get("url") or DEFAULT_PRINTER)
    profile = section.get("profile")
    if profile and "profile=" not in url:
        base, _, query = url.partition("?")
        options = dict(parse_qsl(query, keep_blank_values=True))
        options["profile"] = str(profile)
        url = f"{base}?{urlencode(options)}"
    return url


def data_dir() -> Path:
    """Where the virtual printer's paper goes: the data directory (``$TERMINAL_DATA_DIR``,
    else the platform's), beside the journal that holds the print queue."""
    return data_paths().root


def open_configured_printer(explicit: str | None, config: dict[str, Any]) -> Printer:
    return open_printer(resolve_printer(explicit, config))


def open_queue(config: dict[str, Any]) -> PrintQueue:
    """The print queue of this terminal's lane, in the journal's database."""
    lane = TerminalSettings.from_config(config).terminal_id
    return PrintQueue.open(data_paths().journal, lane)


def print_slips(
    slips: list[tuple[str, ReceiptData | SettlementReport, Copy | None]],
    printer_url: str | None,
    config: dict[str, Any],
    *,
    queue: PrintQueue | None = None,
    quiet: bool = False,
) -> SpoolReport:
    """Queue ``slips`` (key, values, copy) and print whatever is waiting.

    Never raises for a printer problem: the slips stay in the queue, the operator
    is told on stderr, and the caller's exit code (the money's) is untouched. The
    virtual printer's paper is written as text and PNG under the data directory.
    """
    own = queue is None
    queue = queue or open_queue(config)
    try:
        for key, data, copy in slips:
            queue.add(key, data, copy)
        try:
            device = open_configured_printer(printer_url, config)
        except (ConfigError, PrinterError) as exc:
            waiting = queue.waiting()
            tell(f"receipts not printed: {exc}; {len(waiting)} waiting in the queue "
                  "(terminal printer queue)")
            return SpoolReport(waiting=waiting, message=str(exc))
        with device:
            report = print_waiting(queue, device)
            if device.virtual is not None and device.virtual.slips:
                _write_virtual_paper(device, quiet)
        if report.waiting:
            tell(f"{report.message}: {len(report.waiting)} receipt(s) waiting in the queue "
                  "(terminal printer queue --print when the printer is back)")
        return report
    finally:
        if own:
            queue.close()


def print_transaction(
    result: TransactionResult,
    *,
    merchant_name: str,
    simulated: bool,
    printer_url: str | None,
    config: dict[str, Any],
    quiet: bool = False,
) -> SpoolReport | None:
    """Print both copies of ``result`` (merchant's, then the cardholder's) as two jobs.

    The job keys name the transaction (kind, terminal, batch, trace, date), so a
    second ``--print`` of one transaction never queues it again. Returns None when
    not even the queue could take them (said on stderr): printing never decides
    a transaction's exit code.
    """
    key = ":".join([result.kind.value, result.terminal_id, result.batch, result.trace,
                    result.local_date or ""])
    slips: list[tuple[str, ReceiptData | SettlementReport, Copy | None]]
    try:
        if result.kind is Kind.SETTLEMENT:
            slips = [(key, _settlement_report(result, merchant_name, simulated), None)]
        else:
            data = ReceiptData.from_result(
                result, merchant_name=merchant_name, simulated=simulated,
                year=year_of(result.local_date, date.today()), **_journaled_extras(result),
            )
            slips = [(f"{key}:{copy.value}", data, copy)
                     for copy in (Copy.MERCHANT, Copy.CUSTOMER)]
        return print_slips(slips, printer_url, config, quiet=quiet)
    except (TerminalError, OSError, sqlite3.Error) as exc:
        tell(f"receipts not printed and not queued: {exc}")
        return None


def _journaled_extras(result: TransactionResult) -> dict[str, Any]:
    """What the slip shows that the result does not carry: the refund's reason, the
    entry mode (field 22) and the operator, from the journal entry the result was written to."""
    if result.journal_id is None or result.kind not in RECEIPT_KINDS:
        return {}
    with Journal(data_paths().journal) as journal:
        entry = journal.get(result.journal_id)
    rebuilt = receipt_from_entry(entry, merchant_name="", simulated=False)
    return {"reason": rebuilt.reason, "entry_mode": rebuilt.entry_mode,
            "operator": rebuilt.operator}


def _settlement_report(
    result: TransactionResult, merchant_name: str, simulated: bool
) -> SettlementReport:
    """The settled batch's report from the journal (each category apart) and the bank's word."""
    with Journal(data_paths().journal) as journal:
        entries = journal.batch_entries(result.terminal_id, result.batch)
    return settlement_from_entries(
        entries, merchant_name=merchant_name, merchant_id=result.merchant_id,
        terminal_id=result.terminal_id, batch=result.batch,
        balanced=result.totals.balanced if result.totals else None, simulated=simulated,
        local_date=result.local_date, local_time=result.local_time,
        year=year_of(result.local_date, date.today()),
    )


def _write_virtual_paper(device: Printer, quiet: bool) -> None:

    # No dash or space between the digit groups: 20261128-050044 reads as one 14-digit
    # number to a card scanner (and one in ten passes its Luhn check).
    stamp = datetime.now().strftime("%Y%m%dT%H%M%S_%f")
    paper = device.virtual.save(data_dir() / "virtual-printer", stamp)
    # With --json, stdout is the JSON alone: where the paper went goes to stderr.
    if not quiet:
        out(paper.text, nl=False)
    say = err if quiet else out
    say(f"virtual printer: text {paper.text_path}")
    if paper.problem:
        tell(f"virtual printer: no PNG: {paper.problem}")
    else:
        say(f"virtual printer: PNG {paper.png}")


def tell(message: str) -> None:
    err(f"printer: {message}")


def job_dict(job: Job) -> dict[str, Any]:
    return {
        "id": job.id, "state": job.state.value, "receipt": job.describe(),
        "document": job.document, "copy": job.copy.value if job.copy else None,
        "attempts": job.attempts, "printer_state": job.printer_state,
        "confirmed": job.confirmed, "created_at": job.created_at, "printed_at": job.printed_at,
    }


def fail(message: str, code: int, as_json: bool = False) -> NoReturn:
    """Say ``message`` (long digit runs masked, as :class:`~terminal.cli.failures.Failure`
    does: it may repeat a key someone typed) and exit with ``code``."""
    message = scrub_digits(message)
    if as_json:
        out_json({"error": message, "exit_code": code})
    else:
        err(f"error: {message}")
    sys.stdout.flush()
    raise typer.Exit(code)
