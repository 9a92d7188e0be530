"""The host believes the simulator's mark, not the port's name: a client that was not told
where its link leads (as for a pty or a socket) marks results and journal rows simulated
when the answers say so, and not when they do not. The mark cannot be stripped from a
MACed answer unnoticed."""

from __future__ import annotations

import pytest
import serial

from simulator import SimulatedTerminal, SimulatorSettings
from terminal.config import TerminalSettings
from terminal.errors import LinkTimeout
from terminal.journal import EntryState, Journal
from terminal.link import LinkTimers, SerialLink
from terminal.protocol import decode, encode
from terminal.protocol.identity import SIMULATOR_FIELD
from terminal.transactions.client import Security, TerminalClient
from terminal.transactions.errors import TransactionInDoubt

KEY = b"k" * 32


class Tap:
    """The link; with ``strip`` the answers lose field 59 on the way (a device that does
    not mark), with ``silent`` the next answer is swallowed."""

    def __init__(self, link):
        self.link = link
        self.strip = False
        self.silent = False

    def send(self, data: bytes) -> None:
        self.link.send(data)

    def receive(self, timeout=None) -> bytes:
        data = self.link.receive(timeout)
        if self.silent:
            self.silent = False
            raise LinkTimeout("no response (swallowed by the test)")
        if not self.strip:
            return data
        message = decode(data, "cup")
        return encode(message.with_fields({SIMULATOR_FIELD: None}), "cup")


@pytest.fixture
def bench(tmp_path):
    device = SimulatedTerminal(SimulatorSettings(ledger_file=tmp_path / "books.sqlite3"))
    port = serial.serial_for_url("sim://", simulator=device, timeout=0.05)
    journal = Journal(tmp_path / "journal.sqlite3")
    tap = Tap(SerialLink(port, LinkTimers(response_timeout=5.0)))
    client = TerminalClient(tap, TerminalSettings(), journal=journal, token_key=KEY,
                            security=Security())  # simulated: not said, as for a pty
    yield client, tap, journal
    port.close()
    journal.close()
    device.ledger.close()


def test_a_marked_answer_makes_the_result_and_every_journal_row_simulated(bench):
    client, _tap, journal = bench
    result = client.sale(1_234)
    assert result.approved and result.simulated
    assert result.to_dict()["simulated"] is True
    rows = journal.entries(client.lane)
    assert [(e.kind.value, e.simulated) for e in rows] == [("sign_on", True), ("sale", True)]


def test_answers_without_the_mark_are_not_simulated(bench):
    client, tap, journal = bench
    tap.strip = True
    result = client.echo()  # no MAC on an echo: the stripped answer is believed
    assert result.approved and not result.simulated
    assert journal.get(result.journal_id).simulated is False


def test_stripping_the_mark_from_a_maced_answer_breaks_its_mac(bench):
    client, tap, journal = bench
    client.sign_on()
    tap.strip = True
    with pytest.raises(TransactionInDoubt, match="MAC"):
        client.sale(2_000)
    sale = journal.entries(client.lane)[-1]
    assert sale.state is EntryState.IN_DOUBT


def test_a_request_left_unanswered_after_the_device_said_simulator_is_journaled_simulated(
    bench,
):
    client, tap, journal = bench
    client.sign_on()
    tap.silent = True
    with pytest.raises(TransactionInDoubt) as caught:
        client.sale(3_000)
    assert caught.value.simulated  # the CLI heads its error with the banner
    lost = journal.entries(client.lane)[-1]
    assert (lost.kind.value, lost.state, lost.simulated) == ("sale", EntryState.IN_DOUBT, True)


def test_the_settlement_result_and_its_rows_are_simulated(bench):
    client, _tap, journal = bench
    assert client.sale(500).approved
    settled = client.settle()
    assert settled.approved and settled.simulated and settled.totals is not None
    assert all(e.simulated for e in journal.entries(client.lane))


def test_a_sale_lost_before_anything_said_simulator_is_marked_when_the_simulator_reverses_it(
    bench,
):
    client, tap, journal = bench
    client.sign_on()
    # A new run of the POS: keys from the journal, so nothing has been answered yet.
    fresh = TerminalClient(tap, TerminalSettings(), journal=journal, token_key=KEY,
                           security=Security())
    tap.silent = True
    with pytest.raises(TransactionInDoubt) as caught:
        fresh.sale(4_000)
    lost = journal.find_by_trace(fresh.lane, caught.value.trace)
    assert not lost.simulated and not caught.value.simulated  # not known when it was sent
    reversal = fresh.reverse(caught.value.trace)
    assert reversal.approved and reversal.simulated
    # Approving its reversal, the simulator said it had booked the sale: it went there.
    assert journal.get(lost.id).simulated is True
    assert journal.get(lost.id).state is EntryState.REVERSED
