"""Each refusal of the host (rules and authority) on the command line: exit 4, its rule id,
Chinese and English, and the simulator saw no request (its books and the journal unchanged)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from terminal.cli.app import app
from terminal.cli.paths import data_paths
from terminal.journal import Journal
from tests.lane import add_staff, money_seen

runner = CliRunner()
SUPERVISOR = ["--supervisor", "sue", "--password-stdin"]


def run(*args: str, stdin: str | None = None):
    return runner.invoke(app, list(args), input=stdin)


@pytest.fixture
def paid():
    # Once operators are set up each sale names one: the shop's default cashier.
    add_staff("carl", "cashier1", default="cashier1")
    outcome = run("sale", "10.00", "--json", "--operator", "carl")
    assert outcome.exit_code == 0, outcome.output
    return json.loads(outcome.stdout)


def refused(args: list[str], stdin: str | None, rule: str) -> dict:
    before = money_seen()
    outcome = run(*args, "--json", stdin=stdin)
    assert outcome.exit_code == 4, outcome.output
    shown = json.loads(outcome.stdout)
    assert (shown["refused"], shown["rule"]) == (True, rule)
    assert money_seen() == before, "the simulator saw a request"
    return shown


def test_void_without_a_supervisor_is_refused(paid):
    shown = refused(["void", "--rrn", paid["rrn"]], None, "needs-supervisor")
    assert "需要主管授权" in shown["message"] and "supervisor" in shown["message"]


def test_refund_authorised_by_a_cashier_is_refused(paid):
    refused(["refund", "1.00", "--rrn", paid["rrn"], "--reason", "returned",
             "--supervisor", "carl", "--password-stdin"], "carl-pw\n", "needs-supervisor")


def test_settle_with_a_wrong_password_is_refused(paid):
    shown = refused(["settle", *SUPERVISOR], "wrong\n", "bad-password")
    assert shown["failures"] == 1


def test_a_supervisor_locked_by_five_wrong_passwords_is_refused_even_with_the_right_one(paid):
    for _ in range(4):
        refused(["void", "--rrn", paid["rrn"], *SUPERVISOR], "wrong\n", "bad-password")
    refused(["void", "--rrn", paid["rrn"], *SUPERVISOR], "wrong\n", "locked-out")
    refused(["void", "--rrn", paid["rrn"], *SUPERVISOR], "sue-pw\n", "locked-out")


def test_refund_over_what_is_left_is_refused_with_the_figures(paid):
    shown = refused(["refund", "10.01", "--rrn", paid["rrn"], "--reason", "returned",
                     *SUPERVISOR], "sue-pw\n", "over-refundable")
    assert (shown["refundable_fen"], shown["refunded_fen"]) == (1000, 0)
    assert "退货金额超过可退金额" in shown["message"]


def test_void_of_an_unknown_rrn_is_refused_as_original_not_found(paid):
    refused(["void", "--rrn", "123456789012", *SUPERVISOR], "sue-pw\n", "original-not-found")


def test_a_refund_needs_a_reason_and_other_needs_a_note(paid):
    missing = run("refund", "1.00", "--rrn", paid["rrn"], *SUPERVISOR, stdin="sue-pw\n")
    assert missing.exit_code == 2 and "--reason" in missing.output
    bare = run("refund", "1.00", "--rrn", paid["rrn"], "--reason", "other", *SUPERVISOR,
               stdin="sue-pw\n")
    assert bare.exit_code == 2 and "--note" in bare.output


def test_an_authorised_refund_is_journaled_with_cashier_supervisor_reason_and_audited(paid):
    outcome = run("refund", "4.00", "--rrn", paid["rrn"], "--reason", "other", "--note",
                  "box damaged", "--operator", "carl", "--json", *SUPERVISOR, stdin="sue-pw\n")
    assert outcome.exit_code == 0, outcome.output
    found = json.loads(run("lookup", "--kind", "refund", "--json").stdout)
    assert [(f["operator"], f["supervisor"], f["reason"], f["note"], f["amount_fen"])
            for f in found] == [("carl", "sue", "other", "box damaged", 400)]
    status = json.loads(run("status", "--rrn", paid["rrn"], "--json").stdout)
    assert (status["refunded_fen"], status["refundable_fen"]) == (400, 600)
    trail = json.loads(run("audit", "--json").stdout)
    assert ("carl", "refund", "sue", "authorised") in [
        (r["operator"], r["action"], r["authorised_by"], r["outcome"]) for r in trail]


@pytest.fixture
def completed(paid):
    """A pre-authorization completed by the cashier: its void gives money back."""
    held = run("preauth", "20.00", "--json", "--operator", "carl")
    assert held.exit_code == 0, held.output
    done = run("preauth", "complete", "20.00", "--rrn", json.loads(held.stdout)["rrn"],
               "--json", "--operator", "carl")
    assert done.exit_code == 0, done.output
    return json.loads(done.stdout)


def test_completion_void_without_a_supervisor_is_refused(completed):
    shown = refused(["preauth", "void", "--rrn", completed["rrn"]], None, "needs-supervisor")
    assert "需要主管授权" in shown["message"]


def test_completion_void_authorised_by_a_cashier_is_refused(completed):
    refused(["preauth", "void", "--rrn", completed["rrn"], "--supervisor", "carl",
             "--password-stdin"], "carl-pw\n", "needs-supervisor")


def test_completion_void_with_wrong_passwords_is_refused_then_locked_out(completed):
    for _ in range(4):
        refused(["preauth", "void", "--rrn", completed["rrn"], *SUPERVISOR], "wrong\n",
                "bad-password")
    refused(["preauth", "void", "--rrn", completed["rrn"], *SUPERVISOR], "wrong\n", "locked-out")
    refused(["preauth", "void", "--rrn", completed["rrn"], *SUPERVISOR], "sue-pw\n",
            "locked-out")


def test_an_authorised_completion_void_is_journaled_with_cashier_and_supervisor(completed):
    outcome = run("preauth", "void", "--rrn", completed["rrn"], "--operator", "carl", "--json",
                  *SUPERVISOR, stdin="sue-pw\n")
    assert outcome.exit_code == 0, outcome.output
    assert json.loads(outcome.stdout)["transaction"] == "completion_void"
    with Journal(data_paths().journal) as journal:
        voids = [e for e in journal.entries() if e.kind.value == "completion_void"]
    assert [(e.operator, e.supervisor) for e in voids] == [("carl", "sue")]
    trail = json.loads(run("audit", "--json").stdout)
    assert ("carl", "preauth void", "sue", "authorised") in [
        (r["operator"], r["action"], r["authorised_by"], r["outcome"]) for r in trail]


def test_only_a_completion_void_takes_a_supervisor(completed):
    outcome = run("preauth", "cancel", "--rrn", completed["rrn"], *SUPERVISOR, stdin="sue-pw\n")
    assert outcome.exit_code == 2 and "--supervisor" in outcome.output
