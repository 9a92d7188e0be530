"""The sans-IO link state machine, driven by hand on a FakeClock."""

from __future__ import annotations

import pytest

from terminal.clock import FakeClock
from terminal.errors import LinkError
from terminal.link import (
    ACK,
    NAK,
    FrameError,
    LinkEndpoint,
    LinkTimers,
    SendFailed,
    SendState,
    encode_frame,
)

REQUEST = b"\x60\x00\x03\x00\x00request"
RESPONSE = b"\x60\x00\x00\x00\x03response"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def endpoint(clock: FakeClock) -> LinkEndpoint:
    return LinkEndpoint(LinkTimers(), clock)


def test_good_frame_is_acked_and_delivered(endpoint: LinkEndpoint) -> None:
    endpoint.feed(encode_frame(REQUEST))
    assert endpoint.data_to_write() == bytes([ACK])
    assert endpoint.pop_message() == REQUEST
    assert endpoint.pop_message() is None


def test_bad_lrc_received_is_naked_and_not_delivered(endpoint: LinkEndpoint) -> None:
    frame = bytearray(encode_frame(REQUEST))
    frame[-1] ^= 0xFF
    endpoint.feed(bytes(frame))
    assert endpoint.data_to_write() == bytes([NAK])
    assert endpoint.pop_message() is None
    assert endpoint.stats.naks_sent == 1
    assert endpoint.stats.bad_frames == 1


def test_non_bcd_length_received_is_naked(endpoint: LinkEndpoint) -> None:
    endpoint.feed(b"\x02\x0a\x00" + bytes(10) + b"\x03\x00")
    assert endpoint.data_to_write() == bytes([NAK])
    assert endpoint.pop_message() is None


def test_frame_split_byte_by_byte_is_delivered_once(
    endpoint: LinkEndpoint, clock: FakeClock
) -> None:
    for byte in encode_frame(REQUEST):
        endpoint.feed(bytes([byte]))
        clock.advance(0.01)
    assert endpoint.data_to_write() == bytes([ACK])
    assert endpoint.pop_message() == REQUEST
    assert endpoint.pop_message() is None


def test_two_frames_in_one_read_are_both_acked_and_delivered_in_order(
    endpoint: LinkEndpoint,
) -> None:
    endpoint.feed(encode_frame(REQUEST) + encode_frame(RESPONSE))
    assert endpoint.data_to_write() == bytes([ACK, ACK])
    assert endpoint.pop_message() == REQUEST
    assert endpoint.pop_message() == RESPONSE


def test_inter_byte_timeout_naks_and_resyncs_so_next_frame_is_received(
    endpoint: LinkEndpoint, clock: FakeClock
) -> None:
    frame = encode_frame(REQUEST)
    endpoint.feed(frame[:5])
    assert endpoint.next_deadline() == pytest.approx(0.2)
    clock.advance(0.19)
    endpoint.poll()
    assert endpoint.data_to_write() == b""
    clock.advance(0.02)
    endpoint.poll()
    assert endpoint.data_to_write() == bytes([NAK])
    assert endpoint.next_deadline() is None
    # The sender resends the whole frame after our NAK.
    clock.advance(0.05)
    endpoint.feed(frame)
    assert endpoint.data_to_write() == bytes([ACK])
    assert endpoint.pop_message() == REQUEST


def test_duplicate_frame_is_acked_twice_but_delivered_once(
    endpoint: LinkEndpoint, clock: FakeClock
) -> None:
    frame = encode_frame(REQUEST)
    endpoint.feed(frame)
    # Our ACK was lost: the sender resends the same frame after its ACK timeout.
    clock.advance(1.0)
    endpoint.feed(frame)
    assert endpoint.data_to_write() == bytes([ACK, ACK])
    assert endpoint.pop_message() == REQUEST
    assert endpoint.pop_message() is None
    assert endpoint.stats.duplicates_dropped == 1


def test_same_message_long_after_the_retry_window_is_a_new_message(
    endpoint: LinkEndpoint, clock: FakeClock
) -> None:
    # The sender gives up after max_sends * ack_timeout; later the same bytes
    # can only be a new message (a repeated request), which the peer must see.
    endpoint.feed(encode_frame(REQUEST))
    clock.advance(10.0)
    endpoint.feed(encode_frame(REQUEST))
    assert [endpoint.pop_message(), endpoint.pop_message()] == [REQUEST, REQUEST]


def test_noise_bytes_are_skipped_and_counted(endpoint: LinkEndpoint) -> None:
    endpoint.feed(b"\x00\xff" + encode_frame(REQUEST) + b"\x80")
    assert endpoint.pop_message() == REQUEST
    assert endpoint.data_to_write() == bytes([ACK])
    assert endpoint.stats.noise_bytes == 3


