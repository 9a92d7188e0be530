"""The host's checks on every response, before it is believed."""

from __future__ import annotations

import pytest

from terminal.config import TerminalSettings
from terminal.errors import LinkError, LinkTimeout, ProtocolError
from terminal.journal import Journal
from terminal.protocol import Message, Tpdu, decode, encode
from terminal.transactions.client import TerminalClient
from terminal.transactions.errors import TransactionInDoubt

SETTINGS = TerminalSettings()
KEY = b"t" * 32
PAN = "6226090000000048"


class Responder:
    """Answers each request with a response built by ``tamper`` from a correct one."""

    def __init__(self, tamper=lambda request, fields: None, fail: Exception | None = None):
        self.tamper = tamper
        self.fail = fail
        self.requests = []

    def send(self, request: bytes) -> None:
        if self.fail:
            raise self.fail
        self.pending = [*getattr(self, "stale", []), self._answer(request)]

    def receive(self, timeout: float | None = None) -> bytes:
        if not self.pending:
            raise LinkTimeout("nothing more")
        return self.pending.pop(0)

    def _answer(self, request: bytes) -> bytes:
        message = decode(request)
        self.requests.append(message)
        fields = dict(message.fields)
        fields.update({2: PAN, 37: "000000000001", 38: "123456", 39: "00",
                       12: "101010", 13: "1123"})
        mti = f"{int(message.mti) + 10:04d}"
        mti = self.tamper(message, fields) or mti
        return encode(Message(mti, fields, tpdu=message.tpdu.reply(), header=message.header))


_journals: list[Journal] = []


@pytest.fixture(autouse=True)
def _journal(tmp_path):
    """A real journal file per test; ``client()`` uses it (no MAC: the Responder has no keys)."""
    _journals.append(Journal(tmp_path / "journal.sqlite3"))
    yield _journals[-1]
    _journals.pop().close()


def client(link) -> TerminalClient:
    return TerminalClient(link, SETTINGS, journal=_journals[-1], token_key=KEY)


def test_sale_request_carries_the_cup_sale_codes_and_amount_in_fen():
    link = Responder()
    result = client(link).sale(1234)
    request = link.requests[0]
    assert request.mti == "0200"
    assert (request[3], request[4], request[25], request[49]) == (
        "000000", "000000001234", "00", "156")
    assert request[60]["message_type"] == "22"
    assert result.approved and result.amount_fen == 1234
    assert result.card.masked == "622609******0048" and PAN not in repr(result)


@pytest.mark.parametrize(
    ("tamper", "field"),
    [
        # an answer for another trace is passed over; ours never comes
        (lambda rq, f: f.__setitem__(11, "999999"), None),
        (lambda rq, f: f.__setitem__(4, "000000009999"), "4"),
        (lambda rq, f: f.__setitem__(41, "99999999"), "41"),
        (lambda rq, f: "0410", "mti"),
        (lambda rq, f: (f.pop(39), None)[1], "39"),
        (lambda rq, f: (f.pop(41), None)[1], "41"),
        (lambda rq, f: (f.pop(4), None)[1], "4"),
        (lambda rq, f: f.__setitem__(54, "1002156X0000000000ZZ"), "54"),
    ],
)
def test_sale_response_that_does_not_answer_the_request_leaves_it_in_doubt(tamper, field):
    with pytest.raises(TransactionInDoubt) as caught:
        client(Responder(tamper)).sale(1234)
    assert caught.value.field == field
    assert caught.value.amount_fen == 1234 and len(caught.value.trace) == 6


def test_link_failure_during_a_sale_is_in_doubt_with_its_trace():
    with pytest.raises(TransactionInDoubt) as caught:
        client(Responder(fail=LinkError("no ACK after 3 sends"))).sale(500)
    assert caught.value.trace == "000001" and "no ACK" in str(caught.value)


def test_link_failure_during_an_echo_is_a_plain_link_error():
    with pytest.raises(LinkError) as caught:
        client(Responder(fail=LinkError("gone"))).echo()
    assert not isinstance(caught.value, TransactionInDoubt)


def test_sign_on_takes_the_terminals_batch():
    def batch_7(request, fields):
        fields[60] = {**fields[60], "batch": "000007"}

    client(Responder(batch_7)).sign_on()
    assert _journals[-1].batch(SETTINGS.terminal_id) == "000007"


@pytest.mark.parametrize("amount", [0, -1, 10**12, 12.34, True])
def test_sale_amount_must_be_positive_integer_fen(amount):
    with pytest.raises((ValueError, TypeError)):
        client(Responder()).sale(amount)


def test_late_answer_to_an_earlier_trace_is_passed_over_for_ours(caplog):
    link = Responder()
    earlier = Message("0210", {11: "000099", 39: "00", 41: SETTINGS.terminal_id},
                      tpdu=Tpdu(), header=SETTINGS.header)
    link.stale = [encode(earlier)]
    result = client(link).sale(1234)
    assert result.approved and result.trace == "000001"
    assert "000099" in caplog.text


def test_declined_sale_need_not_echo_the_amount():
    def decline(request, fields):
        fields[39] = "51"
        fields.pop(4)

    result = client(Responder(decline)).sale(1234)
    assert result.response.code == "51" and not result.approved


def test_operator_interrupt_after_sending_a_sale_leaves_it_in_doubt():
    with pytest.raises(TransactionInDoubt) as caught:
        client(Responder(fail=KeyboardInterrupt())).sale(100)
    assert "interrupted" in str(caught.value)


def test_undecodable_response_never_shows_the_card_number_in_the_error():
    link = Responder()
    good = link._answer

    def bad_answer(request):
        wire = bytearray(good(request))
        at = wire.find(bytes.fromhex(PAN)) + len(PAN) // 2
        wire[at] = 0xAA  # field 3's first byte, right behind the PAN
        return bytes(wire)
    link._answer = bad_answer
    with pytest.raises(TransactionInDoubt) as caught:
        client(link).sale(1234)
    text = str(caught.value)
    assert caught.value.field == "3"
    assert PAN not in text.replace(" ", "") and "62 26 09" not in text


def test_undecodable_echo_response_is_a_protocol_error_without_the_raw_bytes():
    link = Responder()
    good = link._answer
    link._answer = lambda request: good(request)[:-3]
    with pytest.raises(ProtocolError) as caught:
        client(link).echo()
    assert caught.value.window == "" and caught.value.decoded == {}


def test_the_catalogue_row_names_the_echoed_fields_so_a_changed_25_is_not_believed():
    def condition_06(request, fields):
        fields[25] = "06"

    with pytest.raises(TransactionInDoubt) as caught:
        client(Responder(condition_06)).sale(1234)
    assert caught.value.field == "25"


def test_an_issuer_timeout_98_on_a_sale_is_in_doubt_not_a_decline():
    def issuer_timeout(request, fields):
        fields[39] = "98"
        fields.pop(4)

    with pytest.raises(TransactionInDoubt, match="98") as caught:
        client(Responder(issuer_timeout)).sale(1234)
    entry = _journals[-1].find_by_trace(SETTINGS.terminal_id, caught.value.trace)
    assert entry.state.value == "in_doubt"


def test_an_issuer_timeout_98_on_a_balance_inquiry_is_a_plain_decline():
    def issuer_timeout(request, fields):
        fields[39] = "98"

    result = client(Responder(issuer_timeout)).balance()
    assert (result.approved, result.response.code) == (False, "98")
