"""The acquirer's ledger: booked, persisted, reloaded, totalled, never a full card number."""

from __future__ import annotations

import multiprocessing
import sqlite3
from datetime import datetime

import pytest
from sim_requests import NOW, sale

from simulator import Ledger, LedgerEntry, SimulatorSettings, VirtualTerminal, load_cards
from simulator.ledger import LEDGER_SCHEMA_VERSION
from terminal.errors import ConfigError


def _entry(
    trace="000001", batch="000001", code="00", amount=1234, pc="000000", balance=0, kind="sale"
):
    return LedgerEntry(
        time=datetime(2025, 3, 14, 10, 30, 15),
        batch=batch,
        trace=trace,
        rrn=f"103015{trace}",
        auth_code="123456" if code == "00" else "",
        mti="0200",
        processing_code=pc,
        amount=amount,
        response_code=code,
        card="approved",
        masked_pan="622609******0048",
        balance_after=balance,
        kind=kind,
    )


def test_ledger_is_persisted_and_reloaded_with_no_full_card_number(tmp_path):
    path = tmp_path / "books" / "ledger.sqlite3"
    cards = load_cards()
    terminal = VirtualTerminal(SimulatorSettings(), cards=cards, ledger=Ledger(path))
    for trace, card in (("000001", "approved"), ("000002", "lost"), ("000003", "limited")):
        terminal.present_card(card)
        terminal.handle(sale(60_000, trace=trace), NOW)

    stored = b"".join(p.read_bytes() for p in path.parent.iterdir())
    for card in cards:
        assert card.pan.encode() not in stored
    assert b"622609******0048" in stored

    reloaded = Ledger(path)
    assert reloaded.entries() == terminal.ledger.entries()
    assert [e.response_code for e in reloaded.entries()] == ["00", "41", "61"]
    assert reloaded.balance(cards["approved"]) == cards["approved"].balance - 60_000
    assert reloaded.balance(cards["lost"]) == cards["lost"].balance


def test_entries_carry_what_reconciliation_needs(tmp_path):
    terminal = VirtualTerminal(SimulatorSettings(), cards=load_cards(), ledger=Ledger())
    terminal.handle(sale(1234, trace="000005"), NOW)
    (entry,) = terminal.ledger.entries()
    assert (entry.time, entry.batch, entry.trace) == (NOW, "000001", "000005")
    assert (entry.mti, entry.processing_code, entry.amount) == ("0200", "000000", 1234)
    assert (entry.response_code, entry.card) == ("00", "approved")
    assert entry.masked_pan == "622609******0048"
    assert len(entry.rrn) == 12 and len(entry.auth_code) == 6


def test_totals_count_approved_money_of_one_batch_only():
    ledger = Ledger()
    ledger.record(_entry("000001", amount=1_000))
    ledger.record(_entry("000002", amount=2_000))
    ledger.record(_entry("000003", amount=9_999, code="51"))
    ledger.record(_entry("000004", amount=0, pc="310000", kind="balance"))
    ledger.record(_entry("000005", amount=300, pc="200000", kind="refund"))
    ledger.record(_entry("000001", batch="000002", amount=7_000))
    totals = ledger.totals("000001")
    assert (totals.debit_count, totals.debit_amount) == (2, 3_000)
    assert (totals.credit_count, totals.credit_amount) == (1, 300)
    assert ledger.totals("000002").debit_amount == 7_000
    assert ledger.totals("000009").debit_count == 0


def test_a_batch_and_trace_are_booked_once():
    ledger = Ledger()
    ledger.record(_entry("000001"))
    with pytest.raises(ValueError, match="already booked"):
        ledger.record(_entry("000001"))


def test_an_unmasked_card_number_is_refused():
    with pytest.raises(ValueError, match="masked"):
        LedgerEntry(**{**_entry().__dict__, "masked_pan": "6226090000000048"})


def test_amounts_must_be_int_fen():
    with pytest.raises(TypeError, match="int fen"):
        LedgerEntry(**{**_entry().__dict__, "amount": 12.34})


