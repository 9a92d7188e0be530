"""SerialLink over a scripted fake port on a FakeClock: resends, timeouts, buffering."""

from __future__ import annotations

import pytest
from link_fakes import FakePort, reply_to_frames

from terminal.clock import FakeClock
from terminal.errors import LinkError, LinkTimeout
from terminal.link import (
    ACK,
    NAK,
    READ_SLICE,
    LinkTimers,
    SendFailed,
    SendState,
    SerialLink,
    encode_frame,
)

REQUEST = b"\x60\x00\x03\x00\x00\x02\x00request"
RESPONSE = b"\x60\x00\x00\x00\x03\x02\x10response"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=100.0)


def make_link(
    clock: FakeClock, *replies: bytes, timers: LinkTimers | None = None
) -> tuple[SerialLink, FakePort]:
    port = FakePort(clock, reply_to_frames(*replies))
    return SerialLink(port, timers, clock), port


def test_send_returns_once_acked(clock: FakeClock) -> None:
    link, port = make_link(clock, bytes([ACK]))
    link.send(REQUEST)
    assert port.written == encode_frame(REQUEST)


def test_lost_ack_is_resent_after_ack_timeout_and_then_succeeds(clock: FakeClock) -> None:
    link, port = make_link(clock, b"", bytes([ACK]))
    link.send(REQUEST)
    frames = port.frame_writes()
    assert [data for _, data in frames] == [encode_frame(REQUEST)] * 2
    assert frames[1][0] - frames[0][0] == pytest.approx(1.0)
    assert link.endpoint.stats.resends == 1


def test_nak_then_ack_succeeds_on_second_send(clock: FakeClock) -> None:
    link, port = make_link(clock, bytes([NAK]), bytes([ACK]))
    link.send(REQUEST)
    assert len(port.frame_writes()) == 2
    assert clock.now() == pytest.approx(100.0)  # a NAK is answered at once, no timer


def test_three_naks_fail_after_exactly_three_sends(clock: FakeClock) -> None:
    link, port = make_link(clock, bytes([NAK]), bytes([NAK]), bytes([NAK]), bytes([ACK]))
    with pytest.raises(LinkError) as caught:
        link.send(REQUEST)
    assert len(port.frame_writes()) == 3
    error = caught.value
    assert isinstance(error, SendFailed)
    assert error.sends == 3
    assert error.seen == ("NAK", "NAK", "NAK")
    assert "3 send(s)" in str(error)
    assert "NAK, NAK, NAK" in str(error)


def test_silence_gives_three_sends_one_second_apart_then_link_error(clock: FakeClock) -> None:
    link, port = make_link(clock)
    with pytest.raises(SendFailed) as caught:
        link.send(REQUEST)
    times = [t - 100.0 for t, _ in port.frame_writes()]
    assert times == pytest.approx([0.0, 1.0, 2.0])
    assert clock.now() - 100.0 == pytest.approx(3.0)
    assert "no answer, no answer, no answer" in str(caught.value)


def test_resend_timing_follows_configured_timers(clock: FakeClock) -> None:
    timers = LinkTimers(ack_timeout=0.3, max_sends=5)
    link, port = make_link(clock, timers=timers)
    with pytest.raises(SendFailed):
        link.send(REQUEST)
    times = [t - 100.0 for t, _ in port.frame_writes()]
    assert times == pytest.approx([0.0, 0.3, 0.6, 0.9, 1.2])


def test_reads_are_short_slices_never_past_a_deadline(clock: FakeClock) -> None:
    link, port = make_link(clock)
    with pytest.raises(SendFailed):
        link.send(REQUEST)
    assert port.reads
    assert all(timeout is not None and timeout <= READ_SLICE for _, timeout in port.reads)