def test_send_queues_frame_and_ack_delivers(endpoint: LinkEndpoint) -> None:
    assert endpoint.send_state is SendState.IDLE
    endpoint.send(REQUEST)
    assert endpoint.data_to_write() == encode_frame(REQUEST)
    assert endpoint.send_state is SendState.WAITING_ACK
    endpoint.feed(bytes([ACK]))
    assert endpoint.send_state is SendState.DELIVERED
    assert endpoint.next_deadline() is None


def test_ack_timer_starts_when_the_frame_is_written(
    endpoint: LinkEndpoint, clock: FakeClock
) -> None:
    endpoint.send(REQUEST)
    clock.advance(0.5)
    endpoint.data_to_write()
    assert endpoint.next_deadline() == pytest.approx(1.5)


def test_silence_resends_each_ack_timeout_then_fails(
    endpoint: LinkEndpoint, clock: FakeClock
) -> None:
    endpoint.send(REQUEST)
    frame = endpoint.data_to_write()
    sent_at = [clock.now()]
    while endpoint.send_state is SendState.WAITING_ACK:
        deadline = endpoint.next_deadline()
        assert deadline is not None
        clock.advance(deadline - clock.now())
        endpoint.poll()
        if endpoint.data_to_write() == frame:
            sent_at.append(clock.now())
    assert sent_at == pytest.approx([0.0, 1.0, 2.0])
    assert clock.now() == pytest.approx(3.0)
    assert endpoint.send_state is SendState.FAILED
    failure = endpoint.failure()
    assert isinstance(failure, SendFailed)
    assert failure.sends == 3
    assert failure.seen == ("no answer", "no answer", "no answer")


def test_nak_after_last_send_fails_at_once(endpoint: LinkEndpoint) -> None:
    endpoint.send(REQUEST)
    for _ in range(2):
        assert endpoint.data_to_write() == encode_frame(REQUEST)
        endpoint.feed(bytes([NAK]))
    assert endpoint.send_state is SendState.WAITING_ACK
    assert endpoint.data_to_write() == encode_frame(REQUEST)
    endpoint.feed(bytes([NAK]))
    assert endpoint.send_state is SendState.FAILED
    assert endpoint.data_to_write() == b""
    assert endpoint.stats.frames_sent == 3
    assert endpoint.stats.resends == 2
    assert endpoint.stats.naks_received == 3


def test_second_send_while_waiting_for_ack_is_refused(endpoint: LinkEndpoint) -> None:
    endpoint.send(REQUEST)
    with pytest.raises(LinkError):
        endpoint.send(RESPONSE)


def test_new_send_is_allowed_after_failure(endpoint: LinkEndpoint) -> None:
    endpoint.send(REQUEST)
    for _ in range(3):
        endpoint.data_to_write()
        endpoint.feed(bytes([NAK]))
    assert endpoint.send_state is SendState.FAILED
    endpoint.send(RESPONSE)
    assert endpoint.data_to_write() == encode_frame(RESPONSE)
    assert endpoint.sends == 1


def test_oversized_message_is_refused_before_anything_is_sent(endpoint: LinkEndpoint) -> None:
    with pytest.raises(FrameError):
        endpoint.send(bytes(10_000))
    assert endpoint.send_state is SendState.IDLE
    assert endpoint.data_to_write() == b""


def test_stray_ack_does_not_change_state(endpoint: LinkEndpoint) -> None:
    endpoint.feed(bytes([ACK, NAK]))
    assert endpoint.send_state is SendState.IDLE
    assert endpoint.stats.stray_answers == 2


def test_frame_arriving_before_the_ack_is_acked_kept_and_counts_as_the_ack(
    endpoint: LinkEndpoint,
) -> None:
    endpoint.send(REQUEST)
    endpoint.data_to_write()
    endpoint.feed(encode_frame(RESPONSE))
    assert endpoint.data_to_write() == bytes([ACK])
    assert endpoint.send_state is SendState.DELIVERED
    assert endpoint.pop_message() == RESPONSE
    endpoint.feed(bytes([ACK]))  # the peer's ACK, late: nothing awaits it any more
    assert endpoint.send_state is SendState.DELIVERED
    assert endpoint.stats.stray_answers == 1


def test_response_when_the_ack_was_lost_is_an_implicit_ack_with_no_resend(
    endpoint: LinkEndpoint, clock: FakeClock
) -> None:
    endpoint.send(REQUEST)
    endpoint.data_to_write()
    clock.advance(0.3)
    endpoint.feed(encode_frame(RESPONSE))  # the peer's ACK never arrived
    assert endpoint.send_state is SendState.DELIVERED
    assert endpoint.next_deadline() is None
    assert endpoint.stats.implicit_acks == 1
    assert endpoint.pop_message() == RESPONSE
    clock.advance(5.0)
    endpoint.poll()
    assert endpoint.data_to_write() == bytes([ACK])  # only our ACK of the response
    assert endpoint.sends == 1
    assert endpoint.stats.resends == 0


