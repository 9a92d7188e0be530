"""Printing the queue's jobs: checked before, confirmed after the cut, exactly once.

For each waiting job, oldest first:

1. ask the printer's status (``DLE EOT 1-4``); unless it can print (ready, or
   paper near end), the job stays queued with the printer's state noted, and
   so do the jobs behind it (slips come out in order);
2. mark the job *printing* (committed) and send the slip, its cut and ``GS r 1``;
3. the reply to ``GS r 1`` comes only after the cut: the job is *printed*;
4. no reply: the printer stopped under the slip. Its buffers are cleared at
   once (``DLE DC4 8``, a real-time command a stopped printer still obeys), so
   the half of the slip it holds does not come out when the paper is back, and
   the job is *interrupted*: it prints again, whole, on the next run.

A printer that cannot answer at all (``file://``) gets the slip sent and the
job is marked printed, unconfirmed: there is nobody to ask.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

from terminal.receipts import render_document
from terminal.receipts.printers import Printer, PrinterError
from terminal.receipts.queue import Job, PrintQueue
from terminal.receipts.status import PrinterState, PrinterStatus

__all__ = ["SpoolReport", "print_waiting"]

CONFIRM_TIMEOUT = 20.0  # seconds a slip may take to print and cut


@dataclass
class SpoolReport:
    """What a run did: the jobs printed, the jobs still waiting and why."""

    printed: list[Job] = field(default_factory=list)
    waiting: list[Job] = field(default_factory=list)
    status: PrinterStatus | None = None
    message: str = ""

    @property
    def complete(self) -> bool:
        return not self.waiting


def print_waiting(
    queue: PrintQueue,
    printer: Printer,
    *,
    confirm_timeout: float = CONFIRM_TIMEOUT,
    on_printed: Callable[[Job], None] | None = None,
) -> SpoolReport:
    """Print every waiting job that the printer lets us; see the module docstring."""
    report = SpoolReport()
    jobs = queue.waiting()
    for index, job in enumerate(jobs):
        if printer.can_answer:
            status = printer.status()
            report.status = status
            if not status.state.can_print:
                queue.note_printer(job.id, status.state.value)
                report.waiting = [queue.get(j.id) for j in jobs[index:]]
                report.message = _why(status)
                return report
        queue.start(job.id)
        try:
            printer.print_document(render_document(job.data, job.copy, printer.profile.columns))
        except PrinterError as exc:
            queue.interrupted(job.id, PrinterState.UNKNOWN.value)
            report.waiting = [queue.get(j.id) for j in jobs[index:]]
            report.message = f"printer lost while printing: {exc}; the receipt will print again"
            return report
        if not printer.can_answer:
            queue.printed(job.id, confirmed=False, printer_state=PrinterState.UNKNOWN.value)
        elif printer.confirm_printed(confirm_timeout):
            queue.printed(job.id, confirmed=True, printer_state=PrinterState.READY.value)
        else:
            status = printer.status()
            report.status = status
            _clear(printer)
            queue.interrupted(job.id, status.state.value)
            report.waiting = [queue.get(j.id) for j in jobs[index:]]
            report.message = _why(status) + "; the interrupted receipt will print again, whole"
            return report
        printed = queue.get(job.id)
        report.printed.append(printed)
        if on_printed is not None:
            on_printed(printed)
    return report


def _clear(printer: Printer) -> None:
    # A printer gone altogether has nothing left in it to come out later.
    with contextlib.suppress(PrinterError):
        printer.clear_buffers()


_ADVICE = {
    PrinterState.PAPER_OUT: "printer out of paper: load a new roll",
    PrinterState.COVER_OPEN: "printer cover open: close it",
    PrinterState.OFFLINE: "printer offline: put it online",
    PrinterState.ERROR: "printer error (cutter, head or mechanism): see the printer",
    PrinterState.UNKNOWN: "printer does not answer: check its cable and power",
}


def _why(status: PrinterStatus) -> str:
    text = _ADVICE.get(status.state, f"printer {status.state.value}")
    return f"{text} ({status.reason})" if status.reason else text
