"""Receipt printer commands: ``terminal printer status|queue``, ``receipt``, ``reprint``.

The printer is ``--printer URL``, else ``$TERMINAL_PRINTER``, else ``url`` in the
config file's ``[printer]`` table, else ``virtual://`` (the virtual printer,
whose paper is written as text and PNG under the data directory). A
``[printer] profile`` in the config applies when the URL names none.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn
from urllib.parse import parse_qsl, urlencode

import typer

from terminal.cli.options import VerboseOption
from terminal.cli.output import err, out, out_json
from terminal.cli.paths import choose_config, data_paths, is_simulator, resolve_port
from terminal.config import TerminalSettings
from terminal.errors import ConfigError, TerminalError
from terminal.journal import Journal, JournalEntry, JournalError, OriginalNotFound
from terminal.protocol.catalogue import Kind
from terminal.receipts import print_receipt
from terminal.receipts.from_journal import (
    RECEIPT_KINDS,
    receipt_from_entry,
    settlement_from_entries,
)
from terminal.receipts.model import Copy, ReceiptData, SettlementReport
from terminal.receipts.printers import DEFAULT_PRINTER, Printer, PrinterError, open_printer
from terminal.receipts.queue import Job, JobState, PrintQueue
from terminal.receipts.spool import SpoolReport, print_waiting
from terminal.receipts.status import PrinterState
from terminal.receipts.text import year_of
from terminal.transactions.result import TransactionResult

__all__ = ["data_dir", "print_slips", "print_transaction", "register", "resolve_printer"]

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

printer_app = typer.Typer(help="The receipt printer: its status and its queue of receipts.",
                          no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the printing commands to ``app``."""
    app.add_typer(printer_app, name="printer")
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
    slips: list[tuple[str, ReceiptData | SettlementReport, Copy | None]] = [
        (f"reprint:{entry.lane}:{entry.id}:{c.value}:{stamp}", data, c) for c in copies
    ]
    try:
        report = print_slips(slips, printer, chosen, quiet=as_json)
    except (TerminalError, OSError, sqlite3.Error) as exc:
        _fail(f"reprint not queued: {exc}", EXIT_USAGE, as_json)
    if as_json:
        out_json({"printed": [_job_dict(job) for job in report.printed],
                  "waiting": [_job_dict(job) for job in report.waiting],
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
        _fail(str(exc), EXIT_USAGE)
    out(paper.text, nl=False)
    out(f"text: {paper.text_path}")
    if paper.problem:
        _fail(f"no PNG written: {paper.problem}", EXIT_NOT_READY)
    out(f"PNG: {paper.png}")


def _config_or_fail(config: Path | None, as_json: bool) -> dict[str, Any]:
    try:
        return choose_config(config).data
    except ConfigError as exc:
        _fail(str(exc), EXIT_USAGE, as_json)


def _copies(copy: str | None, as_json: bool) -> list[Copy]:
    if copy is None:
        return [Copy.MERCHANT, Copy.CUSTOMER]
    try:
        return [Copy(copy.lower())]
    except ValueError:
        _fail("--copy is merchant or customer", EXIT_USAGE, as_json)


def _find_entry(
    config: dict[str, Any], *, last: bool, rrn: str | None, trace: str | None,
    date_: str | None, as_json: bool,
) -> JournalEntry:
    if [last, bool(rrn), bool(trace)].count(True) != 1:
        _fail("name the transaction: --last, --rrn RRN or --trace N [--date MMDD]", EXIT_USAGE,
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
        _fail(str(exc), EXIT_USAGE, as_json)


def _entry_receipt(entry: JournalEntry, config: dict[str, Any]) -> ReceiptData:
    """The entry's slip. Simulated when this lane's port is the simulator: the journal
    does not record the port, and a lane's journal is written through its port."""
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


@printer_app.command("status")
def status_command(
    printer: PrinterOption = None, as_json: JsonOption = False, config: ConfigOption = None,
    verbose: VerboseOption = 0,
) -> None:
    """Ask the printer how it is (DLE EOT 1-4). Exit 0 only when it is ready."""
    try:
        url = resolve_printer(printer, choose_config(config).data)
        with open_printer(url) as device:
            status = device.status()
    except ConfigError as exc:
        _fail(str(exc), EXIT_USAGE, as_json)
    except PrinterError as exc:
        _fail(str(exc), EXIT_UNREACHABLE, as_json)
    if as_json:
        out_json({"printer": url, **status.to_dict()})
    else:
        out(f"{url}: {status.state.value}")
        if status.reason:
            out(f"  {status.reason}")
        if status.bits:
            for name, value in _bit_items(status.bits):
                if value:
                    out(f"  {name.replace('_', ' ')}")
    if status.state is PrinterState.READY:
        raise typer.Exit(EXIT_OK)
    raise typer.Exit(EXIT_UNREACHABLE if status.state is PrinterState.UNKNOWN else EXIT_NOT_READY)


@printer_app.command("queue")
def queue_command(
    print_now: Annotated[
        bool, typer.Option("--print", help="Print the waiting receipts now.")
    ] = False,
    retry: Annotated[
        int | None,
        typer.Option("--retry", help="An unconfirmed receipt did not come out: print it again."),
    ] = None,
    show_all: Annotated[bool, typer.Option("--all", help="Printed receipts too.")] = False,
    printer: PrinterOption = None,
    as_json: JsonOption = False,
    config: ConfigOption = None,
    verbose: VerboseOption = 0,
) -> None:
    """List the receipts waiting for the printer (paper out, cover open, offline...).

    Exit 0 when nothing is waiting (after printing, with --print), 1 when some are.
    """
    try:
        loaded = choose_config(config).data
        queue = open_queue(loaded)
    except ConfigError as exc:
        _fail(str(exc), EXIT_USAGE, as_json)
    try:
        queue.recover()
        if retry is not None:
            try:
                queue.retry(retry)
            except KeyError as exc:
                _fail(str(exc).strip("'\""), EXIT_USAGE, as_json)
        report = None
        if print_now or retry is not None:
            report = print_slips([], printer, loaded, queue=queue, quiet=as_json)
        jobs = queue.all() if show_all else queue.pending()
    finally:
        queue.close()
    if as_json:
        out_json({"jobs": [_job_dict(job) for job in jobs],
                  "message": report.message if report else ""})
    elif not jobs:
        out("no receipts waiting")
    else:
        for job in jobs:
            note = f"  printer {job.printer_state}" if job.printer_state else ""
            out(f"{job.id:>6}  {job.state.value:<11}  {job.describe()}"
                       f"  attempts {job.attempts}{note}")
    raise typer.Exit(EXIT_OK if not [j for j in jobs if j.state is not JobState.PRINTED]
                     else EXIT_NOT_READY)


@printer_app.command("simulate")
def simulate_command(
    pty: Annotated[bool, typer.Option("--pty", help="Serve on a new pseudo-terminal.")] = False,
    tcp: Annotated[
        int | None, typer.Option("--tcp", min=0, max=65535, help="Serve on this TCP port (9100).")
    ] = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on with --tcp.")] = (
        "127.0.0.1"
    ),
    profile: Annotated[
        str, typer.Option("--profile", help="Printer profile: paper width and encoding.")
    ] = "cn-58",
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Folder for the slips (default: data dir).")
    ] = None,
    verbose: VerboseOption = 0,
) -> None:
    """Run the virtual receipt printer on a pty or TCP port until Ctrl-C; each slip it
    cuts is written as text and PNG.

    Lines on standard input change its state, to rehearse what a shop lives
    through: paper-out, load, near-end, cover-open, cover-close, offline,
    online, silent (no status replies), answer, ready (all clear).
    """
    import threading

    from simulator.printer import VirtualPrinter
    from simulator.printer.serve import PtyPrinter, TcpPrinter
    from terminal.cli.simulate import _stop_on_signals
    from terminal.receipts.profiles import printer_profile

    if pty == (tcp is not None):
        raise typer.BadParameter("give exactly one of --pty or --tcp PORT")
    try:
        chosen = printer_profile(profile)
    except ConfigError as exc:
        _fail(str(exc), EXIT_USAGE)
    device = VirtualPrinter(dots=chosen.dots, encoding=chosen.encoding)
    folder = out_dir or data_dir() / "virtual-printer"
    served = PtyPrinter(device) if pty else TcpPrinter(device, host, tcp or 0)
    stop = threading.Event()
    try:
        served.start()
    except (RuntimeError, OSError) as exc:
        _fail(f"cannot serve the virtual printer: {exc}", EXIT_USAGE)
    out(f"Virtual printer on {served.url} — print to it with --printer '{served.url}'")
    sys.stdout.flush()
    threading.Thread(target=_control_from_stdin, args=(device, stop), daemon=True,
                     name="printer-control").start()
    seen = reported = 0
    try:
        with _stop_on_signals(stop):
            while not stop.wait(0.2):
                cut = device.cut_slips
                for number in range(seen, len(cut)):
                    paper = device.save(folder, f"slip-{number + 1:04d}", [cut[number]])
                    out(f"slip {number + 1}: {paper.png or paper.text_path}")
                    if paper.problem:
                        _tell(paper.problem)
                seen = len(cut)
                for unknown in device.unknown[reported:]:
                    _tell(f"unknown command at byte {unknown.offset}: {unknown.reason}")
                reported = len(device.unknown)
                sys.stdout.flush()
    finally:
        served.stop()
    err("Virtual printer stopped.")


# What a line on ``printer simulate``'s standard input does to the printer.
CONTROLS: dict[str, dict[str, bool]] = {
    "paper-out": {"paper_out": True},
    "load": {"paper_out": False, "paper_near_end": False},
    "near-end": {"paper_near_end": True},
    "cover-open": {"cover_open": True},
    "cover-close": {"cover_open": False},
    "offline": {"offline": True},
    "online": {"offline": False},
    "silent": {"no_answer": True},
    "answer": {"no_answer": False},
    "ready": {"paper_out": False, "paper_near_end": False, "cover_open": False,
              "offline": False, "no_answer": False, "cutter_error": False},
}


def _control_from_stdin(device: Any, stop: Any) -> None:
    for line in sys.stdin:
        if stop.is_set():
            return
        word = line.strip().lower()
        if not word:
            continue
        if word not in CONTROLS:
            _tell(f"unknown control {word!r}; one of {', '.join(CONTROLS)}")
            continue
        device.set_conditions(**CONTROLS[word])
        err(f"virtual printer: {word}")


# -- shared with the other printing commands ------------------------------------


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
            _tell(f"receipts not printed: {exc}; {len(waiting)} waiting in the queue "
                  "(terminal printer queue)")
            return SpoolReport(waiting=waiting, message=str(exc))
        with device:
            report = print_waiting(queue, device)
            if device.virtual is not None and device.virtual.slips:
                _write_virtual_paper(device, quiet)
        if report.waiting:
            _tell(f"{report.message}: {len(report.waiting)} receipt(s) waiting in the queue "
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
        _tell(f"receipts not printed and not queued: {exc}")
        return None


def _journaled_extras(result: TransactionResult) -> dict[str, Any]:
    """What the slip shows that the result does not carry: the refund's reason and the
    entry mode (field 22), from the journal entry the result was written to."""
    if result.journal_id is None or result.kind not in RECEIPT_KINDS:
        return {}
    with Journal(data_paths().journal) as journal:
        entry = journal.get(result.journal_id)
    rebuilt = receipt_from_entry(entry, merchant_name="", simulated=False)
    return {"reason": rebuilt.reason, "entry_mode": rebuilt.entry_mode}


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


def open_queue(config: dict[str, Any]) -> PrintQueue:
    """The print queue of this terminal's lane, in the journal's database."""
    lane = TerminalSettings.from_config(config).terminal_id
    return PrintQueue.open(data_paths().journal, lane)


def _write_virtual_paper(device: Printer, quiet: bool) -> None:
    from datetime import datetime

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    paper = device.virtual.save(data_dir() / "virtual-printer", stamp)
    # With --json, stdout is the JSON alone: where the paper went goes to stderr.
    if not quiet:
        out(paper.text, nl=False)
    say = err if quiet else out
    say(f"virtual printer: text {paper.text_path}")
    if paper.problem:
        _tell(f"virtual printer: no PNG: {paper.problem}")
    else:
        say(f"virtual printer: PNG {paper.png}")


def _tell(message: str) -> None:
    err(f"printer: {message}")


def _job_dict(job: Job) -> dict[str, Any]:
    return {
        "id": job.id, "state": job.state.value, "receipt": job.describe(),
        "document": job.document, "copy": job.copy.value if job.copy else None,
        "attempts": job.attempts, "printer_state": job.printer_state,
        "confirmed": job.confirmed, "created_at": job.created_at, "printed_at": job.printed_at,
    }



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


def _bit_items(bits: Any) -> list[tuple[str, bool]]:
    from dataclasses import asdict

    return list(asdict(bits).items())


def _fail(message: str, code: int, as_json: bool = False) -> NoReturn:
    if as_json:
        out_json({"error": message, "exit_code": code})
    else:
        err(f"error: {message}")
    sys.stdout.flush()
    raise typer.Exit(code)



