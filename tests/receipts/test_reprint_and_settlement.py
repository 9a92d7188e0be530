"""Reprints and the settlement report, rebuilt from the journal (never from stored bytes)."""

from __future__ import annotations

import json
import re
import sqlite3

import pytest
import zxingcpp
from PIL import Image
from typer.testing import CliRunner

from terminal.cli.app import app
from terminal.cli.paths import data_paths
from terminal.receipts import LookupKey
from tests.lane import add_staff

runner = CliRunner()
PNG = re.compile(r"virtual printer: PNG (\S+)")
SUPERVISOR = ["--supervisor", "sue", "--password-stdin"]


@pytest.fixture(autouse=True)
def _supervisor():
    """Voids, refunds and settlements need a supervisor's password (issue 8)."""
    # Once operators are set up each sale names one: the shop's default cashier.
    add_staff("cashier1", default="cashier1")


def authorised(*args: str):
    return runner.invoke(app, [*args, *SUPERVISOR], input="sue-pw\n")


def sale(amount: str = "12.34") -> dict:
    outcome = runner.invoke(app, ["sale", amount, "--json"])
    assert outcome.exit_code == 0, outcome.output
    return json.loads(outcome.stdout)


def paper(outcome) -> Image.Image:
    return Image.open(PNG.search(outcome.output).group(1))


@pytest.mark.parametrize("how", ["--last", "--rrn", "--trace"])
def test_reprint_rebuilds_the_slip_from_the_journal_and_marks_it(how):
    first = sale("12.34")
    sale("7.00")  # --last must still find the newest, by rrn the first
    args = {"--last": ["--last"], "--rrn": ["--rrn", first["rrn"]],
            "--trace": ["--trace", first["trace"], "--date", first["date"]]}[how]
    outcome = runner.invoke(app, ["reprint", *args, "--copy", "customer"])
    assert outcome.exit_code == 0, outcome.output
    text = paper(outcome).text["Description"]
    assert text.count("重打印 REPRINT") == 1 and "持卡人存根" in text
    expected = "RMB 7.00" if how == "--last" else "RMB 12.34"
    assert expected in text
    [code] = zxingcpp.read_barcodes(paper(outcome))
    key = LookupKey.parse(code.text)
    assert (key.rrn == first["rrn"]) == (how != "--last")


def test_reprint_of_a_transaction_not_in_the_journal_is_a_usage_error():
    sale()
    outcome = runner.invoke(app, ["reprint", "--rrn", "999999999999", "--json"])
    assert outcome.exit_code == 2
    assert "999999999999" in json.loads(outcome.stdout)["error"]
    assert runner.invoke(app, ["reprint"]).exit_code == 2  # which one?


def test_reprint_on_a_printer_out_of_paper_waits_in_the_queue():
    sale()
    outcome = runner.invoke(app, ["reprint", "--last", "--printer", "virtual://?state=paper-out"])
    assert outcome.exit_code == 1
    assert "out of paper" in outcome.stderr


def test_receipt_draws_a_png_of_a_journaled_transaction_without_printing(tmp_path):
    first = sale()
    target = tmp_path / "slip.png"
    outcome = runner.invoke(app, ["receipt", "--rrn", first["rrn"], "--png", str(target),
                                  "--profile", "cn-80"])
    assert outcome.exit_code == 0, outcome.output
    picture = Image.open(target)
    assert picture.width == 576 + 32 and "消费 SALE" in picture.text["Description"]
    assert (tmp_path / "slip.txt").read_text("utf-8").count("RMB 12.34") == 1
    tables = sqlite3.connect(data_paths().journal).execute(
        "SELECT name FROM sqlite_master WHERE name = 'print_jobs'").fetchall()
    assert tables == []  # drawn, not printed: no job was ever queued


def test_void_and_refund_print_their_slips_with_the_original():
    first = sale("30.00")
    void = authorised("void", "--rrn", first["rrn"], "--print")
    assert void.exit_code == 0, void.output
    text = paper(void).text["Description"]
    assert "消费撤销 VOID" in text and first["rrn"] in text  # the original's RRN
    second = sale("40.00")
    refund = authorised("refund", "15.00", "--rrn", second["rrn"], "--reason", "returned",
                        "--print")
    assert refund.exit_code == 0, refund.output
    text = paper(refund).text["Description"]
    assert "退货 REFUND" in text and "顾客退货" in text and "RMB 15.00" in text


