"""DLE EOT 1-4 decoded in full; silence is "unknown", never "ready" nor "paper out"."""

from __future__ import annotations

import itertools
import json

import pytest
from typer.testing import CliRunner

from simulator.printer import VirtualPrinter
from simulator.printer.serve import PtyPrinter, TcpPrinter
from terminal.cli.app import app
from terminal.receipts.printers import open_printer
from terminal.receipts.status import PrinterState, decode_status, query_status

READY = (0x12, 0x12, 0x12, 0x12)
# (request n, bit) -> the StatusBits field it sets
BITS = {
    (1, 0x04): "drawer_pin_high", (1, 0x08): "offline", (1, 0x20): "waiting_for_recovery",
    (1, 0x40): "feed_button_pressed",
    (2, 0x04): "cover_open", (2, 0x08): "feeding_by_button", (2, 0x20): "stopped_by_paper_end",
    (2, 0x40): "error",
    (3, 0x04): "mark_detection_error", (3, 0x08): "cutter_error",
    (3, 0x20): "unrecoverable_error", (3, 0x40): "auto_recoverable_error",
    (4, 0x04): "paper_near_end", (4, 0x08): "paper_near_end", (4, 0x20): "paper_end",
    (4, 0x40): "paper_end",
}


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_every_bit_combination_of_each_reply_decodes_to_exactly_its_flags(n):
    variable = [bit for (m, bit) in BITS if m == n]
    for chosen in itertools.chain.from_iterable(
        itertools.combinations(variable, k) for k in range(len(variable) + 1)
    ):
        replies = list(READY)
        replies[n - 1] = 0x12 | sum(chosen)
        status = decode_status(tuple(replies))
        expected = {BITS[(n, bit)] for bit in chosen}
        flags = {name for name, value in status.to_dict()["bits"].items() if value}
        assert flags == expected, (n, hex(replies[n - 1]))
        assert (status.state is PrinterState.READY) == (
            not expected or expected == {"drawer_pin_high"} or expected == {"feed_button_pressed"}
            or expected == {"drawer_pin_high", "feed_button_pressed"}
            or expected == {"feeding_by_button"}
        ), (n, hex(replies[n - 1]), status.state)


@pytest.mark.parametrize(
    ("replies", "state"),
    [
        ((0x12, 0x12, 0x12, 0x12), PrinterState.READY),
        ((0x12, 0x12, 0x12, 0x1E), PrinterState.PAPER_NEAR_END),
        ((0x1A, 0x32, 0x12, 0x7E), PrinterState.PAPER_OUT),
        ((0x1A, 0x16, 0x12, 0x12), PrinterState.COVER_OPEN),
        ((0x1A, 0x12, 0x12, 0x12), PrinterState.OFFLINE),
        ((0x3A, 0x52, 0x1A, 0x12), PrinterState.ERROR),
        ((0x1A, 0x56, 0x32, 0x7E), PrinterState.ERROR),  # an error outranks cover and paper
        ((0x1A, 0x36, 0x12, 0x7E), PrinterState.COVER_OPEN),  # then the cover
    ],
)
def test_replies_add_up_to_the_most_urgent_state(replies, state):
    assert decode_status(replies).state is state


@pytest.mark.parametrize("silent", [0, 1, 2, 3])
def test_a_missing_reply_is_unknown_never_ready_or_paper_out(silent):
    replies = list(READY)
    replies[silent] = None
    status = decode_status(tuple(replies))
    assert status.state is PrinterState.UNKNOWN
    assert f"DLE EOT {silent + 1}" in status.reason
    assert status.bits is None


@pytest.mark.parametrize("byte", [0x00, 0xFF, 0x13, 0x92, 0x02, 0x10])
def test_a_byte_without_the_fixed_status_bits_is_unknown(byte):
    assert decode_status((byte, 0x12, 0x12, 0x12)).state is PrinterState.UNKNOWN


