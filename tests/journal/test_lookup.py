"""Lookups on generated data agree with a plain filter over every entry."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import pytest

from terminal.card_data import protect_pan
from terminal.journal import Journal, lookup
from terminal.protocol import Message
from terminal.protocol.catalogue import Kind

LANE = "10008060"
START = datetime(2026, 3, 1, 9, 0, 0)
PANS = ["6226090000000048", "6217001234567890", "6212345678901234", "4761739001010010"]


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    rng = random.Random(7)
    journal = Journal(tmp_path_factory.mktemp("lookup") / "journal.sqlite3")
    for n in range(300):
        when = START + timedelta(hours=rng.randint(0, 24 * 20))
        kind = rng.choice([Kind.SALE, Kind.SALE, Kind.REFUND, Kind.BALANCE])
        amount = rng.choice([100, 1234, 5000, rng.randint(1, 9999)])
        entry, _ = journal.begin(
            LANE, kind, lambda t, b: Message("0200", {11: t}), now=when, amount_fen=amount,
            operator=rng.choice(["carl", "dina", None]),
        )
        if rng.random() < 0.9:
            journal.complete(entry.id, now=when, response_code=rng.choice(["00", "00", "51"]),
                             rrn=f"{n:012d}", auth_code=f"{n:06d}", local_date=f"{when:%m%d}",
                             local_time=f"{when:%H%M%S}",
                             card=protect_pan(rng.choice(PANS), b"k" * 32))
    yield journal
    journal.close()


def _brute(entries, f: lookup.Filters):
    def keep(e):
        made = datetime.fromisoformat(e.created_at).date()
        start, end = (f.day, f.day) if f.day else (f.start, f.end)
        return all((
            f.rrn is None or e.rrn == f.rrn,
            f.trace is None or e.trace == f"{int(f.trace):06d}",
            f.auth_code is None or e.auth_code == f.auth_code,
            f.last4 is None or (e.card_masked or "").endswith(f.last4),
            f.amount_fen is None or e.amount_fen == f.amount_fen,
            start is None or made >= start,
            end is None or made <= end,
            f.operator is None or e.operator == f.operator,
            f.kind is None or e.kind is f.kind,
        ))
    return sorted(e.id for e in entries if keep(e))


def test_random_filter_combinations_find_exactly_what_a_plain_filter_finds(generated):
    rng = random.Random(11)
    entries = generated.entries()
    for _ in range(200):
        sample = rng.choice(entries)
        made = datetime.fromisoformat(sample.created_at).date()
        options = {
            "rrn": sample.rrn, "trace": str(int(sample.trace)), "auth_code": sample.auth_code,
            "last4": (sample.card_masked or "0000")[-4:], "amount_fen": sample.amount_fen,
            "day": made, "operator": sample.operator or "carl", "kind": sample.kind,
        }
        chosen = {k: v for k, v in options.items() if rng.random() < 0.4}
        if rng.random() < 0.3:
            chosen.pop("day", None)
            chosen["start"], chosen["end"] = made - timedelta(days=2), made + timedelta(days=1)
        filters = lookup.Filters(**chosen)
        found = sorted(e.id for e in lookup.find(generated, LANE, filters))
        assert found == _brute(entries, filters), chosen


def test_last4_amount_and_day_find_the_lost_receipts_sale(generated):
    sale = next(e for e in generated.entries() if e.kind is Kind.SALE and e.approved)
    found = lookup.find(generated, LANE, lookup.Filters(
        last4=sale.card_masked[-4:], amount_fen=sale.amount_fen,
        day=date.fromisoformat(sale.created_at[:10])))
    assert sale.id in [e.id for e in found]
