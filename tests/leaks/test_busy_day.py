"""A busy day run through the command line, every byte it leaves scanned like acceptance does.

Each command is its own process (``python -m terminal``) against the simulator,
with the real data directory, trace files, bring-up report, receipt pictures
and exports; then :mod:`tests.leaks.scanner` reads all of it raw (the journal's
SQLite file and its WAL included) plus every command's stdout and stderr. The
day is long enough (hundreds of chain records, each with two 32-byte digests,
and a token per card transaction) that digests kept as lowercase hex would all
but surely be reported: one 64-digit hex digest in about 220 holds a Luhn-valid
run of 13 to 19 digits (measured with this scanner over random digests).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from simulator import load_cards
from tests.leaks.scanner import Mode, Scan, scan_bytes, scan_paths

SUPERVISOR_PASSWORD = "sue-secret"
ADMIN_PASSWORD = "boss-secret"
# Staff known by number, as many shops do: side by side (a void's row, its audit row) or
# after the lane (the operators' unique key) they read as Luhn-valid card numbers
# (4000100 700117; 10008060 4000100) unless the journal keeps them apart (schema 7).
CASHIER_NUMBER, SUPERVISOR_NUMBER, NUMBER_PASSWORD = "4000100", "700117", "num-secret"
PROFILES = [card.name for card in load_cards()]


class Day:
    """The shop's command line for one day: runs commands, keeps every output for the scan."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = root / "home"
        self.data = self.home / "data"
        self.work = root / "work"
        self.outputs: list[tuple[str, bytes]] = []
        self.commands = 0
        # Both scanners in common use, the anchored and the unanchored (greedy) regex, over
        # every file: the journal's too (the settlement's totals are subfields in its JSON,
        # the print queue's keys end in letters: no run of 20 digits is left to read into).
        self.scan = Scan()
        self.databases: list[str] = []  # the SQLite files (and WAL) the scan read
        self.home.mkdir()
        self.work.mkdir()
        # Every setting at its default but the cashier: operators are set up, so a sale
        # names one (sue, the supervisor, rings up too).
        (self.home / "config.toml").write_text('[operators]\ndefault_operator = "sue"\n')
        self.env = {key: value for key, value in os.environ.items()
                    if key not in ("TERMINAL_PORT", "TERMINAL_TOKEN_KEY_FILE")}
        self.env.update(TERMINAL_CONFIG=str(self.home / "config.toml"),
                        TERMINAL_DATA_DIR=str(self.data))

    def run(self, *args: str, stdin: str = "", codes: tuple[int, ...] = (0,)) -> str:
        process = subprocess.run(
            [sys.executable, "-m", "terminal", *args], input=stdin.encode(), capture_output=True,
            cwd=self.work, env=self.env, timeout=120,
        )
        self.commands += 1
        name = " ".join(args[:3])
        self.outputs += [(f"stdout of {name}", process.stdout),
                         (f"stderr of {name}", process.stderr)]
        assert process.returncode in codes, (
            args, process.returncode, process.stdout[-2000:], process.stderr[-2000:])
        return process.stdout.decode("utf-8")

    def json(self, *args: str, **kwargs) -> dict:
        return json.loads(self.run(*args, "--json", **kwargs))

    def supervised(self, *args: str, codes: tuple[int, ...] = (0,)) -> str:
        return self.run(*args, "--supervisor", "sue", "--password-stdin",
                        stdin=SUPERVISOR_PASSWORD + "\n", codes=codes)


