"""The request's bytes travel while the journal records it; its last byte waits for the
commit. Over a real pty, against the simulator, with a real SQLite journal file."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import serial

import terminal.transactions.client as client_module
from simulator import SimulatedTerminal, SimulatorSettings
from simulator.serve import PtySimulator
from terminal.config import TerminalSettings
from terminal.errors import ProtocolError
from terminal.journal import Journal
from terminal.link import SerialLink
from terminal.link.frame import encode_frame
from terminal.transactions.client import TerminalClient

pytestmark = pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pty")

KEY = b"t" * 32


class WatchingPort:
    """The host's port; at each write, what another process would read in the journal."""

    def __init__(self, port: serial.Serial, journal_path: Path) -> None:
        self._port = port
        self._journal_path = journal_path
        self.writes: list[tuple[bytes, list[tuple[int, str]]]] = []

    def write(self, data: bytes) -> int | None:
        with sqlite3.connect(self._journal_path) as other:
            rows = other.execute("SELECT trace, state FROM entries ORDER BY id").fetchall()
        self.writes.append((bytes(data), [tuple(row) for row in rows]))
        return self._port.write(data)

    def __getattr__(self, name: str):
        return getattr(self._port, name)

    def __setattr__(self, name: str, value) -> None:
        if name == "timeout":
            self._port.timeout = value
        else:
            super().__setattr__(name, value)


class SlowJournal(Journal):
    """A journal whose disk takes ``pause`` seconds once the request is built."""

    pause = 0.0

    def begin(self, *args, on_request=None, **kwargs):
        def slow(request):
            if on_request is not None:
                on_request(request)
            time.sleep(self.pause)

        return super().begin(*args, on_request=slow, **kwargs)


@pytest.fixture
def terminal() -> Iterator[tuple[SimulatedTerminal, str]]:
    device = SimulatedTerminal(SimulatorSettings())
    with PtySimulator(device) as served:
        yield device, served.path
    device.ledger.close()


@contextmanager
def _lane(terminal, tmp_path: Path, journal_class: type[Journal] = Journal) -> Iterator[Lane]:
    """A host on the simulator's pty, with a journal file, watched at every write."""
    device, path = terminal
    journal_path = tmp_path / "journal.sqlite3"
    with journal_class(journal_path) as journal:
        port = WatchingPort(serial.Serial(path, timeout=0.05), journal_path)
        client = TerminalClient(SerialLink(port), TerminalSettings(), journal=journal,
                                token_key=KEY)
        try:
            yield Lane(device, journal, client, port)
        finally:
            port.close()


@dataclass
class Lane:
    device: SimulatedTerminal
    journal: Journal
    client: TerminalClient
    port: WatchingPort

    def booked(self) -> list[tuple[str, int]]:
        """What the simulated acquirer booked: (kind, amount) per entry."""
        return [(entry.kind, entry.amount) for entry in self.device.ledger.entries()]


def _bad_frames(device: SimulatedTerminal, expected: int) -> int:
    """The simulator's count of bad frames once it reaches ``expected`` (or after 2 s)."""
    deadline = time.monotonic() + 2
    while device.link.stats.bad_frames < expected and time.monotonic() < deadline:
        time.sleep(0.01)
    return device.link.stats.bad_frames


def test_a_request_frame_is_written_before_its_row_commits_and_completed_only_after(
    terminal, tmp_path
):
    with _lane(terminal, tmp_path) as lane:
        result = lane.client.sale(1234)
    assert result.approved
    frame_writes = [(data, rows) for data, rows in lane.port.writes if data != b"\x06"]
    (head, rows_at_head), (tail, rows_at_tail) = frame_writes
    assert head[0] == 0x02 and len(tail) == 1
    frame = head + tail
    assert frame == encode_frame(frame[3:-2])  # one whole, good frame in two writes
    assert rows_at_head == []  # the bytes left while the row was being written
    assert rows_at_tail == [(int(result.trace), "pending")]  # the last one after the commit
    assert lane.booked() == [("sale", 1234)]


def test_a_request_the_journal_cannot_record_is_spoiled_on_the_line_and_never_booked(
    terminal, tmp_path
):
    with _lane(terminal, tmp_path) as lane:
        lane.journal.connection.execute(
            "CREATE TEMP TRIGGER disk_full BEFORE INSERT ON entries"
            " BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
        )
        with pytest.raises(sqlite3.DatabaseError, match="disk is full"):
            lane.client.sale(500)
        assert _bad_frames(lane.device, 1) == 1  # the terminal NAKed the spoiled frame
        assert lane.journal.entries() == [] and lane.booked() == []
        assert lane.client.link.endpoint.stats.withdrawn == 1
        lane.journal.connection.execute("DROP TRIGGER disk_full")
        again = lane.client.sale(500)
    assert again.approved
    assert lane.booked() == [("sale", 500)]


@pytest.mark.parametrize("pause", [0.15, 0.3], ids=["past-half-the-gap", "past-the-gap"])
def test_a_frame_held_too_long_by_a_slow_disk_is_sent_again_whole_and_booked_once(
    terminal, tmp_path, pause
):
    # Past half the 200 ms byte-gap limit the terminal may drop the frame as stalled
    # (past the limit it does): the frame is spoiled and sent again whole, at once.
    with _lane(terminal, tmp_path, SlowJournal) as lane:
        lane.journal.pause = pause
        started = time.monotonic()
        result = lane.client.sale(700)
        took = time.monotonic() - started
    stats = lane.client.link.endpoint.stats
    assert result.approved
    assert lane.booked() == [("sale", 700)]
    assert (stats.withdrawn, stats.frames_sent, stats.resends) == (1, 1, 0)
    assert took < pause + 0.9  # no ACK timeout (1 s) was waited out


class RecordingLink:
    """A link that cannot hold a frame's last byte: it only sends whole messages."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def send(self, data: bytes) -> None:
        self.sent.append(data)

    def receive(self, timeout=None) -> bytes:
        raise AssertionError("nothing was sent, nothing to receive")


def _unencodable(monkeypatch) -> None:
    # A codec fault (a field the dialect cannot write): what cannot be made real here.
    def refuse(message, dialect="cup"):
        raise ProtocolError("value does not fit the field", field="42", offset=0)

    monkeypatch.setattr(client_module, "encode", refuse)


def test_a_request_that_cannot_be_encoded_is_neither_journaled_nor_sent(
    terminal, tmp_path, monkeypatch
):
    _unencodable(monkeypatch)
    with _lane(terminal, tmp_path) as lane:
        with pytest.raises(ProtocolError, match="field 42"):
            lane.client.sale(100)
        whole = RecordingLink()
        other = TerminalClient(whole, TerminalSettings(), journal=lane.journal, token_key=KEY)
        with pytest.raises(ProtocolError, match="field 42"):
            other.sale(100)
        assert lane.journal.entries() == []  # no pending row, no reversal prepared
        assert lane.journal.connection.execute("SELECT COUNT(*) FROM saf").fetchone()[0] == 0
    assert lane.port.writes == [] and whole.sent == [] and lane.booked() == []