def test_response_in_the_same_read_as_the_ack_is_not_lost(clock: FakeClock) -> None:
    link, port = make_link(clock, bytes([ACK]) + encode_frame(RESPONSE))
    link.send(REQUEST)
    assert port.written == encode_frame(REQUEST) + bytes([ACK])  # response ACKed at once
    started = clock.now()
    assert link.receive(timeout=0) == RESPONSE
    assert clock.now() == started


def test_receive_returns_message_and_acks_it(clock: FakeClock) -> None:
    link, port = make_link(clock)
    port.queue(encode_frame(RESPONSE), at=105.0)
    assert link.receive() == RESPONSE
    assert port.written == bytes([ACK])
    assert clock.now() == pytest.approx(105.0)


def test_receive_copes_with_a_frame_split_over_many_reads(clock: FakeClock) -> None:
    link, port = make_link(clock)
    frame = encode_frame(RESPONSE)
    for i, byte in enumerate(frame):
        port.queue(bytes([byte]), at=100.0 + i * 0.01)
    assert link.receive() == RESPONSE
    assert port.written == bytes([ACK])


def test_receive_bad_lrc_naks_then_gets_the_resend(clock: FakeClock) -> None:
    link, port = make_link(clock)
    bad = bytearray(encode_frame(RESPONSE))
    bad[-1] ^= 0x55
    port.queue(bytes(bad))
    port.queue(encode_frame(RESPONSE), at=100.1)
    assert link.receive() == RESPONSE
    assert port.written == bytes([NAK, ACK])


def test_inter_byte_timeout_naks_then_next_frame_is_received(clock: FakeClock) -> None:
    link, port = make_link(clock)
    frame = encode_frame(RESPONSE)
    port.queue(frame[:6])
    port.queue(frame, at=101.0)  # the sender resends the whole frame after our NAK
    assert link.receive() == RESPONSE
    assert port.written == bytes([NAK, ACK])
    nak_time = port.writes[0][0]
    assert nak_time - 100.0 == pytest.approx(0.2, abs=0.051)


def test_receive_times_out_with_link_timeout_after_response_timeout(clock: FakeClock) -> None:
    link, _ = make_link(clock)
    with pytest.raises(LinkTimeout):
        link.receive()
    assert clock.now() - 100.0 == pytest.approx(60.0)


def test_receive_timeout_argument_overrides_the_default(clock: FakeClock) -> None:
    link, port = make_link(clock)
    port.queue(encode_frame(RESPONSE)[:4], at=104.9)
    with pytest.raises(LinkTimeout) as caught:
        link.receive(timeout=5.0)
    assert clock.now() - 100.0 == pytest.approx(5.0)
    assert "part of a frame" in str(caught.value)


def test_exchange_sends_request_and_returns_response(clock: FakeClock) -> None:
    link, port = make_link(clock, bytes([ACK]))
    port.queue(encode_frame(RESPONSE), at=102.0)
    assert link.exchange(REQUEST) == RESPONSE
    assert port.written == encode_frame(REQUEST) + bytes([ACK])


def test_duplicate_response_is_not_returned_twice(clock: FakeClock) -> None:
    link, port = make_link(clock)
    frame = encode_frame(RESPONSE)
    port.queue(frame)
    port.queue(frame, at=101.0)  # the terminal missed our ACK and resent
    assert link.receive() == RESPONSE
    with pytest.raises(LinkTimeout):
        link.receive(timeout=3.0)
    assert port.written == bytes([ACK, ACK])


def test_port_failure_is_a_link_error(clock: FakeClock) -> None:
    class BrokenPort(FakePort):
        def read(self, size: int = 1) -> bytes:
            raise OSError("device disconnected")

    link = SerialLink(BrokenPort(clock), clock=clock)
    with pytest.raises(LinkError, match="device disconnected"):
        link.receive()


def test_response_arriving_without_the_ack_completes_the_send(clock: FakeClock) -> None:
    link, port = make_link(clock, encode_frame(RESPONSE))  # the peer's ACK was lost
    assert link.exchange(REQUEST) == RESPONSE
    assert len(port.frame_writes()) == 1
    assert port.written == encode_frame(REQUEST) + bytes([ACK])
    assert clock.now() == pytest.approx(100.0)


