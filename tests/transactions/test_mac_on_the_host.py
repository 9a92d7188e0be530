"""The host's side of the MAC: it signs every money request and believes no response whose
MAC fails; keys come from the sign-on, checked, and are dropped when they stop working."""

from __future__ import annotations

import base64

import pytest
import serial

from simulator import SimulatedTerminal, SimulatorSettings
from terminal.config import TerminalSettings
from terminal.journal import EntryState, Journal, OriginalNotFound
from terminal.link import LinkTimers, SerialLink
from terminal.protocol import decode, encode
from terminal.protocol.security import KeyCheckError, verify
from terminal.transactions.client import Security, TerminalClient
from terminal.transactions.errors import NotSignedOn, TransactionInDoubt

KEY = b"k" * 32


class Tap:
    """The link, with the last response byte (inside field 64) flipped while ``tamper``."""

    def __init__(self, link):
        self.link = link
        self.tamper = False
        self.sent: list[bytes] = []

    def send(self, data: bytes) -> None:
        self.sent.append(data)
        self.link.send(data)

    def receive(self, timeout=None) -> bytes:
        data = self.link.receive(timeout)
        return data[:-1] + bytes([data[-1] ^ 0x01]) if self.tamper else data


@pytest.fixture
def bench(tmp_path):
    device = SimulatedTerminal(SimulatorSettings(ledger_file=tmp_path / "books.sqlite3"))
    port = serial.serial_for_url("sim://", simulator=device, timeout=0.05)
    journal = Journal(tmp_path / "journal.sqlite3")
    tap = Tap(SerialLink(port, LinkTimers(response_timeout=5.0)))
    client = TerminalClient(tap, TerminalSettings(), journal=journal, token_key=KEY,
                            security=Security())
    yield client, tap, device, journal
    port.close()
    journal.close()
    device.ledger.close()


def test_the_first_money_request_signs_on_and_every_money_request_carries_a_good_mac(bench):
    client, tap, device, _ = bench
    result = client.sale(1_000)
    assert result.approved
    sign_on, sale = (decode(data) for data in tap.sent)
    assert sign_on.mti == "0800" and sign_on[60]["network_code"] == "003"
    assert 64 not in sign_on
    keys = device.terminal.working_keys
    assert verify(tap.sent[1], keys.mac_key, "cup-ecb") and 64 in sale


def test_a_tampered_response_mac_leaves_the_sale_in_doubt_and_forces_a_new_sign_on(bench):
    client, tap, _device, journal = bench
    client.sign_on()
    tap.tamper = True
    with pytest.raises(TransactionInDoubt, match="MAC") as caught:
        client.sale(2_000)
    tap.tamper = False
    entry = journal.find_by_trace(client.lane, caught.value.trace)
    assert entry.state is EntryState.IN_DOUBT
    assert journal.load_keys(client.lane) is None  # the keys are not trusted any more
    sent_before = len(tap.sent)
    assert client.sale(300).approved
    assert decode(tap.sent[sent_before]).mti == "0800"  # signed on again first
    reversal = client.reverse(caught.value.trace)
    assert reversal.approved
    assert journal.get(entry.id).state is EntryState.REVERSED


def test_keys_the_terminal_no_longer_knows_are_replaced_by_a_new_sign_on(bench):
    client, tap, device, _journal = bench
    client.sign_on()
    device.terminal.ledger.set_state(device.terminal.lane, "working_keys", None)  # restarted
    assert client.sale(700).approved
    mtis = [decode(data).mti for data in tap.sent]
    assert mtis == ["0800", "0200", "0800", "0200"]  # A0, sign on, the same sale again


def test_working_keys_under_another_master_key_fail_their_check_values(bench):
    _client, tap, _device, journal = bench
    wrong = TerminalClient(tap, TerminalSettings(), journal=journal, token_key=KEY,
                           security=Security(master_key=bytes(range(16))))
    with pytest.raises(KeyCheckError, match="check value"):
        wrong.sign_on()
    assert journal.load_keys(wrong.lane) is None


def test_a_refund_is_never_reversed(bench):
    client, _tap, _device, _journal = bench
    sale = client.sale(1_000)
    refund = client.refund(500, rrn=sale.rrn)
    with pytest.raises(OriginalNotFound, match="never reversed"):
        client.reverse(refund.trace)


def test_a_refused_sign_on_leaves_money_requests_unsent_and_unjournaled(bench):
    _client, tap, _device, journal = bench

    class NoKeys:
        """A terminal that refuses the sign-on (97) and so gives no keys."""

        def __init__(self, link):
            self.link = link

        def send(self, data):
            self.link.send(data)

        def receive(self, timeout=None):
            data = self.link.receive(timeout)
            message = decode(data)
            if message.mti == "0810":
                return encode(message.with_fields({62: None, 39: "97"}))
            return data

    bare = TerminalClient(NoKeys(tap), TerminalSettings(), journal=journal, token_key=KEY,
                          security=Security())
    with pytest.raises(NotSignedOn, match="sign on first"):
        bare.sale(100)
    assert [e.kind.value for e in journal.entries()] == ["sign_on"]
    assert [decode(d).mti for d in tap.sent] == ["0800"]


def test_working_keys_are_kept_as_bytes_and_text_kept_by_an_older_version_still_serves(bench):
    client, tap, _, journal = bench
    client.sign_on()
    (stored,) = journal.connection.execute("SELECT typeof(working_keys) FROM sessions").fetchone()
    assert stored == "blob"  # no base64 text beside the lane's digits
    packed = journal.load_keys(client.lane)
    journal.connection.execute(  # as the versions before kept them
        "UPDATE sessions SET working_keys = ?", (base64.b64encode(packed).decode("ascii"),)
    )
    again = TerminalClient(tap, TerminalSettings(), journal=journal, token_key=KEY,
                           security=Security())
    tap.sent.clear()
    assert again.sale(500).approved
    assert [decode(data).mti for data in tap.sent] == ["0200"]  # the kept keys served
