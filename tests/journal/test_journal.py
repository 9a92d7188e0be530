"""The journal: written before sending, counters that never repeat, no card numbers, originals."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
from datetime import datetime

import pytest
from typer.testing import CliRunner

from terminal.cli.app import app
from terminal.config import TerminalSettings
from terminal.database import open_database, transaction
from terminal.errors import ConfigError, LinkTimeout
from terminal.journal import SCHEMA_VERSION, EntryState, Journal, OriginalNotFound, saf
from terminal.journal.chain import FUNCTIONS, verify
from terminal.journal.schema import MIGRATIONS
from terminal.protocol import Message, Tpdu, decode, encode
from terminal.protocol.catalogue import Kind
from terminal.receipts.from_journal import receipt_from_entry
from terminal.transactions.client import TerminalClient
from terminal.transactions.errors import TransactionInDoubt

SETTINGS = TerminalSettings()
LANE = SETTINGS.terminal_id
NOW = datetime(2026, 3, 14, 10, 30, 15)
KEY = b"k" * 32
PAN = "6226090000000048"


class InspectingLink:
    """A link that, at the moment a request is written, reads the journal file from a
    connection of its own (as another process would) and answers or stays silent."""

    def __init__(self, path, answer: bool = True):
        self.path = path
        self.answer = answer
        self.seen_at_write: list[tuple[str, str, str]] = []
        self.sent: list[Message] = []
        self.pending: list[bytes] = []

    def send(self, data: bytes) -> None:
        request = decode(data)
        with sqlite3.connect(self.path) as db:
            self.seen_at_write += db.execute(
                "SELECT printf('%06d', trace), state, kind FROM entries WHERE trace = ?",
                (request[11],),
            ).fetchall()
        self.sent.append(request)
        if self.answer:
            fields = dict(request.fields)
            fields.update({2: PAN, 12: "103015", 13: "0314", 37: f"10301500{request[11][-4:]}",
                           38: "123456", 39: "00"})
            self.pending.append(encode(Message(f"{int(request.mti) + 10:04d}", fields,
                                               request.tpdu.reply(), request.header)))

    def receive(self, timeout=None) -> bytes:
        if not self.pending:
            raise LinkTimeout("silent")
        return self.pending.pop(0)


@pytest.fixture
def path(tmp_path):
    return tmp_path / "journal.sqlite3"


def _client(journal, link):
    return TerminalClient(link, SETTINGS, journal=journal, token_key=KEY,
                          wall_time=lambda: NOW)


def test_the_pending_row_exists_before_the_first_byte_is_written(path):
    link = InspectingLink(path)
    with Journal(path) as journal:
        result = _client(journal, link).sale(1234)
        assert link.seen_at_write == [(result.trace, "pending", "sale")]
        assert journal.get(result.journal_id).state is EntryState.APPROVED


def test_a_request_with_no_answer_stays_in_the_journal_in_doubt_with_what_reverses_it(path):
    link = InspectingLink(path, answer=False)
    with Journal(path) as journal:
        with pytest.raises(TransactionInDoubt) as caught:
            _client(journal, link).sale(500)
        (entry,) = journal.entries()
        assert (entry.state, entry.trace) == (EntryState.IN_DOUBT, caught.value.trace)
        assert entry.request["fields"]["4"] == "000000000500"
        assert entry.request["mti"] == "0200" and "64" not in entry.request["fields"]


def _draw(path, count, queue):
    with Journal(path) as journal:
        traces = []
        for _ in range(count):
            entry, _ = journal.begin(
                LANE, Kind.ECHO, lambda t, b: Message("0820", {11: t}, Tpdu(), "603200320002"),
                now=NOW,
            )
            traces.append(entry.trace)
        queue.put(traces)


def test_traces_never_repeat_across_processes(path):
    Journal(path).close()
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    workers = [context.Process(target=_draw, args=(path, 40, queue)) for _ in range(4)]
    for worker in workers:
        worker.start()
    drawn = [trace for _ in workers for trace in queue.get(timeout=60)]
    for worker in workers:
        worker.join(30)
    assert len(drawn) == 160 and len(set(drawn)) == 160
    with Journal(path) as journal:
        assert journal.last_trace(LANE) == 160


def test_the_trace_wraps_from_999999_to_000001(path):
    with Journal(path) as journal, journal._db:
        journal._db.execute("INSERT INTO counters VALUES (?, 'trace', 999999)", (LANE,))
    with Journal(path) as journal:
        entry, _ = journal.begin(
            LANE, Kind.ECHO, lambda t, b: Message("0820", {11: t}), now=NOW
        )
        assert entry.trace == "000001"


def test_the_file_is_wal_with_full_sync_a_schema_version_and_a_lane_on_every_table(path):
    Journal(path).close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            columns = [r[1] for r in db.execute(f"PRAGMA table_info({table})")]
            assert "lane" in columns, table
    with Journal(path) as journal:
        assert journal._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_a_journal_from_a_newer_program_is_refused(path):
    Journal(path).close()
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    with pytest.raises(ConfigError, match="newer version"):
        Journal(path)


def test_an_unknown_original_is_an_error_before_anything_is_sent(path):
    link = InspectingLink(path)
    with Journal(path) as journal:
        client = _client(journal, link)
        sale = client.sale(1000)
        with pytest.raises(OriginalNotFound, match="RRN 999999999999"):
            client.void(rrn="999999999999")
        with pytest.raises(OriginalNotFound, match="trace 000077"):
            client.refund(100, trace="77", date="0314")
        assert [m.mti for m in link.sent] == ["0200"]
        found = client.find_original(Kind.REFUND, None, sale.trace, "0314")
        assert found.rrn == sale.rrn


def test_void_and_refund_requests_carry_the_originals_references_and_decode(path, tmp_path):
    link = InspectingLink(path)
    with Journal(path) as journal:
        client = _client(journal, link)
        sale = client.sale(1000)
        client.refund(400, rrn=sale.rrn, reason="returned")
        other = client.sale(1000)  # a sale with a refund cannot be voided (issue 8)
        client.void(trace=other.trace)
    for request, original in ((link.sent[1], sale), (link.sent[3], other)):
        shown = CliRunner().invoke(app, ["decode", encode(request).hex()])
        assert shown.exit_code == 0, shown.output
        fields = json.loads(shown.stdout)["fields"]
        assert fields["37"] == original.rrn and fields["38"] == original.auth_code
        assert fields["61"]["original_trace"] == original.trace
        assert fields["61"]["original_batch"] == original.batch
        assert fields["61"]["original_date"] == "0314"
    assert [json.loads(CliRunner().invoke(app, ["decode", encode(m).hex()]).stdout)["mti"]
            for m in link.sent] == ["0200", "0220", "0200", "0200"]


def test_no_full_card_number_in_the_journal_file(path):
    link = InspectingLink(path)
    with Journal(path) as journal:
        client = _client(journal, link)
        sale = client.sale(1000)
        client.refund(400, rrn=sale.rrn)
        assert journal.get(sale.journal_id).card_masked == "622609******0048"
    stored = b"".join(p.read_bytes() for p in path.parent.glob("journal.sqlite3*"))
    assert b"622609******0048" in stored
    assert PAN.encode() not in stored
    assert bytes.fromhex(PAN) not in stored


def test_an_exchange_journals_where_it_went_and_a_reprint_believes_it_over_the_lane_port(path):
    with Journal(path) as journal:
        client = TerminalClient(InspectingLink(path), SETTINGS, journal=journal, token_key=KEY,
                                wall_time=lambda: NOW, simulated=False)
        entry = journal.get(client.sale(1234).journal_id)
    assert entry.simulated is False
    assert not receipt_from_entry(entry, merchant_name="", simulated=True).simulated


def test_a_version_2_journal_is_upgraded_with_its_rows_unmarked_and_its_chain_whole(path):
    db = open_database(path, MIGRATIONS[:2], what="journal", functions=FUNCTIONS)
    with transaction(db):
        db.execute(
            "INSERT INTO entries (lane, kind, state, mti, trace, batch, request, created_at)"
            " VALUES (?, 'sale', 'approved', '0200', '000001', '000001', '{}', ?)",
            (LANE, NOW.isoformat()),
        )
    db.close()
    with Journal(path) as journal:
        [entry] = journal.entries()
        assert (entry.simulated, entry.card_organisation) == (None, None)
        assert journal.connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert verify(journal.connection).ok
        # an old entry's reprint follows the lane's port, as before
        assert receipt_from_entry(entry, merchant_name="", simulated=True).simulated


class RecordingJournal(Journal):
    """The journal, keeping what :meth:`begin` handed back beside the row read afresh."""

    def __init__(self, path):
        super().__init__(path)
        self.begun = []

    def begin(self, *args, **kwargs):
        entry, request = super().begin(*args, **kwargs)
        self.begun.append((entry, self.get(entry.id)))
        return entry, request


def test_begin_hands_back_the_row_exactly_as_a_later_read_finds_it(path):
    # begin builds the entry from what it wrote instead of reading it back (the sale
    # waits for it): any column it got wrong would mislead a receipt or a recovery.
    link = InspectingLink(path)
    with RecordingJournal(path) as journal:
        client = _client(journal, link)
        client.operator = "0001"
        sale = client.sale(1000)
        client.refund(400, rrn=sale.rrn, supervisor="9001", reason="other",
                      note="left the box")
        other = client.sale(700)
        client.void(trace=other.trace, supervisor="9001")
        client.echo()
        link.answer = False
        with pytest.raises(TransactionInDoubt):
            client.sale(300)
        client.simulated = True
        with pytest.raises(TransactionInDoubt):
            client.sale(200)
        kinds = [begun.kind for begun, _ in journal.begun]
        assert kinds == [Kind.SALE, Kind.REFUND, Kind.SALE, Kind.VOID, Kind.ECHO, Kind.SALE,
                         Kind.SALE]
        for begun, stored in journal.begun:
            assert begun == stored
        refund = journal.begun[1][0]
        assert (refund.original_rrn, refund.supervisor, refund.refund_note) == (
            sale.rrn, "9001", "left the box")
        assert journal.begun[-1][0].simulated is True


def test_an_answer_completes_its_row_and_settles_its_queue_row_in_one_commit(path):
    with Journal(path) as journal:
        commits = []
        journal.connection.set_trace_callback(
            lambda sql: commits.append(sql) if sql.strip().upper() == "COMMIT" else None)
        entry, _ = journal.begin(
            LANE, Kind.SALE, lambda t, b: Message("0200", {11: t, 4: "000000000100"}), now=NOW,
            amount_fen=100,
        )
        commits.clear()
        journal.complete(entry.id, now=NOW, response_code="00", rrn="1", auth_code="2",
                         local_date="0314", local_time="103015", card=None)
        assert len(commits) == 1
        assert saf.item_for(journal.connection, entry.id).state is saf.SafState.CLEARED
        # A queued reversal or resend that this answer answered is done, not cleared.
        second, _ = journal.begin(
            LANE, Kind.REFUND, lambda t, b: Message("0220", {11: t, 4: "000000000100"}),
            now=NOW, amount_fen=100,
        )
        item = saf.item_for(journal.connection, second.id)
        saf.set_state(journal.connection, item.id, saf.SafState.QUEUED, NOW, error="silent")
        journal.complete(second.id, now=NOW, response_code="00", rrn="3", auth_code="4",
                         local_date="0314", local_time="103016", card=None)
        answered = saf.item_for(journal.connection, second.id)
        assert (answered.state, answered.next_at) == (saf.SafState.ANSWERED, None)
        assert verify(journal.connection).ok
