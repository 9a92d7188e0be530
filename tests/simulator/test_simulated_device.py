"""SimulatedTerminal: framed bytes from the POS in, ACK/NAK and response frames out."""

from __future__ import annotations

import logging

import pytest
from sim_requests import NOW, TPDU, sale

from simulator import Ledger, SimulatedTerminal, SimulatorSettings, load_cards
from terminal.clock import FakeClock
from terminal.link import ACK, NAK, LinkTimers, decode_frame, encode_frame
from terminal.protocol import decode, encode
from terminal.protocol.message import Message


@pytest.fixture
def clock():
    return FakeClock()


def _device(clock, **settings) -> SimulatedTerminal:
    return SimulatedTerminal(
        SimulatorSettings(**settings),
        clock=clock,
        cards=load_cards(),
        ledger=Ledger(),
        wall_time=lambda: NOW,
    )


def _response(output: bytes) -> Message:
    """The message in the one response frame that follows the ACK in ``output``."""
    assert output[:1] == bytes([ACK]), output.hex(" ")
    return decode(decode_frame(output[1:]), "cup")


def test_framed_sale_gets_an_ack_and_an_approved_0210(clock):
    device = _device(clock)
    device.feed(encode_frame(encode(sale(1234, trace="000052"))))
    response = _response(device.read_output())
    assert response.mti == "0210"
    assert response[39] == "00"
    assert response[11] == "000052"
    assert response.tpdu == TPDU.reply()
    assert device.ledger.entries()[0].amount == 1234


def test_a_request_split_across_reads_is_answered_once_complete(clock):
    device = _device(clock)
    frame = encode_frame(encode(sale()))
    device.feed(frame[:10])
    assert device.read_output() == b""
    clock.advance(0.05)
    device.feed(frame[10:])
    assert _response(device.read_output())[39] == "00"


def test_a_corrupted_frame_gets_a_nak_and_no_response(clock):
    device = _device(clock)
    frame = bytearray(encode_frame(encode(sale())))
    frame[-1] ^= 0xFF  # wrong LRC
    device.feed(bytes(frame))
    assert device.read_output() == bytes([NAK])
    assert len(device.ledger) == 0


def test_a_response_not_acked_is_resent_until_max_sends(clock, caplog):
    device = _device(clock, link=LinkTimers(ack_timeout=1.0, max_sends=3))
    device.feed(encode_frame(encode(sale())))
    first = device.read_output()[1:]
    assert device.next_deadline() == pytest.approx(1.0)
    sends = [first]
    for _ in range(2):
        clock.advance(1.0)
        device.poll()
        sends.append(device.read_output())
    assert sends == [first, first, first]
    with caplog.at_level(logging.WARNING, logger="simulator"):
        clock.advance(1.0)
        device.poll()
    assert device.read_output() == b""
    assert device.next_deadline() is None
    assert "response not delivered" in caplog.text
    assert len(device.ledger) == 1  # resends are the same response, booked once


def test_a_nak_of_the_response_makes_it_resend_at_once(clock):
    device = _device(clock)
    device.feed(encode_frame(encode(sale())))
    frame = device.read_output()[1:]
    device.feed(bytes([NAK]))
    assert device.read_output() == frame
    device.feed(bytes([ACK]))
    clock.advance(5.0)
    device.poll()
    assert device.read_output() == b""


def test_the_response_waits_for_the_response_delay(clock):
    device = _device(clock, response_delay=5.0)
    device.feed(encode_frame(encode(sale())))
    assert device.read_output() == bytes([ACK])
    assert device.next_deadline() == pytest.approx(5.0)
    clock.advance(4.9)
    device.poll()
    assert device.read_output() == b""
    clock.advance(0.1)
    device.poll()
    assert decode(decode_frame(device.read_output()), "cup")[39] == "00"