def test_an_unreadable_ledger_file_is_a_config_error_naming_it(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    path.write_text("not a database, just text that is long enough to look like a header" * 20)
    with pytest.raises(ConfigError, match="ledger"):
        Ledger(path)


def test_a_ledger_from_a_newer_program_is_refused(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    Ledger(path).close()
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version={LEDGER_SCHEMA_VERSION + 1}")
    with pytest.raises(ConfigError, match="newer version"):
        Ledger(path)


def test_the_file_is_sqlite_in_wal_mode_with_a_schema_version(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    Ledger(path).record(_entry())
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA user_version").fetchone()[0] == LEDGER_SCHEMA_VERSION
        assert db.execute("SELECT amount FROM entries").fetchone()[0] == 1234


# -- several processes on one ledger file ---------------------------------------

_PROCESSES, _SALES_EACH = 6, 5


def _sell_in_own_process(path, first_trace, start):
    """One simulator process: its own terminal and ledger on the shared file."""
    start.wait(10)
    cards = load_cards()
    terminal = VirtualTerminal(SimulatorSettings(), cards=cards, ledger=Ledger(path))
    for offset in range(_SALES_EACH):
        response = terminal.handle(sale(100, trace=f"{first_trace + offset:06d}"), NOW)
        if response[39] != "00":
            raise SystemExit(3)


def test_processes_sharing_a_ledger_file_lose_no_entry_and_repeat_no_rrn(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    context = multiprocessing.get_context("fork")
    start = context.Barrier(_PROCESSES)
    workers = [
        context.Process(target=_sell_in_own_process, args=(path, 100 * n + 1, start))
        for n in range(_PROCESSES)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert [worker.exitcode for worker in workers] == [0] * _PROCESSES

    entries = Ledger(path).entries()
    count = _PROCESSES * _SALES_EACH
    assert len(entries) == count
    # Same wall-clock second everywhere, so only the sequence keeps RRNs apart.
    assert len({entry.rrn for entry in entries}) == count
    assert all(len(entry.rrn) == 12 and entry.rrn.isdigit() for entry in entries)
    assert len({entry.auth_code for entry in entries}) == count
    assert all(len(entry.auth_code) == 6 for entry in entries)
    approved = load_cards()["approved"]
    assert Ledger(path).balance(approved) == approved.balance - 100 * count
    assert Ledger(path).totals("000001").debit_amount == 100 * count


def test_a_ledger_sees_entries_another_process_booked_since_it_loaded(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    mine, theirs = Ledger(path), Ledger(path)
    theirs.record(_entry("000001", amount=100, balance=900))
    mine.record(_entry("000002", amount=200, balance=700))
    assert [e.trace for e in Ledger(path).entries()] == ["000001", "000002"]
    assert [e.trace for e in theirs.entries()] == ["000001", "000002"]
    with pytest.raises(ValueError, match="already booked"):
        theirs.record(_entry("000002"))


def test_the_rrn_sequence_survives_a_restart_on_the_same_file(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    cards = load_cards()
    first = VirtualTerminal(SimulatorSettings(), cards=cards, ledger=Ledger(path))
    first.handle(sale(trace="000001"), NOW)
    restarted = VirtualTerminal(SimulatorSettings(), cards=cards, ledger=Ledger(path))
    restarted.handle(sale(trace="000002"), NOW)
    rrns = [entry.rrn for entry in Ledger(path).entries()]
    assert len(set(rrns)) == 2
    assert Ledger(path).next_sequence() == 3


def test_in_memory_ledgers_do_not_all_start_their_rrn_sequence_at_one():
    assert len({Ledger().next_sequence() for _ in range(5)}) > 1
    terminal = VirtualTerminal(SimulatorSettings(), cards=load_cards(), ledger=Ledger())
    rrn = terminal.handle(sale(trace="000001"), NOW)[37]
    assert len(rrn) == 12 and rrn.isdigit()


def test_auth_codes_are_unique_per_approved_exchange_within_a_batch():
    terminal = VirtualTerminal(SimulatorSettings(), cards=load_cards(), ledger=Ledger())
    codes = [terminal.handle(sale(100, trace=f"{n:06d}"), NOW)[38] for n in range(1, 201)]
    assert len(set(codes)) == len(codes)
    assert all(len(code) == 6 and code.isdigit() for code in codes)
