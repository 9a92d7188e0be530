"""Print jobs in a real SQLite file, printed through the virtual printer: checked before,
confirmed after the cut, nothing lost and nothing printed twice when the paper runs out."""

from __future__ import annotations

import sqlite3
import time
from collections import Counter

import pytest
from receipt_samples import receipt
from typer.testing import CliRunner

from simulator.printer import VirtualPrinter
from simulator.printer.serve import PtyPrinter
from terminal.cli.app import app
from terminal.receipts import Copy
from terminal.receipts.printers import open_printer
from terminal.receipts.queue import JobState, PrintQueue
from terminal.receipts.spool import print_waiting

TRACES = ("000101", "000102", "000103", "000104")


@pytest.fixture
def queue(tmp_path):
    opened = PrintQueue.open(tmp_path / "journal.sqlite", "10008060")
    yield opened
    opened.close()


def fill(queue, traces=TRACES):
    return [queue.add(f"sale:{t}:merchant", receipt("sale", trace=t), Copy.MERCHANT)
            for t in traces]


def traces_on_cut_slips(device):
    found = []
    for slip in device.cut_slips:
        found += [line.split()[-1] for line in slip.text_lines(device.dots)
                  if line.startswith("凭证号")]
    return found


def test_paper_out_mid_queue_loses_nothing_and_prints_nothing_twice(queue):
    fill(queue)
    slip_rows = _rows_of_one_slip()
    # The roll ends half-way through the second slip.
    printer = open_printer(f"virtual://?paper_lines={slip_rows + slip_rows // 2}")
    first = print_waiting(queue, printer)
    assert [job.data.trace for job in first.printed] == ["000101"]
    assert [(job.data.trace, job.state) for job in first.waiting] == [
        ("000102", JobState.INTERRUPTED), ("000103", JobState.QUEUED),
        ("000104", JobState.QUEUED)]
    assert "out of paper" in first.message
    device = printer.virtual
    assert device.slips[-1].torn  # half of 000102 is on the end of the old roll

    device.load_paper()  # the printer would now print what it held: it was cleared
    assert traces_on_cut_slips(device) == ["000101"]
    second = print_waiting(queue, printer)
    assert [job.data.trace for job in second.printed] == ["000102", "000103", "000104"]
    assert traces_on_cut_slips(device) == list(TRACES)
    assert Counter(traces_on_cut_slips(device)).most_common(1)[0][1] == 1
    assert queue.waiting() == [] and all(job.confirmed for job in queue.all())
    assert queue.get(second.printed[0].id).attempts == 2


def _rows_of_one_slip():
    printer = open_printer("virtual://")
    scratch = PrintQueue(sqlite3.connect(":memory:", isolation_level=None), "10008060")
    fill(scratch, ["000100"])
    print_waiting(scratch, printer)
    return len(printer.virtual.cut_slips[0].rows)


@pytest.mark.parametrize("condition", ["cover_open", "offline", "paper_out", "no_answer"])
def test_a_printer_that_cannot_print_gets_nothing_and_every_job_waits(queue, condition):
    fill(queue)
    printer = open_printer("virtual://")
    printer.virtual.set_conditions(**{condition: True})
    report = print_waiting(queue, printer)
    assert report.printed == [] and len(report.waiting) == 4
    assert all(job.state is JobState.QUEUED and job.attempts == 0 for job in report.waiting)
    assert printer.virtual.received.count(b"\x1b@") == 0  # not one slip byte was sent
    printer.virtual.set_conditions(**{condition: False})
    assert len(print_waiting(queue, printer).printed) == 4


def test_the_same_receipt_queued_twice_is_one_job(queue):
    first, again = fill(queue, ["000101"]), fill(queue, ["000101"])
    assert first[0].id == again[0].id and len(queue.all()) == 1


