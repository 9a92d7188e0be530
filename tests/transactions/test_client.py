"""The host's checks on every response, before it is believed."""

from __future__ import annotations

import pytest

from terminal.config import TerminalSettings
from terminal.errors import LinkError
from terminal.protocol import decode, encode
from terminal.transactions.client import TerminalClient
from terminal.transactions.errors import ResponseMismatch, TransactionInDoubt
from terminal.transactions.state import HostState

SETTINGS = TerminalSettings()
KEY = b"t" * 32
PAN = "6226090000000048"


class Responder:
    """Answers each request with a response built by ``tamper`` from a correct one."""

    def __init__(self, tamper=lambda request, fields: None, fail: Exception | None = None):
        self.tamper = tamper
        self.fail = fail
        self.requests = []

    def exchange(self, request: bytes, timeout: float | None = None) -> bytes:
        if self.fail:
            raise self.fail
        message = decode(request)
        self.requests.append(message)
        fields = dict(message.fields)
        fields.update({2: PAN, 37: "000000000001", 38: "123456", 39: "00",
                       12: "101010", 13: "1123"})
        mti = f"{int(message.mti) + 10:04d}"
        mti = self.tamper(message, fields) or mti
        return encode(message.with_fields(fields, mti=mti, tpdu=message.tpdu.reply()))


def client(link) -> TerminalClient:
    return TerminalClient(link, SETTINGS, state=HostState(None), token_key=KEY)


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
        (lambda rq, f: f.__setitem__(11, "999999"), "11"),
        (lambda rq, f: f.__setitem__(4, "000000009999"), "4"),
        (lambda rq, f: f.__setitem__(41, "99999999"), "41"),
        (lambda rq, f: "0410", "mti"),
        (lambda rq, f: (f.pop(39), None)[1], "39"),
    ],
)
def test_sale_response_that_does_not_answer_the_request_leaves_it_in_doubt(tamper, field):
    with pytest.raises(TransactionInDoubt) as caught:
        client(Responder(tamper)).sale(1234)
    assert isinstance(caught.value.__cause__, ResponseMismatch)
    assert caught.value.__cause__.field == field
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

    state = HostState(None)
    TerminalClient(Responder(batch_7), SETTINGS, state=state, token_key=KEY).sign_on()
    assert state.batch == "000007"


@pytest.mark.parametrize("amount", [0, -1, 10**12, 12.34, True])
def test_sale_amount_must_be_positive_integer_fen(amount):
    with pytest.raises((ValueError, TypeError)):
        client(Responder()).sale(amount)
