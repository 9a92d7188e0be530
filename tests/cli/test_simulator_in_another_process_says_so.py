"""A simulator in another process (``terminal simulate --pty`` or ``--tcp``) is named by a
path or a socket URL that cannot tell it from a real terminal; its answers say what it is,
and every result the host shows or keeps says so: the banner, ``"simulated": true``, the
receipt's mark, the journal (a real SQLite file), settlement and ``terminal recover``.
A device whose answers carry no mark (a real terminal) is not called simulated."""

from __future__ import annotations

import csv
import json
import os
import re
import sqlite3
import subprocess
import sys
from datetime import date

import pytest
from PIL import Image
from typer.testing import CliRunner

from simulator.linked import LinkedDevice
from simulator.serve import PtySimulator
from terminal.cli.app import app
from terminal.cli.paths import data_paths
from terminal.link import LinkTimers
from terminal.protocol import Message, decode, encode
from terminal.protocol.identity import SIMULATOR_FIELD
from tests.lane import add_staff
from tests.simulator_process import simulator_process

pytestmark = pytest.mark.skipif(os.name != "posix", reason="terminal simulate --pty needs a pty")

runner = CliRunner()
BANNER = "SIMULATOR — no money moved"
MARK = "*** 模拟 SIMULATOR ***"
TRANSPORTS = {"pty": ("--pty",), "tcp": ("--tcp", "0")}
PNG = re.compile(r"virtual printer: PNG (\S+)")


def paper_text(outcome) -> str:
    """What the virtual printer put on paper (the PNG's text, as the receipt tests read it)."""
    return Image.open(PNG.search(outcome.output).group(1)).text["Description"]


def journal_rows() -> list[tuple[str, str, int | None]]:
    """(kind, state, simulated) of every journal row, read with plain sqlite3."""
    with sqlite3.connect(data_paths().journal) as db:
        return db.execute("SELECT kind, state, simulated FROM entries ORDER BY id").fetchall()


def _operators() -> None:
    # Once operators are set up each sale names one: sue rings up too.
    add_staff(default="sue")


@pytest.mark.parametrize("transport", TRANSPORTS, ids=list(TRANSPORTS))
def test_a_sale_through_terminal_simulate_says_simulator_in_text_json_receipt_and_journal(
    transport,
):
    with simulator_process(*TRANSPORTS[transport]) as address:
        assert not address.startswith("sim:")
        as_json = runner.invoke(app, ["sale", "12.34", "--port", address, "--json"])
        as_text = runner.invoke(app, ["sale", "5.00", "--port", address, "--receipt"])
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout)["simulated"] is True
    assert as_text.exit_code == 0, as_text.output
    assert as_text.stdout.splitlines()[0] == BANNER
    assert as_text.stdout.count(MARK) == 2  # merchant and customer copy
    rows = journal_rows()
    assert [kind for kind, _, _ in rows] == ["sign_on", "sale", "sale"]
    assert {simulated for _, _, simulated in rows} == {1}


def test_a_declined_sale_through_terminal_simulate_says_so_too():
    with simulator_process("--pty", "--card", "expired") as path:
        outcome = runner.invoke(app, ["sale", "12.34", "--port", path])
    assert outcome.exit_code == 1, outcome.output
    assert outcome.stdout.splitlines()[0] == BANNER
    assert journal_rows()[-1] == ("sale", "declined", 1)


def test_the_settlement_report_through_terminal_simulate_says_simulator():
    _operators()
    settle = ["settle", "--supervisor", "sue", "--password-stdin"]
    with simulator_process("--pty") as path:
        assert runner.invoke(app, ["sale", "8.00", "--port", path]).exit_code == 0
        report = runner.invoke(app, [*settle, "--port", path, "--print"], input="sue-pw\n")
        assert runner.invoke(app, ["sale", "2.00", "--port", path]).exit_code == 0
        as_json = runner.invoke(app, [*settle, "--port", path, "--json"], input="sue-pw\n")
    assert report.exit_code == 0, report.output
    lines = report.stdout.splitlines()
    assert lines[0] == BANNER and any("结算 settlement" in line for line in lines)
    assert "模拟 SIMULATOR" in paper_text(report)  # the printed settlement report
    shown = json.loads(as_json.stdout)
    assert shown["simulated"] is True and shown["totals"]["sales"]["count"] == 1
    assert ("settlement", "approved", 1) in journal_rows()


