"""A busy or flooded line does not fool the link: stale answers, late reads, arrival times.

Each test is one of the two ways a flood of requests nobody read used to end a
sale in doubt: the host taking a backlog ACK for the ACK of its own request,
and a reader that was busy elsewhere NAKing a frame whose bytes had all come in
time. Everything runs on a FakeClock.
"""

from __future__ import annotations

import pytest
from link_fakes import FakePort, reply_to_frames

from terminal.clock import FakeClock
from terminal.link import (
    ACK,
    NAK,
    FrameDecoder,
    FrameReceived,
    LinkEndpoint,
    LinkTimers,
    SendFailed,
    SendState,
    SerialLink,
    encode_frame,
)

REQUEST = b"\x60\x00\x03\x00\x00\x02\x00request"
RESPONSE = b"\x60\x00\x00\x00\x03\x02\x10response"
STALE = b"\x60\x00\x00\x00\x03\x02\x10stale answer"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=100.0)


# -- the frame decoder measures gaps between arrivals ---------------------------------


def test_bytes_stamped_with_their_arrival_are_no_gap_however_late_they_are_fed() -> None:
    decoder = FrameDecoder(inter_byte_timeout=0.2)
    frame = encode_frame(RESPONSE)
    assert decoder.feed(frame[:5], now=10.0) == []
    # Fed a second later (the reader was busy), but it arrived 10 ms after the first part.
    assert decoder.feed(frame[5:], now=10.01) == [FrameReceived(RESPONSE)]


def test_a_late_read_is_no_gap_when_the_input_was_never_seen_empty() -> None:
    decoder = FrameDecoder(inter_byte_timeout=0.2)
    frame = encode_frame(RESPONSE)
    decoder.feed(frame[:5], now=10.0)
    # Read 0.5 s later; the earliest it can have arrived is the last empty look (9.9).
    assert decoder.feed(frame[5:], now=10.5, since=9.9) == [FrameReceived(RESPONSE)]


def test_a_gap_the_input_was_seen_empty_through_is_a_timeout() -> None:
    decoder = FrameDecoder(inter_byte_timeout=0.2)
    frame = encode_frame(RESPONSE)
    decoder.feed(frame[:5], now=10.0)
    events = decoder.feed(frame[5:], now=10.5, since=10.3)
    assert events and events[0].field == "frame.timeout"


def test_a_received_frame_carries_when_its_first_byte_came() -> None:
    decoder = FrameDecoder()
    frame = encode_frame(RESPONSE)
    decoder.feed(frame[:3], now=5.0)
    [received] = decoder.feed(frame[3:], now=5.05)
    assert received.started_at == 5.0


# -- the endpoint takes no answer that came before its frame went out ----------------


def test_ack_that_arrived_before_our_frame_went_out_is_not_our_ack(clock: FakeClock) -> None:
    endpoint = LinkEndpoint(LinkTimers(), clock)
    endpoint.send(REQUEST)
    clock.advance(0.01)
    endpoint.data_to_write()  # written at 100.01
    endpoint.feed(bytes([ACK]), at=100.005)  # stamped by a reader before the write
    assert endpoint.send_state is SendState.WAITING_ACK
    assert endpoint.stats.stray_answers == 1
    endpoint.feed(bytes([ACK]), at=100.02)
    assert endpoint.send_state is SendState.DELIVERED


def test_nak_that_arrived_before_our_frame_went_out_costs_no_resend(clock: FakeClock) -> None:
    endpoint = LinkEndpoint(LinkTimers(), clock)
    endpoint.send(REQUEST)
    clock.advance(0.01)
    endpoint.data_to_write()
    endpoint.feed(bytes([NAK]), at=100.0)
    assert endpoint.sends == 1 and endpoint.data_to_write() == b""
    assert endpoint.stats.stray_answers == 1


def test_frame_begun_before_our_frame_went_out_is_not_an_implicit_ack(
    clock: FakeClock,
) -> None:
    endpoint = LinkEndpoint(LinkTimers(), clock)
    frame = encode_frame(STALE)
    endpoint.feed(frame[:4], at=100.0)  # the peer was already sending
    endpoint.send(REQUEST)
    clock.advance(0.01)
    endpoint.data_to_write()
    endpoint.feed(frame[4:], at=100.02)
    assert endpoint.pop_message() == STALE  # received and ACKed all the same
    assert endpoint.data_to_write() == bytes([ACK])
    assert endpoint.send_state is SendState.WAITING_ACK
    assert endpoint.stats.implicit_acks == 0