def test_burst_of_naks_gives_one_resend_then_waits_for_its_ack(clock: FakeClock) -> None:
    # A NAK and line noise in one read, answering the first send; the resend is ACKed.
    link, port = make_link(clock, bytes([NAK, NAK, NAK]), bytes([ACK]))
    link.send(REQUEST)
    assert [data for _, data in port.writes] == [encode_frame(REQUEST)] * 2
    assert link.endpoint.sends == 2


def test_last_send_after_a_nak_burst_gets_its_full_ack_timeout(clock: FakeClock) -> None:
    link, port = make_link(clock, bytes([NAK, NAK]), bytes([NAK, NAK]))
    with pytest.raises(SendFailed) as caught:
        link.send(REQUEST)
    times = [t - 100.0 for t, _ in port.frame_writes()]
    assert times == pytest.approx([0.0, 0.0, 0.0])
    assert clock.now() - 100.0 == pytest.approx(1.0)
    assert caught.value.seen == ("NAK", "NAK", "no answer")


def test_failed_port_write_leaves_the_link_usable(clock: FakeClock) -> None:
    class FlakyPort(FakePort):
        fail = True

        def write(self, data: bytes) -> int:
            if self.fail:
                self.fail = False
                raise OSError(5, "Input/output error")
            return super().write(data)

    port = FlakyPort(clock, reply_to_frames(bytes([ACK])))
    link = SerialLink(port, clock=clock)
    with pytest.raises(LinkError, match="writing the port failed"):
        link.send(REQUEST)
    assert link.endpoint.send_state is SendState.FAILED
    link.send(RESPONSE)
    assert port.written == encode_frame(RESPONSE)


def test_failed_port_read_during_send_leaves_the_link_usable(clock: FakeClock) -> None:
    class FlakyPort(FakePort):
        fail = True

        def read(self, size: int = 1) -> bytes:
            if self.fail:
                self.fail = False
                raise ValueError("port closed")
            return super().read(size)

    port = FlakyPort(clock)
    link = SerialLink(port, clock=clock)
    with pytest.raises(LinkError, match="reading the port failed: ValueError"):
        link.send(REQUEST)
    port.responder = reply_to_frames(bytes([ACK]))
    link.send(REQUEST)
    assert link.endpoint.send_state is SendState.DELIVERED


def test_interrupt_during_send_leaves_the_link_usable(clock: FakeClock) -> None:
    class InterruptedPort(FakePort):
        interrupt = True

        def read(self, size: int = 1) -> bytes:
            if self.interrupt:
                self.interrupt = False
                raise KeyboardInterrupt
            return super().read(size)

    port = InterruptedPort(clock, reply_to_frames(b"", bytes([ACK])))
    link = SerialLink(port, clock=clock)
    with pytest.raises(KeyboardInterrupt):
        link.send(REQUEST)
    link.send(REQUEST)
    assert link.endpoint.send_state is SendState.DELIVERED


def test_context_manager_closes_the_port(clock: FakeClock) -> None:
    port = FakePort(clock)
    with SerialLink(port, clock=clock) as link:
        assert not port.closed
    assert port.closed
    link.close()  # a second close is harmless


def test_debug_log_shows_lengths_and_acks_but_never_data(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    pan = b"6222021234567890123"
    link, _ = make_link(clock, bytes([NAK]), bytes([ACK]) + encode_frame(b"resp" + pan))
    with caplog.at_level("DEBUG", logger="terminal.link"):
        assert link.exchange(b"req" + pan) == b"resp" + pan
    assert "22 data bytes" in caplog.text
    assert "NAK received" in caplog.text
    assert "ACK received" in caplog.text
    for record in caplog.records:
        assert "6222021234567890123" not in record.getMessage()
        assert pan.hex() not in record.getMessage()