@pytest.fixture(scope="module")
def busy_day(tmp_path_factory: pytest.TempPathFactory) -> Day:
    """One day for all the tests of this module (it takes a minute or two)."""
    day = Day(tmp_path_factory.mktemp("busy-day"))
    day.run("operator", "add", "boss", "--role", "admin", "--password-stdin",
            stdin=ADMIN_PASSWORD + "\n")
    day.run("operator", "add", "sue", "--role", "supervisor", "--admin", "boss",
            "--password-stdin", stdin=f"{ADMIN_PASSWORD}\n{SUPERVISOR_PASSWORD}\n")
    for number, role in ((SUPERVISOR_NUMBER, "supervisor"), (CASHIER_NUMBER, "cashier")):
        day.run("operator", "add", number, "--role", role, "--admin", "boss",
                "--password-stdin", stdin=f"{ADMIN_PASSWORD}\n{NUMBER_PASSWORD}\n")
    day.run("sign-on")
    # A reader held open all day, as a back-office tool would: SQLite then keeps the
    # journal's write-ahead log on disk (the last connection to close removes it), and
    # the scan reads the WAL's frames too.
    reader = sqlite3.connect(day.data / "journal.sqlite3")
    reader.execute("SELECT count(*) FROM entries").fetchone()
    approved: list[dict] = []
    for round_ in range(4):
        for number, card in enumerate(PROFILES):
            amount = f"{10 + 7 * round_ + number}.{(37 * number + round_) % 100:02d}"
            args = ["sale", amount, "--card", card]
            if number % 3 == 0:
                args.append("--print")
            if number % 4 == 1:
                args.insert(0, "-v")
            result = day.json(*args, codes=(0, 1))
            if result["approved"] and card == "approved":
                approved.append(result)
    assert len(approved) >= 4
    day.supervised("void", "--rrn", approved[0]["rrn"], "--print")
    day.supervised("refund", "5.00", "--rrn", approved[1]["rrn"], "--reason", "returned")
    day.supervised("refund", "1.00", "--rrn", approved[2]["rrn"], "--reason", "other",
                   "--note", "scratched box", "--json")
    numbered = day.json("sale", "8.88", "--operator", CASHIER_NUMBER)
    day.run("void", "--rrn", numbered["rrn"], "--operator", CASHIER_NUMBER, "--supervisor",
            SUPERVISOR_NUMBER, "--password-stdin", stdin=NUMBER_PASSWORD + "\n")
    preauth = day.json("preauth", "50.00")
    day.run("-v", "preauth", "complete", "55.00", "--rrn", preauth["rrn"], "--print")
    held = day.json("preauth", "20.00", "--card", "contactless")
    day.run("preauth", "cancel", "--rrn", held["rrn"], "--card", "contactless")
    day.run("balance")
    day.json("balance", "--card", "limited")
    day.run("echo")
    trace = day.work / "sale.trace"
    day.run("trace", "record", str(trace), "sale", "7.77", "--card", "approved")
    day.run("--trace", str(day.work / "refund.trace"), "refund", "2.00", "--rrn",
            approved[3]["rrn"], "--reason", "wrong-amount", "--supervisor", "sue",
            "--password-stdin", stdin=SUPERVISOR_PASSWORD + "\n")
    day.run("trace", "show", str(trace))
    frames = [json.loads(line) for line in trace.read_text().splitlines()[1:]]
    for frame in (f for f in frames if f.get("kind") == "frame"):
        decoded = day.json("decode", frame["hex"])
        assert "64" in decoded["fields"]  # a MAC to show
        day.run("decode", frame["hex"].replace(":", ""))
    day.run("-vv", "sale", "3.33", "--receipt")
    day.run("reprint", "--last")
    day.run("reprint", "--rrn", approved[0]["rrn"], "--copy", "merchant")
    day.run("receipt", "--rrn", approved[1]["rrn"], "--png", str(day.work / "slip.png"))
    day.json("lookup", "--last4", approved[2]["card"][-4:])
    day.run("lookup", "--amount", f"{approved[3]['amount_fen'] / 100:.2f}")
    day.json("status", "--rrn", approved[1]["rrn"])
    day.json("recover")
    day.run("audit")
    day.json("journal", "verify")
    day.run("journal", "verify")
    day.run("journal", "export", "--format", "csv")
    day.json("operator", "list")
    day.run("bringup", "--printer", "virtual://", "--report", str(day.work / "bringup-report"),
            "--supervisor", "sue", "--password-stdin", stdin=SUPERVISOR_PASSWORD + "\n")
    day.supervised("settle", "--print")
    day.json("paths")
    scan_paths([day.root], day.scan)
    day.databases = [str(path) for path in _sqlite_files(day.root)]
    reader.close()
    for source, data in day.outputs:
        day.scan.add(source, data)
    return day