def test_a_reprint_of_a_sale_made_through_terminal_simulate_is_marked_from_the_journal(
    monkeypatch,
):
    with simulator_process("--pty") as path:
        assert runner.invoke(app, ["sale", "6.00", "--port", path]).exit_code == 0
    # The lane's port of the day is a real terminal's: the journal, not the port, says.
    monkeypatch.setenv("TERMINAL_PORT", "/dev/ttyUSB0")
    reprint = runner.invoke(app, ["reprint", "--last", "--copy", "customer"])
    assert reprint.exit_code == 0, reprint.output
    text = paper_text(reprint)
    assert "模拟 SIMULATOR" in text and "重打印 REPRINT" in text


def test_lookup_and_the_finance_export_say_which_sales_the_simulator_answered():
    with simulator_process("--pty") as path:
        paid = json.loads(runner.invoke(app, ["sale", "4.00", "--port", path, "--json"]).stdout)
    found = runner.invoke(app, ["lookup", "--rrn", paid["rrn"]])
    assert found.exit_code == 0 and found.stdout.rstrip().endswith("[simulator]")
    today = date.today().isoformat()
    export = runner.invoke(app, ["journal", "export", "--from", today, "--to", today,
                                 "--format", "csv"])
    rows = list(csv.DictReader(export.stdout.splitlines()))
    assert [(r["transaction"], r["simulated"]) for r in rows] == [
        ("sign_on", "True"), ("sale", "True")]


def test_terminal_recover_through_terminal_simulate_says_its_reversals_were_simulated():
    with simulator_process("--pty") as path:
        for recover in (["recover", "--json"], ["recover"]):
            killed = subprocess.run(
                [sys.executable, "-m", "terminal", "sale", "9.99", "--port", path],
                env={**os.environ, "TERMINAL_CRASH_AT": "after-send:sale"},
                capture_output=True, text=True, timeout=60,
            )
            assert killed.returncode < 0, killed.stderr  # killed by the crash point
            outcome = runner.invoke(app, [*recover, "--port", path])
            assert outcome.exit_code == 0, outcome.output
            if "--json" in recover:
                entries = json.loads(outcome.stdout)["entries"]
                assert [(e["action"], e["outcome"], e["simulated"]) for e in entries] == [
                    ("reversal", "reversed", True)]
            else:
                lines = outcome.stdout.splitlines()
                assert lines[0] == BANNER
                assert "reversal -> reversed" in lines[1] and lines[1].endswith("[simulator]")
    reversals = [row for row in journal_rows() if row[0] in ("sale", "reversal")]
    assert reversals == [("sale", "reversed", 1), ("reversal", "approved", 1)] * 2


# -- a device that does not say it is the simulator ---------------------------------------


class _RealTerminal(LinkedDevice):
    """Answers echo tests as a real terminal does: 00, and nothing in field 59 (a real
    terminal does not carry the simulator's mark). A replay is no such device: it marks
    every answer it plays, however real the recording (tests/trace)."""

    def __init__(self) -> None:
        super().__init__(LinkTimers())

    def _answer(self, data: bytes) -> list[tuple[float, bytes]]:
        request = decode(data, "cup")
        fields = {n: request[n] for n in (11, 41, 42, 60) if n in request}
        fields.update({12: "103015", 13: "0314", 32: "48020000", 39: "00"})
        response = Message(f"{int(request.mti) + 10:04d}", fields,
                           request.tpdu.reply(), request.header)
        assert SIMULATOR_FIELD not in decode(encode(response, "cup"), "cup")
        return [(0.0, encode(response, "cup"))]


def test_a_terminal_whose_answers_carry_no_mark_is_not_called_simulated():
    with PtySimulator(_RealTerminal()) as device:
        as_json = runner.invoke(app, ["echo", "--port", device.path, "--json"])
        as_text = runner.invoke(app, ["echo", "--port", device.path])
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout)["simulated"] is False
    assert as_text.exit_code == 0, as_text.output
    assert BANNER not in as_text.stdout
    assert journal_rows() == [("echo", "approved", 0)] * 2
    found = runner.invoke(app, ["lookup", "--kind", "echo"])
    assert found.exit_code == 0 and len(found.stdout.splitlines()) == 2
    assert "[simulator]" not in found.stdout
