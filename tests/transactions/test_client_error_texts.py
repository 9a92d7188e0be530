"""What the client's errors say: where, once, and never the digits of a garbled field."""

from __future__ import annotations

import pytest
from test_client import PAN, Responder, _journal, client  # noqa: F401 - autouse journal

from terminal.errors import ProtocolError


def test_a_malformed_balance_entry_is_not_echoed_in_the_error():
    garbled = f"10{PAN}XY"  # 20 characters: a card number where a balance entry belongs

    def tamper(request, fields):
        fields[54] = garbled

    with pytest.raises(ProtocolError) as caught:
        client(Responder(tamper)).balance()
    text = str(caught.value)
    assert "field 54" in text and "malformed" in text
    assert PAN not in text and garbled not in text and PAN[6:12] not in text


class CorruptedResponder(Responder):
    """Answers with the terminal id's first byte replaced by one no ``ans`` field allows."""

    def _answer(self, request: bytes) -> bytes:
        answer = super()._answer(request)
        at = answer.index(b"10008060")
        return answer[:at] + b"\xff" + answer[at + 1 :]


def test_a_protocol_error_names_its_location_once():
    with pytest.raises(ProtocolError) as caught:
        client(CorruptedResponder()).echo()
    text = str(caught.value)
    assert text.count("field 41") == 1, text
    assert text.count("byte offset") == 1, text
    assert caught.value.field == "41" and caught.value.offset is not None