def test_a_new_request_while_a_response_awaits_its_ack_counts_as_that_ack(clock):
    """The POS's ACK of the first response was lost, but its next request shows it
    had the response: the link takes that as the ACK (no resend) and answers."""
    device = _device(clock)
    device.feed(encode_frame(encode(sale(trace="000001"))))
    first = _response(device.read_output())
    device.feed(encode_frame(encode(sale(trace="000002"))))
    output = device.read_output()
    assert output[:1] == bytes([ACK])
    second = decode(decode_frame(output[1:]), "cup")
    assert (first[11], second[11]) == ("000001", "000002")
    device.feed(bytes([ACK]))
    clock.advance(60)
    device.poll()
    assert device.read_output() == b""  # the first response is never resent


def test_a_disconnect_drops_the_unacked_response_and_the_next_pos_is_answered_at_once(clock):
    device = _device(clock, response_delay=0.0)
    device.feed(encode_frame(encode(sale(trace="000001"))))
    assert _response(device.read_output())[11] == "000001"  # never ACKed: the POS went away
    device.disconnected()
    device.feed(encode_frame(encode(sale(trace="000002"))))
    assert _response(device.read_output())[11] == "000002"
    device.feed(bytes([ACK]))
    clock.advance(60)
    device.poll()
    assert device.read_output() == b""  # no resend of the old response, ever
    assert [e.trace for e in device.ledger.entries()] == ["000001", "000002"]


def test_a_request_whose_fields_do_not_decode_gets_30(clock):
    device = _device(clock)
    good = encode(sale())
    # Envelope and bitmap intact, the message cut short inside its fields.
    device.feed(encode_frame(good[:30]))
    response = _response(device.read_output())
    assert response.mti == "0210"
    assert response[39] == "30"
    assert response.tpdu == TPDU.reply()
    assert len(device.ledger) == 0


def test_a_request_without_a_readable_envelope_is_acked_and_dropped(clock, caplog):
    device = _device(clock)
    with caplog.at_level(logging.WARNING, logger="simulator"):
        device.feed(encode_frame(b"\x60\x00"))
    assert device.read_output() == bytes([ACK])
    assert device.next_deadline() is None
    assert "dropped" in caplog.text


def test_the_card_presented_on_the_device_is_read_once(clock):
    device = _device(clock)
    device.present_card("insufficient")
    device.feed(encode_frame(encode(sale(5_000, trace="000001"))))
    assert _response(device.read_output())[39] == "51"
    device.feed(bytes([ACK]))
    device.feed(encode_frame(encode(sale(5_000, trace="000002"))))
    assert _response(device.read_output())[39] == "00"


def test_logs_never_carry_a_full_card_number(clock, caplog):
    device = _device(clock)
    with caplog.at_level(logging.DEBUG):
        for trace, card in (("000001", "approved"), ("000002", "lost")):
            device.present_card(card)
            device.feed(encode_frame(encode(sale(trace=trace))))
            device.read_output()
            device.feed(bytes([ACK]))
    assert "622609******0048" in caplog.text
    for card in load_cards():
        assert card.pan not in caplog.text


def test_defaults_build_a_working_device_with_no_arguments():
    device = SimulatedTerminal()
    device.feed(encode_frame(encode(sale())))
    assert _response(device.read_output())[39] == "00"


def test_a_request_that_fails_to_decode_is_logged_without_the_card_number(clock, caplog):
    pan = load_cards()["approved"].pan
    device = _device(clock)
    good = encode(sale(trace="000001", f2=pan))
    # Field 3 (BCD) follows field 2 directly: corrupt it so the error's hex window
    # and decoded fields sit right on the plain-BCD card number.
    at = good.index(bytes.fromhex(pan)) + len(pan) // 2
    bad = good[:at] + b"\xab" + good[at + 1 :]
    with caplog.at_level(logging.DEBUG):
        device.feed(encode_frame(bad))
    assert _response(device.read_output())[39] == "30"
    assert "field 3" in caplog.text
    text = caplog.text
    for start in range(len(pan) - 12):
        assert pan[start : start + 13] not in text
    spaced = " ".join(pan[i : i + 2] for i in range(0, len(pan), 2))
    assert spaced[:8] not in text  # "62 26 09": the hex window form
    assert pan[:12] not in text.replace(" ", "")
