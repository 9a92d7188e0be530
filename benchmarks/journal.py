"""The journal at a million transactions: durable writes, lookups, settlement totals.

Run: ``.venv/bin/python benchmarks/journal.py`` (``--rows``, ``--durable``,
``--queries``, ``--keep DIR`` to keep the file). Prints one table.

* *durable*: sales through the real API (:meth:`Journal.begin` then
  :meth:`Journal.complete`, each its own ``synchronous=FULL`` transaction, with
  the prepared reversal and the hash chain written by the same transactions):
  what a till can journal per second.
* the rest of the million is loaded in large transactions through the same
  SQL and triggers (chain records included), spread over a year, 5,000 per
  batch, cards from a pool of 50,000 (masked + token only).
* *lookup*: "the customer lost the receipt": last 4 digits + amount + day
  (:func:`terminal.journal.lookup.find`), random existing transactions,
  median and 95th percentile; each must find its transaction.
* *settlement totals*: :func:`batch_totals` over the open batch's approved
  entries, as ``terminal settle`` computes them.
* *verify*: the whole chain and every row (``terminal journal verify``).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from terminal.card_data import protect_pan
from terminal.database import transaction
from terminal.journal import Journal, lookup
from terminal.journal.chain import verify
from terminal.protocol import Message, Tpdu
from terminal.protocol.catalogue import Kind
from terminal.protocol.json_shape import message_to_json
from terminal.transactions.client import batch_totals

LANE = "10008060"
KEY = b"b" * 32
PER_BATCH = 5_000
START = datetime(2026, 1, 1, 8, 0, 0)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--durable", type=int, default=2_000)
    parser.add_argument("--queries", type=int, default=1_000)
    parser.add_argument("--keep", type=Path, default=None)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        root = args.keep or Path(scratch)
        root.mkdir(parents=True, exist_ok=True)
        path = root / "journal.sqlite3"
        for old in root.glob("journal.sqlite3*"):
            old.unlink()
        rows = run(path, args.rows, args.durable, args.queries)
        size = sum(p.stat().st_size for p in root.glob("journal.sqlite3*"))
    rows.append(("journal file", f"{size / 1e6:,.0f} MB"))
    width = max(len(name) for name, _ in rows)
    print(f"{'measure':<{width}}  value")
    print(f"{'-' * width}  {'-' * 24}")
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    return 0


def run(path: Path, total: int, durable: int, queries: int) -> list[tuple[str, str]]:
    rng = random.Random(8583)
    cards = [protect_pan(_pan(rng), KEY) for _ in range(50_000)]
    template = _request()
    report: list[tuple[str, str]] = [("transactions", f"{total:,}")]
    with Journal(path) as journal:
        started = time.perf_counter()
        for n in range(durable):
            card = rng.choice(cards)
            entry, _ = journal.begin(LANE, Kind.SALE, lambda t, b: template, now=START,
                                     amount_fen=rng.randint(1, 500_000))
            journal.complete(entry.id, now=START, response_code="00", rrn=f"{n:012d}",
                             auth_code=f"{n % 1_000_000:06d}", local_date="0101",
                             local_time="080000", card=card)
        elapsed = time.perf_counter() - started
        report.append(("durable sales/s (begin + complete)", f"{durable / elapsed:,.0f}"))
        report.append(("durable commits/s", f"{2 * durable / elapsed:,.0f}"))

        started = time.perf_counter()
        _bulk(journal, rng, cards, template, durable, total)
        report.append(("bulk load (chain included)",
                       f"{time.perf_counter() - started:,.1f} s"))

        picks = [journal.get(rng.randint(1, total)) for _ in range(queries)]
        times = []
        for entry in picks:
            filters = lookup.Filters(
                last4=entry.card_masked[-4:], amount_fen=entry.amount_fen,
                day=datetime.fromisoformat(entry.created_at).date(),
            )
            started = time.perf_counter()
            found = lookup.find(journal, LANE, filters)
            times.append(time.perf_counter() - started)
            assert entry.id in {f.id for f in found}, "lookup missed its transaction"
        times.sort()
        report.append(("lookup last4+amount+day, median",
                       f"{statistics.median(times) * 1000:.2f} ms"))
        report.append(("lookup last4+amount+day, p95",
                       f"{times[int(len(times) * 0.95)] * 1000:.2f} ms"))

        batch = journal.batch(LANE)
        runs = []
        for _ in range(5):
            started = time.perf_counter()
            totals = batch_totals(journal.batch_entries(LANE, batch))
            runs.append(time.perf_counter() - started)
        report.append((f"settlement totals ({totals.debits_count:,} sales in batch)",
                       f"{statistics.median(runs) * 1000:.0f} ms"))

        started = time.perf_counter()
        result = verify(journal.connection)
        report.append(("journal verify (whole chain)",
                       f"{time.perf_counter() - started:,.1f} s"
                       f" ({'intact' if result.ok else 'NOT intact'})"))
    return report


def _bulk(journal: Journal, rng: random.Random, cards: list, template: Message,
          start: int, total: int) -> None:
    """The rest of the rows, 50,000 per transaction, through the journal's own triggers."""
    request = json.dumps(message_to_json(template, "cup"))
    span = 365 * 24 * 3600
    chunk = 50_000
    db = journal.connection
    n = start
    while n < total:
        rows = []
        for i in range(n, min(n + chunk, total)):
            card = rng.choice(cards)
            when = START + timedelta(seconds=span * i // total)
            roll = rng.random()
            kind = Kind.SALE if roll < 0.9 else Kind.REFUND if roll < 0.95 else Kind.VOID
            rows.append((
                LANE, kind.value, "approved", "0200", f"{i % 999_999 + 1:06d}",
                f"{i // PER_BATCH + 1:06d}", rng.randint(1, 500_000), request,
                when.isoformat(), when.isoformat(), "00", f"{i:012d}", f"{i % 1_000_000:06d}",
                f"{when:%m%d}", f"{when:%H%M%S}", card.masked, card.token,
            ))
        with transaction(db):
            db.executemany(
                "INSERT INTO entries (lane, kind, state, mti, trace, batch, amount_fen, request,"
                " created_at, completed_at, response_code, rrn, auth_code, local_date,"
                " local_time, card_masked, card_token) VALUES"
                " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows,
            )
        n += len(rows)
    journal.set_batch(LANE, f"{(total - 1) // PER_BATCH + 1:06d}")


def _request() -> Message:
    return Message("0200", {
        3: "000000", 4: "000000001234", 11: "000001", 25: "00", 41: LANE,
        42: "898100000000001", 49: "156",
        60: {"message_type": "22", "batch": "000001", "network_code": "000"},
    }, tpdu=Tpdu.fromhex("6000060000"), header="603200320002")


def _pan(rng: random.Random) -> str:
    digits = "622609" + "".join(rng.choice("0123456789") for _ in range(9))
    total = 0
    for index, char in enumerate(reversed(digits)):
        digit = int(char)
        if index % 2 == 0:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return digits + str((10 - total % 10) % 10)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
