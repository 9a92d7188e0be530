"""A ``terminal sale`` killed after sending: the next money command resolves it first,
and ``terminal recover`` reports what became of it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from terminal.cli.paths import data_paths
from terminal.journal import Journal
from terminal.journal.entry import EntryState
from tests.lane import additions, name_default_operator

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")


def terminal(*args: str, crash: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("TERMINAL_CRASH_AT", None)
    if crash:
        env["TERMINAL_CRASH_AT"] = crash
    return subprocess.run([sys.executable, "-m", "terminal", *args], env=env,
                          capture_output=True, text=True, timeout=60)


def test_the_next_sale_reverses_the_one_killed_after_sending():
    killed = terminal("sale", "9.99", "--json", crash="after-send:sale")
    assert killed.returncode == -signal.SIGKILL
    with Journal(data_paths().journal) as journal:
        lost = [e for e in journal.entries() if e.kind.value == "sale"][-1]
        assert lost.state is EntryState.PENDING
    following = terminal("sale", "1.00", "--json")
    assert following.returncode == 0, following.stderr
    assert f"recovered #{lost.id} sale trace {lost.trace}: reversal -> reversed" in (
        following.stderr)
    with Journal(data_paths().journal) as journal:
        assert journal.get(lost.id).state is EntryState.REVERSED
    nothing = terminal("recover", "--json")
    assert nothing.returncode == 0 and json.loads(nothing.stdout) == {
        "resolved": True, "entries": []}


def test_recover_reports_a_refund_resent_after_a_crash():
    sale = json.loads(terminal("sale", "20.00", "--json").stdout)
    for args, stdin in additions("cashier1"):
        assert subprocess.run([sys.executable, "-m", "terminal", *args], input=stdin,
                              text=True, capture_output=True, timeout=60).returncode == 0
    # Once operators are set up each sale names one: the shop's default cashier.
    name_default_operator("cashier1")
    env = {**os.environ, "TERMINAL_CRASH_AT": "before-commit:refund"}
    killed = subprocess.run(
        [sys.executable, "-m", "terminal", "refund", "5.00", "--rrn", sale["rrn"], "--reason",
         "returned", "--supervisor", "sue", "--password-stdin"],
        input="sue-pw\n", env=env, text=True, capture_output=True, timeout=60)
    assert killed.returncode == -signal.SIGKILL
    report = terminal("recover", "--json")
    assert report.returncode == 0, report.stderr
    entries = json.loads(report.stdout)["entries"]
    assert [(e["transaction"], e["action"], e["outcome"], e["response_code"]) for e in entries] == [
        ("refund", "resend", "answered", "00")]
