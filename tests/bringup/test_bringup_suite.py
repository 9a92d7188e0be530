"""The bring-up suite against the paths a real terminal takes: a pty from `terminal simulate`,
a TCP socket, and a terminal that stopped answering; the reports it leaves behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from typer.testing import CliRunner

from simulator import SimulatedTerminal, SimulatorSettings
from simulator.serve import TcpSimulator
from terminal.bringup import (
    BenchSettings,
    Measurement,
    Outcome,
    SilentOperator,
    run_suite,
)
from terminal.cli.app import app
from terminal.config import TerminalSettings
from terminal.journal import Journal
from terminal.operators import Operators, Role
from tests.simulator_process import simulator_process

ORDER = ["port", "link", "sign_on", "echo", "sale_void", "printer_status", "receipt"]


def _bringup(*args: str):
    return CliRunner().invoke(app, ["bringup", "--operator", "auto", *args])


@pytest.mark.skipif(os.name != "posix", reason="terminal simulate --pty needs a pty")
def test_bringup_passes_against_terminal_simulate_on_a_pty_and_writes_its_reports(tmp_path):
    report_dir = tmp_path / "report"
    with simulator_process("--pty", "--ledger", str(tmp_path / "books.sqlite")) as path:
        outcome = _bringup("--port", path, "--printer", "virtual://", "--report",
                           str(report_dir))
    assert outcome.exit_code == 0, outcome.output
    assert "ALL CHECKS PASSED" in outcome.output
    report = json.loads((report_dir / "report.json").read_text())
    assert report["passed"] and report["port"] == path
    assert [c["name"] for c in report["checks"]] == ORDER
    assert {c["outcome"] for c in report["checks"]} == {"PASS"}
    sign_on = report["checks"][2]
    measured = {m["name"]: m for m in sign_on["measurements"]}
    assert measured["terminal id"]["value"] == "10008060"
    assert measured["round trip"]["unit"] == "ms" and measured["round trip"]["high"] == 3000.0
    assert report["device"]["terminal_id"] == "10008060" and report["package_version"]
    # The device under test said it is the simulator (field 59 of its answers): the report
    # must not pass for a terminal's.
    assert report["simulated"] is True and report["device"]["simulator"] is True
    assert measured["device"]["value"] == "simulator"
    assert "SIMULATOR" in outcome.output and "no terminal was tested" in outcome.output
    suite = ET.parse(report_dir / "junit.xml").getroot().find("testsuite")
    assert suite.get("tests") == "7" and suite.get("failures") == "0"
    properties = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert properties["simulated"] == "true"
    for check in report["checks"]:
        assert os.path.exists(check["transcript"]), check["name"]


def test_bringup_passes_against_a_socket_url(tmp_path):
    device = SimulatedTerminal(SimulatorSettings(ledger_file=tmp_path / "books.sqlite"))
    try:
        with TcpSimulator(device) as sim:
            outcome = _bringup("--port", sim.url)
    finally:
        device.ledger.close()
    assert sim.url.startswith("socket://")
    # No printer given: the terminal's five checks pass, the printer's two are skipped.
    assert outcome.exit_code == 1, outcome.output
    assert outcome.output.count("│ PASS") == 5 and "no --printer given" in outcome.output


@pytest.mark.skipif(os.name != "posix", reason="terminal simulate --pty needs a pty")
def test_a_terminal_that_stopped_answering_fails_the_link_check_and_skips_the_rest(tmp_path):
    report_dir = tmp_path / "report"
    with simulator_process("--pty", "--ledger", str(tmp_path / "books.sqlite"),
                           "--scenario", "mute") as path:
        outcome = _bringup("--port", path, "--printer", "virtual://", "--report",
                           str(report_dir))
    assert outcome.exit_code == 1, outcome.output
    report = json.loads((report_dir / "report.json").read_text())
    by_name = {c["name"]: c for c in report["checks"]}
    assert by_name["port"]["outcome"] == "PASS"
    assert by_name["link"]["outcome"] == "FAIL" and "no NAK" in by_name["link"]["hint"]
    for name in ("sign_on", "echo", "sale_void"):
        assert by_name[name]["outcome"] == "SKIP", name
    assert "link answers ACK/NAK" in by_name["sign_on"]["hint"]
    assert by_name["printer_status"]["outcome"] == "PASS"  # the printer is not the terminal
    assert f"transcript of 'link answers ACK/NAK': {by_name['link']['transcript']}" in (
        outcome.output.replace("\n", "")
    )
    suite = ET.parse(report_dir / "junit.xml").getroot().find("testsuite")
    assert (suite.get("failures"), suite.get("skipped")) == ("1", "3")
    assert report["simulated"] is False  # nothing answered, so nothing said it is one


def test_no_operator_response_is_a_skip_not_a_device_fault(tmp_path):
    settings = BenchSettings(port=f"sim://?ledger={tmp_path / 'books.sqlite'}",
                             operator=SilentOperator(), transcripts=tmp_path / "t")
    report = run_suite(settings)
    sale = next(c for c in report.checks if c.name == "sale_void")
    assert sale.outcome is Outcome.SKIP and "no operator response" in sale.hint
    assert not report.passed
    assert all(c.outcome is Outcome.PASS for c in report.checks[:4])


def _staffed_run(tmp_path, supervisor=None):
    """The suite on a POS journal whose lane has operators; (report, journal kinds)."""
    journal = Journal(tmp_path / "journal.sqlite3")
    staff = Operators(journal, TerminalSettings().terminal_id)
    staff.add("boss", Role.ADMIN, "admin-pw", by=None)
    staff.add("sue", Role.SUPERVISOR, "sup-pw", by="boss")
    if supervisor:
        staff.authorise(supervisor, "sup-pw", role=Role.SUPERVISOR, action="void")
    try:
        report = run_suite(BenchSettings(port=f"sim://?ledger={tmp_path / 'books.sqlite'}",
                                         journal=journal, transcripts=tmp_path / "t",
                                         supervisor=supervisor))
        return report, journal.entries()
    finally:
        journal.close()


def test_on_a_lane_with_operators_no_test_sale_is_made_without_a_supervisor(tmp_path):
    report, entries = _staffed_run(tmp_path)
    sale = next(c for c in report.checks if c.name == "sale_void")
    assert sale.outcome is Outcome.SKIP
    assert "this lane has operators" in sale.hint and "--supervisor ID" in sale.hint
    assert "sale" not in [e.kind.value for e in entries]  # no money moved
    assert not report.passed


def test_on_a_lane_with_operators_the_supervisor_authorises_the_test_sales_void(tmp_path):
    report, entries = _staffed_run(tmp_path, supervisor="sue")
    sale = next(c for c in report.checks if c.name == "sale_void")
    assert sale.outcome is Outcome.PASS, sale.hint
    sale, void = entries[-2:]
    assert (sale.kind.value, sale.operator) == ("sale", "sue")
    assert (void.kind.value, void.state.value, void.operator, void.supervisor) == (
        "void", "approved", "sue", "sue")


def test_measurements_keep_or_break_their_limits():
    assert Measurement("round trip", 12.0, "ms", high=3000).outcome is Outcome.PASS
    assert Measurement("round trip", 4000.0, "ms", high=3000).outcome is Outcome.FAIL
    assert Measurement("terminal id", "10008061", expected="10008060").outcome is Outcome.FAIL
    assert "OUT OF LIMITS" in Measurement("resends", 3, high=1).text()


def test_the_suite_runs_as_pytest_from_the_installed_package(tmp_path):
    report_dir = tmp_path / "report"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "--pyargs", "terminal.bringup", "-q",
         "-p", "no:cacheprovider", "--terminal-printer", "virtual://",
         "--terminal-report", str(report_dir)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={**os.environ, "TERMINAL_PORT": ""},
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "7 passed" in run.stdout
    assert json.loads((report_dir / "report.json").read_text())["passed"]