def _sqlite_files(root: Path) -> list[Path]:
    """SQLite databases by content, with their write-ahead logs and rollback journals."""
    found = []
    for path in (p for p in root.rglob("*") if p.is_file()):
        if path.name.endswith(("-wal", "-shm", "-journal")):
            found.append(path)
        else:
            with path.open("rb") as file:
                if file.read(16) == b"SQLite format 3\x00":
                    found.append(path)
    return found


def test_a_busy_day_leaves_no_card_like_number_in_any_output_or_file(busy_day):
    """Every file read raw (the journal's SQLite file and its WAL included) and every output."""
    day, scan = busy_day, busy_day.scan
    databases = day.databases
    assert any(name.endswith("journal.sqlite3") for name in databases)
    assert any(name.endswith("journal.sqlite3-wal") for name in databases)
    journal = day.data / "journal.sqlite3"
    with sqlite3.connect(journal) as db:
        records = db.execute("SELECT count(*) FROM chain").fetchone()[0]
        tokens = db.execute("SELECT count(card_token) FROM entries").fetchone()[0]
    assert records >= 200 and tokens >= 40, (records, tokens)  # a day long enough to tell
    assert scan.files >= 20 and day.commands >= 60 and scan.lines >= 5000
    found = [str(f) for f in scan.findings]
    print(f"\nbusy day: {day.commands} commands, {scan.files} files ({len(databases)} SQLite),"
          f" {scan.lines} lines, {scan.bytes} bytes scanned; {records} chain records,"
          f" {tokens} card tokens; {len(found)} card-like runs")
    assert found == [], "\n".join(found)


def test_a_busy_day_leaves_the_simulator_books_clean_to_the_strictest_scanner(busy_day):
    """The simulator's books (file and write-ahead log) read raw, every 13 to 19 digit window
    of every run checked: their digit columns never run together (simulator.ledger)."""
    books = [path for path in busy_day.databases if "simulator" in path]
    assert any(path.endswith("books.sqlite3") for path in books), busy_day.databases
    for mode in Mode:
        assert [str(f) for f in scan_paths([Path(p) for p in books], Scan(mode=mode)).findings] \
            == [], mode


def test_a_busy_day_stores_no_value_a_scanner_reads_a_card_number_into(busy_day):
    """Each value the databases hold, scanned alone (as a scanner that reads SQLite does),
    and no digest kept as text."""
    found, values = [], 0
    for path in _sqlite_files(busy_day.root):
        if path.name.endswith(("-wal", "-shm", "-journal")):
            continue
        with sqlite3.connect(path) as db:
            tables = [row[0] for row in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")]
            for table in tables:
                for row in db.execute(f"SELECT * FROM {table}"):
                    for value in row:
                        values += 1
                        data = value if isinstance(value, bytes) else str(value).encode()
                        found += [f"{path.name} {table}: {f}"
                                  for f in scan_bytes(data, mode=Mode.ANCHORED)]
    with sqlite3.connect(busy_day.data / "journal.sqlite3") as db:
        kinds = {row[0] for row in db.execute(
            "SELECT typeof(hash) FROM chain UNION SELECT typeof(prev_hash) FROM chain"
            " UNION SELECT typeof(card_token) FROM entries WHERE card_token IS NOT NULL"
            " UNION SELECT typeof(salt) FROM operators"
            " UNION SELECT typeof(password_hash) FROM operators")}
    assert kinds == {"blob"}
    assert values > 3000 and found == []


def test_a_busy_day_leaves_no_test_card_number_in_any_file_or_output(busy_day):
    """The scanner finds runs; this finds the simulator's own cards, whatever their check digit,
    straight or as hex (BCD in a frame, ASCII in a file)."""
    blobs = [path.read_bytes() for path in busy_day.root.rglob("*") if path.is_file()]
    blobs += [data for _, data in busy_day.outputs]
    texts = blobs + [blob.replace(b":", b"").upper() for blob in blobs]  # colon hex joined
    for card in load_cards():
        forms = [card.pan.encode(), card.pan.encode().hex().upper().encode()]
        if len(card.pan) % 2 == 0:
            forms += [bytes.fromhex(card.pan), card.pan.encode()]  # BCD, as in a frame
        assert not any(form in text for form in forms for text in texts), card.name