def test_query_sends_dle_eot_1_to_4_and_takes_the_last_byte_of_each_answer():
    sent, answers = [], [b"\x99\x12", b"\x16", b"\x12", b"\x12"]
    status = query_status(sent.append, lambda: answers.pop(0) if len(sent) > 4 - len(answers)
                          else b"", timeout=0.01)
    assert sent == [b"\x10\x04\x01", b"\x10\x04\x02", b"\x10\x04\x03", b"\x10\x04\x04"]
    assert status.state is PrinterState.COVER_OPEN


CONDITIONS = {
    "ready": ({}, PrinterState.READY),
    "paper-near-end": ({"paper_near_end": True}, PrinterState.PAPER_NEAR_END),
    "paper-out": ({"paper_out": True}, PrinterState.PAPER_OUT),
    "cover-open": ({"cover_open": True}, PrinterState.COVER_OPEN),
    "offline": ({"offline": True}, PrinterState.OFFLINE),
    "cutter": ({"cutter_error": True}, PrinterState.ERROR),
    "unrecoverable": ({"unrecoverable_error": True}, PrinterState.ERROR),
    "overheated": ({"auto_recoverable_error": True}, PrinterState.ERROR),
    "no-answer": ({"no_answer": True}, PrinterState.UNKNOWN),
}


@pytest.mark.parametrize("name", CONDITIONS)
def test_virtual_printer_over_a_real_pty_reports_each_condition(name):
    changes, state = CONDITIONS[name]
    device = VirtualPrinter()
    device.set_conditions(**changes)
    with PtyPrinter(device) as served, open_printer(f"{served.url}?timeout=0.3") as printer:
        assert printer.status().state is state


def test_virtual_printer_on_tcp_answers_like_a_port_9100_printer():
    device = VirtualPrinter()
    device.set_conditions(cover_open=True)
    with TcpPrinter(device) as served, open_printer(served.url) as printer:
        assert served.url.startswith("tcp://127.0.0.1:")
        assert printer.status().state is PrinterState.COVER_OPEN


def test_a_file_printer_cannot_answer_so_its_state_is_unknown(tmp_path):
    with open_printer(f"file://{tmp_path / 'lp0'}") as printer:
        status = printer.status()
    assert status.state is PrinterState.UNKNOWN and "cannot answer" in status.reason


@pytest.mark.parametrize(
    ("state", "code"),
    [("ready", 0), ("paper-near-end", 1), ("paper-out", 1), ("cover-open", 1), ("offline", 1),
     ("error", 1), ("no-answer", 3)],
)
def test_printer_status_command_exits_0_only_when_ready(state, code):
    outcome = CliRunner().invoke(
        app, ["printer", "status", "--json", "--printer", f"virtual://?state={state}"]
    )
    assert outcome.exit_code == code, outcome.output
    shown = json.loads(outcome.output)
    assert shown["state"] == ("unknown" if state == "no-answer" else state)


def test_printer_status_refuses_an_unknown_scheme_as_a_usage_error():
    outcome = CliRunner().invoke(app, ["printer", "status", "--printer", "lpt://1"])
    assert outcome.exit_code == 2
    assert "scheme" in outcome.output


@pytest.mark.parametrize(
    "url", ["tcp://127.0.0.1:1?timeout=0.2", "serial:///dev/no-such-printer", "usb://0416:5011"]
)
def test_an_unreachable_printer_is_exit_3_with_a_reason(url):
    outcome = CliRunner().invoke(app, ["printer", "status", "--json", "--printer", url])
    assert outcome.exit_code == 3, outcome.output
    assert json.loads(outcome.output)["error"]


@pytest.mark.parametrize(
    "url", ["usb://printer", "tcp://:9100", "virtual://?state=melted", "virtual://?colour=red",
            "serial://", "virtual://?profile=a4"]
)
def test_a_malformed_printer_url_is_a_usage_error(url):
    outcome = CliRunner().invoke(app, ["printer", "status", "--printer", url])
    assert outcome.exit_code == 2, outcome.output
