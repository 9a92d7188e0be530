"""A frame's last byte held back: the bytes travel while the host journals the request,
and a frame that may not be sent is spoiled, never completed."""

from __future__ import annotations

import pytest

from terminal.clock import FakeClock
from terminal.link import ACK, ETX, NAK, STX, LinkEndpoint, LinkTimers, SendState
from terminal.link.frame import encode_frame, lrc

TIMERS = LinkTimers(ack_timeout=1.0, inter_byte_timeout=0.2, response_timeout=5.0)


def _pair():
    clock = FakeClock()
    return clock, LinkEndpoint(TIMERS, clock), LinkEndpoint(TIMERS, clock)


def test_a_held_frame_goes_out_but_its_last_byte_and_no_ack_timer_runs_meanwhile():
    clock, host, terminal = _pair()
    host.send(b"sale", hold_last_byte=True)
    head = host.data_to_write()
    assert head == encode_frame(b"sale")[:-1] and host.holding
    assert host.next_deadline() is None  # nothing was sent that an ACK could answer
    terminal.feed(head)
    assert terminal.pop_message() is None and terminal.data_to_write() == b""
    clock.advance(5.0)  # far past the ACK timeout: still no resend, no failure
    host.poll()
    assert host.send_state is SendState.WAITING_ACK and host.data_to_write() == b""


def test_the_released_byte_completes_the_frame_and_starts_the_ack_timer():
    clock, host, terminal = _pair()
    host.send(b"sale", hold_last_byte=True)
    terminal.feed(host.data_to_write())
    clock.advance(0.05)
    host.release()
    tail = host.data_to_write()
    assert tail == encode_frame(b"sale")[-1:]
    assert host.next_deadline() == pytest.approx(clock.now() + TIMERS.ack_timeout)
    terminal.feed(tail)
    assert terminal.pop_message() == b"sale"
    host.feed(terminal.data_to_write())
    assert host.send_state is SendState.DELIVERED and host.stats.frames_sent == 1


def test_an_ack_or_nak_that_comes_while_the_byte_is_held_answers_nothing():
    _, host, _ = _pair()
    host.send(b"sale", hold_last_byte=True)
    host.data_to_write()
    host.feed(bytes([ACK, NAK]))
    assert host.send_state is SendState.WAITING_ACK and host.stats.stray_answers == 2
    host.release()
    assert host.data_to_write() == encode_frame(b"sale")[-1:]  # no resend queued by the NAK


def _data_with_lrc(wanted: int) -> bytes:
    # LRC over LEN (00 01), one data byte and ETX: pick the byte that gives ``wanted``.
    return bytes([wanted ^ 0x00 ^ 0x01 ^ ETX])


@pytest.mark.parametrize("right", [0x00, 0x41, 0xFD, 0xFC, 0xF9, 0xEA, 0xFF])
def test_a_withdrawn_frame_ends_with_a_wrong_byte_that_is_no_control_character(right):
    _, host, terminal = _pair()
    data = _data_with_lrc(right)
    assert lrc(encode_frame(data)[1:-1]) == right
    host.send(data, hold_last_byte=True)
    head = host.data_to_write()
    host.withdraw()
    (wrong,) = host.data_to_write()
    assert wrong != right and wrong not in (STX, ETX, ACK, NAK)
    assert host.send_state is SendState.IDLE  # never sent: nothing is in doubt
    assert (host.stats.frames_sent, host.stats.withdrawn) == (0, 1)
    terminal.feed(head + bytes([wrong]))
    assert terminal.pop_message() is None
    assert terminal.data_to_write() == bytes([NAK]) and terminal.stats.bad_frames == 1


def test_a_frame_withdrawn_before_any_of_it_went_out_writes_nothing():
    _, host, _ = _pair()
    host.send(b"sale", hold_last_byte=True)
    host.withdraw()
    assert host.data_to_write() == b"" and host.send_state is SendState.IDLE
    host.send(b"next")  # the link is free for the next message
    assert host.data_to_write() == encode_frame(b"next")


def test_release_and_withdraw_do_nothing_without_a_held_byte():
    _, host, _ = _pair()
    host.send(b"sale")
    frame = host.data_to_write()
    host.release()
    host.withdraw()
    assert frame == encode_frame(b"sale") and host.data_to_write() == b""
    assert host.send_state is SendState.WAITING_ACK and host.stats.withdrawn == 0