def test_settlement_report_counts_each_category_apart_and_says_the_bank_agreed():
    sale("10.00")
    voided = sale("3.00")
    refunded = sale("20.00")
    assert authorised("void", "--rrn", voided["rrn"]).exit_code == 0
    assert authorised("refund", "5.00", "--rrn", refunded["rrn"], "--reason",
                      "duplicate").exit_code == 0
    outcome = authorised("settle", "--print")
    assert outcome.exit_code == 0, outcome.output
    lines = paper(outcome).text["Description"].splitlines()
    row = {line.split()[0]: line.split() for line in lines if line.split()}
    assert row["消费"][-3:] == ["3", "RMB", "33.00"]
    assert row["撤销"][-3:] == ["1", "RMB", "3.00"]
    assert row["退货"][-3:] == ["1", "RMB", "5.00"]
    assert any("净额" in line and line.endswith("RMB 25.00") for line in lines)
    assert any("平账 BALANCED" in line for line in lines)


def test_the_print_queue_lives_in_the_journal_database():
    runner.invoke(app, ["sale", "1.00", "--print"])
    db = sqlite3.connect(data_paths().journal)
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"entries", "print_jobs"} <= tables
    assert db.execute("SELECT count(*) FROM print_jobs WHERE state = 'printed'").fetchone()[0] == 2


def test_no_queued_slip_runs_the_digits_of_its_key_into_the_lane():
    # SQLite writes a row's columns back to back: a reprint's key ended in its stamp's 12
    # digits, and the lane's 8 that follow made one number of 20 in the journal's file.
    sale("3.00")
    assert runner.invoke(app, ["reprint", "--last"]).exit_code == 0
    with sqlite3.connect(data_paths().journal) as db:
        rows = db.execute("SELECT job_key, lane FROM print_jobs").fetchall()
    assert any(key.startswith("reprint:") for key, _ in rows)
    runs = [len(run) for key, lane in rows for run in re.findall(r"[0-9]+", key + lane)]
    assert max(runs) < 13, rows


def test_the_slip_names_the_operator_on_the_fresh_print_and_on_the_reprint():
    added = runner.invoke(app, ["operator", "add", "c07", "--role", "cashier", "--admin", "boss",
                                "--password-stdin"], input="boss-pw\nc07-pw\n")
    assert added.exit_code == 0, added.output
    fresh = runner.invoke(app, ["sale", "5.00", "--operator", "c07", "--print"])
    assert fresh.exit_code == 0, fresh.output
    again = runner.invoke(app, ["reprint", "--last"])
    assert again.exit_code == 0, again.output
    for outcome in (fresh, again):
        rows = [line.split() for line in paper(outcome).text["Description"].splitlines()
                if "操作员 OPER" in line]  # the row is left out while it has no value
        assert rows and {row[-1] for row in rows} == {"c07"}


def test_preauth_its_actions_and_reverse_print_their_slips():
    def printed(*args: str) -> tuple[dict, str]:
        # A completion's void gives money back: a supervisor authorises it (issue 8).
        authority = SUPERVISOR if args[:2] == ("preauth", "void") else []
        outcome = runner.invoke(app, [*args, *authority, "--print", "--json"],
                                input="sue-pw\n" if authority else None)
        assert outcome.exit_code == 0, outcome.output
        slip = Image.open(PNG.search(outcome.stderr).group(1)).text["Description"]
        return json.loads(outcome.stdout), slip

    hold, slip = printed("preauth", "50.00")
    assert "预授权 PRE-AUTH" in slip
    done, slip = printed("preauth", "complete", "45.00", "--rrn", hold["rrn"])
    assert "预授权完成 AUTH COMPLETE" in slip and "RMB 45.00" in slip
    _, slip = printed("preauth", "void", "--rrn", done["rrn"])
    assert "预授权完成撤销 COMPLETE VOID" in slip
    other, _ = printed("preauth", "8.00")
    _, slip = printed("preauth", "cancel", "--rrn", other["rrn"])
    assert "预授权撤销 PRE-AUTH CANCEL" in slip
    _, slip = printed("reverse", "--trace", sale("3.00")["trace"])
    assert "冲正 REVERSAL" in slip


def test_a_reprint_says_simulator_and_the_card_organisation_as_the_first_print_did(
    monkeypatch,
):
    first = runner.invoke(app, ["sale", "6.00", "--print"])
    assert first.exit_code == 0, first.output
    monkeypatch.setenv("TERMINAL_PORT", "socket://192.0.2.1:9")  # the lane's port changed since
    again = runner.invoke(app, ["reprint", "--last"])
    assert again.exit_code == 0, again.output
    for outcome in (first, again):
        text = paper(outcome).text["Description"]
        assert "模拟 SIMULATOR" in text
        rows = [line.split() for line in text.splitlines() if "卡组织 ISSUER" in line]
        assert rows and {row[-1] for row in rows} == {"CUP"}
