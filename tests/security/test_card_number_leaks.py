"""Card numbers never leave the terminal boundary in full: not in output, logs or files."""

from __future__ import annotations

import logging
import sqlite3

from typer.testing import CliRunner

from simulator import load_cards
from terminal.cli.app import app
from tests.leaks.scanner import scan_bytes


def _luhn_runs(text: str) -> list[str]:
    """What a strict outside scanner reports (:mod:`tests.leaks.scanner`): no exemption for
    hex digests, which the journal keeps as bytes and shows as colon hex."""
    return [finding.masked for finding in scan_bytes(text.encode("utf-8"))]


def test_sales_leave_no_full_card_number_in_output_logs_or_files(tmp_path, caplog, request):
    ledger = tmp_path / "ledger.json"
    runner = CliRunner()
    texts = []
    with caplog.at_level(logging.DEBUG):
        for card in ("approved", "expired", "limited", "contactless"):
            outcome = runner.invoke(
                app,
                ["-vv", "sale", "12.34", "--receipt", "--json", "--port",
                 f"sim://?ledger={ledger}&card={card}"],
            )
            assert outcome.exit_code in (0, 1), outcome.output
            texts.append(outcome.output)
        texts.append(runner.invoke(app, ["sale", "3.00", "--receipt"]).output)
    texts.append(caplog.text)
    home = request.getfixturevalue("_isolated_config")  # host state and token key
    files = [p for root in (tmp_path, home) for p in root.rglob("*") if p.is_file()]
    # By content, not name: the simulator keeps its books in SQLite whatever the
    # ledger path is called (here ledger.json).
    databases = [p for p in files if _is_sqlite(p)]
    texts += [p.read_text("latin-1") for p in files if p not in databases]
    # SQLite stores a row's columns back to back, so digits of neighbouring columns
    # (trace, date, RRN) run together in the file's bytes: scan each stored value
    # for card-like numbers, and the raw bytes for the cards the simulator knows.
    texts += _stored_values(p for p in databases if not p.name.endswith(("-wal", "-shm")))
    raw = b"".join(p.read_bytes() for p in databases)
    everything = "\n".join(texts)
    assert "622609" in everything  # the masked numbers are there, so the scan saw real output
    for card in load_cards():
        assert card.pan not in everything, card.name
        assert card.pan.encode() not in raw, card.name
    assert _luhn_runs(everything) == []


def _is_sqlite(path) -> bool:
    """A SQLite database or its write-ahead log / shared-memory file."""
    if path.name.endswith(("-wal", "-shm", "-journal")):
        return True
    with open(path, "rb") as file:
        return file.read(16) == b"SQLite format 3\x00"


def _stored_values(paths) -> list[str]:
    values = []
    for path in paths:
        with sqlite3.connect(path) as db:
            tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master "
                                                   "WHERE type = 'table'")]
            for table in tables:
                for row in db.execute(f"SELECT * FROM {table}"):
                    values += [str(value) for value in row]
    return values