def test_duplicate_frame_while_waiting_for_ack_is_not_an_implicit_ack(
    endpoint: LinkEndpoint, clock: FakeClock
) -> None:
    endpoint.feed(encode_frame(RESPONSE))
    endpoint.data_to_write()
    endpoint.send(REQUEST)
    endpoint.data_to_write()
    clock.advance(0.5)
    endpoint.feed(encode_frame(RESPONSE))  # the peer resending its last frame
    assert endpoint.data_to_write() == bytes([ACK])
    assert endpoint.send_state is SendState.WAITING_ACK
    assert endpoint.stats.duplicates_dropped == 1


def test_frame_before_our_frame_is_written_is_not_an_implicit_ack(
    endpoint: LinkEndpoint,
) -> None:
    endpoint.send(REQUEST)
    endpoint.feed(encode_frame(RESPONSE) + bytes([ACK]))  # nothing of ours written yet
    assert endpoint.send_state is SendState.WAITING_ACK
    assert endpoint.data_to_write() == bytes([ACK]) + encode_frame(REQUEST)
    assert endpoint.pop_message() == RESPONSE


def test_burst_of_naks_in_one_read_costs_one_resend(
    endpoint: LinkEndpoint, clock: FakeClock
) -> None:
    endpoint.send(REQUEST)
    endpoint.data_to_write()
    endpoint.feed(bytes([NAK, NAK, NAK]))
    assert endpoint.send_state is SendState.WAITING_ACK
    assert endpoint.seen == ("NAK",)
    assert endpoint.stats.naks_received == 1
    assert endpoint.stats.stray_answers == 2
    clock.advance(0.1)
    assert endpoint.data_to_write() == encode_frame(REQUEST)  # one resend, not joined
    assert endpoint.next_deadline() == pytest.approx(1.1)  # its full ack_timeout
    clock.advance(0.01)
    endpoint.feed(bytes([ACK]))
    assert endpoint.send_state is SendState.DELIVERED
    assert endpoint.sends == 2


def test_late_ack_while_a_timed_out_resend_is_queued_delivers_and_drops_it(
    endpoint: LinkEndpoint, clock: FakeClock
) -> None:
    endpoint.send(REQUEST)
    endpoint.data_to_write()
    clock.advance(1.0)
    endpoint.poll()  # no ACK in time: resend queued
    endpoint.feed(bytes([ACK]))  # the ACK of the first send, just late
    assert endpoint.send_state is SendState.DELIVERED
    assert endpoint.data_to_write() == b""
    assert endpoint.sends == 1
    assert endpoint.seen == ()
    assert (endpoint.stats.frames_sent, endpoint.stats.resends) == (1, 0)


def test_ack_while_a_naked_send_is_being_resent_is_ignored(endpoint: LinkEndpoint) -> None:
    endpoint.send(REQUEST)
    endpoint.data_to_write()
    endpoint.feed(bytes([NAK, ACK]))  # the peer refused it: the ACK cannot be for it
    assert endpoint.send_state is SendState.WAITING_ACK
    assert endpoint.data_to_write() == encode_frame(REQUEST)


def test_abort_fails_the_send_and_allows_a_new_one(endpoint: LinkEndpoint) -> None:
    endpoint.send(REQUEST)
    endpoint.abort()
    assert endpoint.send_state is SendState.FAILED
    assert endpoint.next_deadline() is None
    assert endpoint.data_to_write() == b""  # the queued frame is dropped
    endpoint.send(RESPONSE)
    assert endpoint.data_to_write() == encode_frame(RESPONSE)


def test_abort_when_nothing_is_being_sent_changes_nothing(endpoint: LinkEndpoint) -> None:
    endpoint.abort()
    assert endpoint.send_state is SendState.IDLE


def test_two_endpoints_talk_to_each_other(clock: FakeClock) -> None:
    host, device = LinkEndpoint(clock=clock), LinkEndpoint(clock=clock)
    host.send(REQUEST)
    device.feed(host.data_to_write())
    assert device.pop_message() == REQUEST
    device.send(RESPONSE)
    host.feed(device.data_to_write())  # ACK and the response in one read
    assert host.send_state is SendState.DELIVERED
    assert host.pop_message() == RESPONSE
    device.feed(host.data_to_write())
    assert device.send_state is SendState.DELIVERED
