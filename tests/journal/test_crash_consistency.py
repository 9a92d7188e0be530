"""Crash consistency: a real process killed (SIGKILL) at each step of a sale, a void and
a refund; after a restart recovery converges and the journal equals the simulator's
books amount by amount: nothing missing, nothing twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sim_rig import money_in_books, money_in_journal

from simulator.ledger import Ledger
from terminal.faultpoint import CRASH_ENV, POINTS
from terminal.journal import Journal
from terminal.journal.entry import EntryState

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")
DRIVER = Path(__file__).with_name("crash_driver.py")


def drive(root: Path, *args: str, crash: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != CRASH_ENV}
    if crash:
        env[CRASH_ENV] = crash
    return subprocess.run([sys.executable, str(DRIVER), str(root), *args], env=env,
                          capture_output=True, text=True, timeout=60)


def ok(root: Path, *args: str) -> dict:
    done = drive(root, *args)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


@pytest.mark.parametrize("point", POINTS)
@pytest.mark.parametrize("kind", ["sale", "void", "refund"])
def test_killed_at_any_step_recovery_converges_to_the_books(tmp_path, kind, point):
    paid = ok(tmp_path, "sale", "1000")["result"]
    args = {"sale": ("sale", "2500"), "void": ("void", paid["rrn"]),
            "refund": ("refund", "400", paid["rrn"])}[kind]
    killed = drive(tmp_path, *args, crash=f"{point}:{kind}")
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]

    recovered = ok(tmp_path, "recover")["recovered"]
    assert [o["transaction"] for o in recovered] == [kind]
    expected = {"sale": {"reversed", "not-booked"}, "void": {"reversed", "not-booked"},
                "refund": {"answered"}}[kind]
    assert recovered[0]["outcome"] in expected
    assert ok(tmp_path, "recover")["recovered"] == []  # converged: nothing left to do

    with Journal(tmp_path / "journal.sqlite3") as journal:
        states = {e.state for e in journal.entries()}
        assert not states & {EntryState.PENDING, EntryState.IN_DOUBT}
        in_journal = money_in_journal(journal)
    books = Ledger(tmp_path / "books.sqlite3")
    try:
        in_books = money_in_books(books.entries())
    finally:
        books.close()
    assert in_journal == in_books
    if kind == "refund":  # never reversed: resent until answered, booked exactly once
        assert [m for m in in_books if m[0] == "refund"] == [
            ("refund", recovered[0]["trace"], 400)]
    else:  # the sale stands, the crashed transaction counts for nothing on either side
        assert in_books == [("sale", paid["trace"], 1000)]