def test_a_job_left_printing_by_a_crash_waits_for_the_operator(queue, tmp_path):
    [job] = fill(queue, ["000101"])
    queue.start(job.id)  # the process died after sending, before the confirmation
    reopened = PrintQueue.open(tmp_path / "journal.sqlite", "10008060")
    assert [j.id for j in reopened.recover()] == [job.id]
    assert reopened.waiting() == []
    assert reopened.get(job.id).state is JobState.UNCONFIRMED
    reopened.retry(job.id)
    assert print_waiting(reopened, open_printer("virtual://")).printed[0].id == job.id
    reopened.close()


def test_the_queue_lives_in_any_sqlite_database_beside_other_tables(tmp_path):
    connection = sqlite3.connect(tmp_path / "other.sqlite", isolation_level=None)
    connection.execute("CREATE TABLE journal (id INTEGER PRIMARY KEY)")
    queue = PrintQueue(connection, "10008060")
    fill(queue, ["000101"])
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert {"journal", "print_jobs"} <= tables
    connection.close()


def test_no_card_number_in_the_queue_database(queue, tmp_path):
    from receipt_samples import sample_card

    fill(queue)
    queue.close()
    pan, _ = sample_card()
    data = (tmp_path / "journal.sqlite").read_bytes()
    assert pan.encode() not in data


def test_a_printer_over_a_real_pty_confirms_each_cut(queue):
    fill(queue, ["000101", "000102"])
    device = VirtualPrinter()
    with PtyPrinter(device) as served, open_printer(f"{served.url}?timeout=0.5") as printer:
        report = print_waiting(queue, printer, confirm_timeout=5)
    assert [job.data.trace for job in report.printed] == ["000101", "000102"]
    assert traces_on_cut_slips(device) == ["000101", "000102"]


def test_a_file_printer_gets_the_slip_unconfirmed(queue, tmp_path):
    fill(queue, ["000101"])
    with open_printer(f"file://{tmp_path / 'lp0'}") as printer:
        [job] = print_waiting(queue, printer).printed
    assert job.state is JobState.PRINTED and not job.confirmed
    assert "凭证号".encode("gb18030") in (tmp_path / "lp0").read_bytes()


def test_printer_queue_command_lists_waiting_receipts_and_prints_them(tmp_path):
    runner = CliRunner()
    config = []
    from terminal.cli.print_jobs import open_queue

    queue = open_queue({})
    fill(queue, ["000101", "000102"])
    queue.close()
    listed = runner.invoke(app, ["printer", "queue", *config])
    assert listed.exit_code == 1 and "sale trace 000101" in listed.output
    held = runner.invoke(app, ["printer", "queue", "--print", "--printer",
                               "virtual://?state=cover-open"])
    assert held.exit_code == 1 and "cover open" in held.output
    printed = runner.invoke(app, ["printer", "queue", "--print", "--printer", "virtual://"])
    assert printed.exit_code == 0, printed.output
    assert "virtual printer: PNG" in printed.output
    assert runner.invoke(app, ["printer", "queue"]).output.strip() == "no receipts waiting"


def test_paper_out_mid_queue_over_a_real_pty_loses_nothing_and_prints_nothing_twice(queue):
    fill(queue, TRACES[:3])
    rows = _rows_of_one_slip()
    device = VirtualPrinter()
    device.load_paper(rows + rows // 2)  # the roll ends inside the second slip
    with PtyPrinter(device) as served, open_printer(f"{served.url}?timeout=0.3") as printer:
        first = print_waiting(queue, printer, confirm_timeout=1.0)
        assert [job.data.trace for job in first.printed] == ["000101"]
        assert first.waiting[0].state is JobState.INTERRUPTED
        # The cashier changes the roll a moment later; by then the printer has obeyed the
        # clear-buffers command the host sent over the pty (else it would print the rest).
        deadline = time.monotonic() + 5
        while device.held and time.monotonic() < deadline:
            time.sleep(0.01)
        assert device.held == 0
        device.load_paper()
        second = print_waiting(queue, printer, confirm_timeout=5.0)
    assert [job.data.trace for job in second.printed] == ["000102", "000103"]
    assert traces_on_cut_slips(device) == ["000101", "000102", "000103"]
