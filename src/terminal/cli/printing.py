"""The receipt printer's own commands: ``terminal printer status|queue|simulate``.

Printing itself (the URL, the queue, the virtual paper) is :mod:`terminal.cli.print_jobs`;
reprints are :mod:`terminal.cli.reprint`, registered from here with these.
"""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer

from terminal.cli import reprint
from terminal.cli.options import VerboseOption
from terminal.cli.output import err, out, out_json
from terminal.cli.paths import choose_config
from terminal.cli.print_jobs import (
    EXIT_NOT_READY,
    EXIT_OK,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    ConfigOption,
    JsonOption,
    PrinterOption,
    data_dir,
    fail,
    job_dict,
    open_queue,
    print_slips,
    resolve_printer,
    tell,
)
from terminal.errors import ConfigError
from terminal.receipts.printers import PrinterError, open_printer
from terminal.receipts.queue import JobState
from terminal.receipts.status import PrinterState

__all__ = ["register"]

printer_app = typer.Typer(help="The receipt printer: its status and its queue of receipts.",
                          no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add ``printer status|queue|simulate``, ``reprint`` and ``receipt`` to ``app``."""
    app.add_typer(printer_app, name="printer")
    reprint.register(app)


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
        fail(str(exc), EXIT_USAGE, as_json)
    except PrinterError as exc:
        fail(str(exc), EXIT_UNREACHABLE, as_json)
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
        fail(str(exc), EXIT_USAGE, as_json)
    try:
        queue.recover()
        if retry is not None:
            try:
                queue.retry(retry)
            except KeyError as exc:
                fail(str(exc).strip("'\""), EXIT_USAGE, as_json)
        report = None
        if print_now or retry is not None:
            report = print_slips([], printer, loaded, queue=queue, quiet=as_json)
        jobs = queue.all() if show_all else queue.pending()
    finally:
        queue.close()
    if as_json:
        out_json({"jobs": [job_dict(job) for job in jobs],
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
        fail(str(exc), EXIT_USAGE)
    device = VirtualPrinter(dots=chosen.dots, encoding=chosen.encoding)
    folder = out_dir or data_dir() / "virtual-printer"
    served = PtyPrinter(device) if pty else TcpPrinter(device, host, tcp or 0)
    stop = threading.Event()
    try:
        served.start()
    except (RuntimeError, OSError) as exc:
        fail(f"cannot serve the virtual printer: {exc}", EXIT_USAGE)
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
                        tell(paper.problem)
                seen = len(cut)
                for unknown in device.unknown[reported:]:
                    tell(f"unknown command at byte {unknown.offset}: {unknown.reason}")
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
            tell(f"unknown control {word!r}; one of {', '.join(CONTROLS)}")
            continue
        device.set_conditions(**CONTROLS[word])
        err(f"virtual printer: {word}")


def _bit_items(bits: Any) -> list[tuple[str, bool]]:
    return list(asdict(bits).items())