def test_messages_received_before_a_new_request_are_discarded_and_counted(
    clock: FakeClock,
) -> None:
    endpoint = LinkEndpoint(LinkTimers(), clock)
    endpoint.feed(encode_frame(STALE) + encode_frame(RESPONSE))
    assert endpoint.discard_messages() == 2
    assert endpoint.pop_message() is None
    assert endpoint.stats.stale_messages == 2


def test_the_same_answer_again_after_a_discarded_stale_copy_is_the_new_requests(
    clock: FakeClock,
) -> None:
    # A late answer to a request the POS gave up on waited on the port and was put
    # aside; the POS sent the same request again (a refund resent by recovery) and the
    # terminal answered it with the same bytes, inside the duplicate window.
    endpoint = LinkEndpoint(LinkTimers(), clock)
    endpoint.feed(encode_frame(RESPONSE))
    assert endpoint.discard_messages() == 1
    endpoint.send(REQUEST)
    endpoint.data_to_write()
    clock.advance(0.1)
    endpoint.feed(bytes([ACK]))
    clock.advance(0.5)
    endpoint.feed(encode_frame(RESPONSE))
    assert endpoint.pop_message() == RESPONSE
    assert endpoint.stats.duplicates_dropped == 0


# -- SerialLink: stale input put aside before each request -----------------------------


def test_backlog_ack_waiting_on_the_port_is_not_taken_for_the_requests_ack(
    clock: FakeClock,
) -> None:
    port = FakePort(clock)  # the terminal never answers this request
    port.queue(bytes([ACK] * 5))  # ACKs of earlier frames nobody read
    link = SerialLink(port, LinkTimers(max_sends=2), clock)
    with pytest.raises(SendFailed):
        link.send(REQUEST)
    assert link.endpoint.stats.acks_received == 0
    assert link.endpoint.stats.stray_answers == 5


def test_late_answer_waiting_on_the_port_is_acked_dropped_and_not_returned(
    clock: FakeClock,
) -> None:
    port = FakePort(clock, reply_to_frames(bytes([ACK]) + encode_frame(RESPONSE)))
    port.queue(encode_frame(STALE))
    link = SerialLink(port, clock=clock)
    assert link.exchange(REQUEST) == RESPONSE
    assert port.writes[0][1] == bytes([ACK])  # the stale frame, ACKed so it is not resent
    assert link.endpoint.stats.stale_messages == 1


def test_a_request_sent_again_gets_its_answer_though_the_same_answer_was_waiting_stale(
    clock: FakeClock,
) -> None:
    port = FakePort(clock, reply_to_frames(bytes([ACK]) + encode_frame(RESPONSE)))
    port.queue(encode_frame(RESPONSE))  # the first send's late answer, never read
    link = SerialLink(port, clock=clock)
    assert link.exchange(REQUEST) == RESPONSE
    assert link.endpoint.stats.stale_messages == 1


def test_rest_of_a_frame_waiting_after_a_late_read_is_not_naked(clock: FakeClock) -> None:
    frame = encode_frame(RESPONSE)

    class DescheduledPort(FakePort):
        """The rest comes 10 ms after the first part; the host reads it 0.5 s later."""

        first_part_read = stalled = False

        def read(self, size: int = 1) -> bytes:
            data = super().read(size)
            if data.endswith(frame[:6]):
                self.first_part_read = True
                self.queue(frame[6:], at=self.clock.now() + 0.01)
            return data

        @property
        def in_waiting(self) -> int:
            if self.first_part_read and not self.stalled:  # the host loses the CPU here
                self.stalled = True
                self.clock.advance(0.5)
            return super().in_waiting

    port = DescheduledPort(clock, reply_to_frames(bytes([ACK]) + frame[:6]))
    link = SerialLink(port, clock=clock)
    assert link.exchange(REQUEST) == RESPONSE
    assert NAK not in port.written
    assert link.endpoint.stats.bad_frames == 0


def test_frame_that_stops_while_the_port_is_seen_empty_is_naked(clock: FakeClock) -> None:
    frame = encode_frame(RESPONSE)
    port = FakePort(clock, reply_to_frames(bytes([ACK]) + frame[:6]))
    port.queue(frame[6:], at=100.5)  # the terminal paused 0.5 s mid-frame
    link = SerialLink(port, LinkTimers(response_timeout=1.0), clock)
    link.send(REQUEST)
    with pytest.raises(Exception, match="no message"):
        link.receive()
    assert bytes([NAK]) in port.written
    assert link.endpoint.stats.bad_frames >= 1
