"""Framing: golden bytes, every decode_frame error, and the incremental decoder."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from terminal.errors import ProtocolError
from terminal.link import (
    ACK,
    ETX,
    NAK,
    STX,
    AckReceived,
    BadFrame,
    FrameDecoder,
    FrameError,
    FrameReceived,
    NakReceived,
    decode_frame,
    encode_frame,
    lrc,
)

# Worked by hand: DATA 60 00 (two bytes) -> LEN "0002" in BCD = 00 02.
# LRC = 00 ^ 02 ^ 60 ^ 00 ^ 03 (ETX) = 0x61.
GOLDEN_DATA = b"\x60\x00"
GOLDEN_FRAME = bytes([0x02, 0x00, 0x02, 0x60, 0x00, 0x03, 0x61])


def test_constants_are_the_cup_control_bytes() -> None:
    assert (STX, ETX, ACK, NAK) == (0x02, 0x03, 0x06, 0x15)


def test_encode_frame_matches_hand_computed_bytes() -> None:
    assert encode_frame(GOLDEN_DATA) == GOLDEN_FRAME


def test_length_field_is_bcd_not_binary() -> None:
    # 12 data bytes: BCD 00 12, where binary would have given 00 0c.
    frame = encode_frame(bytes(12))
    assert frame[1:3] == b"\x00\x12"
    # LRC over 00 12, twelve zero bytes and ETX: 0x12 ^ 0x03 = 0x11.
    assert frame[-2:] == b"\x03\x11"


def test_empty_data_is_a_valid_frame() -> None:
    # 00 00 03 -> LRC 0x03
    assert encode_frame(b"") == b"\x02\x00\x00\x03\x03"
    assert decode_frame(b"\x02\x00\x00\x03\x03") == b""


def test_largest_frame_has_length_9999() -> None:
    frame = encode_frame(bytes(9999))
    assert frame[1:3] == b"\x99\x99"
    assert decode_frame(frame) == bytes(9999)


def test_encode_refuses_more_than_9999_bytes_with_frame_length_field() -> None:
    with pytest.raises(ProtocolError) as caught:
        encode_frame(bytes(10000))
    assert caught.value.field == "frame.length"


def test_lrc_is_xor_of_all_bytes() -> None:
    assert lrc(b"") == 0
    assert lrc(b"\x00\x02\x60\x00\x03") == 0x61
    assert lrc(b"\xff\x0f") == 0xF0


def test_decode_frame_returns_data_of_golden_frame() -> None:
    assert decode_frame(GOLDEN_FRAME) == GOLDEN_DATA


def test_decode_frame_bad_lrc_names_field_offset_and_both_values() -> None:
    bad = GOLDEN_FRAME[:-1] + b"\x3a"
    with pytest.raises(FrameError) as caught:
        decode_frame(bad)
    error = caught.value
    assert isinstance(error, ProtocolError)
    assert error.field == "frame.lrc"
    assert error.offset == 6
    assert "LRC 0x3a, expected 0x61" in str(error)
    assert ">3a<" in error.window


def test_decode_frame_without_stx_names_frame_stx() -> None:
    with pytest.raises(FrameError) as caught:
        decode_frame(GOLDEN_FRAME[1:])
    assert (caught.value.field, caught.value.offset) == ("frame.stx", 0)


def test_decode_frame_of_nothing_names_frame_stx() -> None:
    with pytest.raises(FrameError) as caught:
        decode_frame(b"")
    assert caught.value.field == "frame.stx"


def test_decode_frame_non_bcd_length_names_the_bad_byte() -> None:
    bad = b"\x02\x00\x0a" + bytes(10) + b"\x03\x00"
    with pytest.raises(FrameError) as caught:
        decode_frame(bad)
    assert (caught.value.field, caught.value.offset) == ("frame.length", 2)
    assert "0x0a is not BCD" in str(caught.value)


def test_decode_frame_shorter_than_its_length_names_frame_length() -> None:
    with pytest.raises(FrameError) as caught:
        decode_frame(b"\x02\x00\x05\x60\x00\x03\x61")
    assert caught.value.field == "frame.length"
    assert "says 5 data bytes, only 4 present" in str(caught.value)


def test_decode_frame_cut_inside_length_names_frame_length() -> None:
    with pytest.raises(FrameError) as caught:
        decode_frame(b"\x02\x00")
    assert (caught.value.field, caught.value.offset) == ("frame.length", 2)


def test_decode_frame_etx_not_where_length_says_names_frame_etx() -> None:
    # Length says 1 byte: offset 4 should be ETX but is 0x00.
    with pytest.raises(FrameError) as caught:
        decode_frame(b"\x02\x00\x01\x60\x00\x03\x61")
    assert (caught.value.field, caught.value.offset) == ("frame.etx", 4)


def test_decode_frame_missing_lrc_names_frame_lrc() -> None:
    with pytest.raises(FrameError) as caught:
        decode_frame(GOLDEN_FRAME[:-1])
    assert (caught.value.field, caught.value.offset) == ("frame.lrc", 6)


def test_decode_frame_refuses_trailing_bytes_after_lrc() -> None:
    with pytest.raises(FrameError) as caught:
        decode_frame(GOLDEN_FRAME + b"\x06")
    assert caught.value.offset == 7
    assert "after the LRC" in str(caught.value)


# -- FrameDecoder ---------------------------------------------------------------


def test_decoder_reports_frame_ack_and_nak_in_wire_order() -> None:
    decoder = FrameDecoder()
    events = decoder.feed(bytes([ACK]) + GOLDEN_FRAME + bytes([NAK]), now=0.0)
    assert events == [AckReceived(), FrameReceived(GOLDEN_DATA), NakReceived()]


def test_decoder_assembles_a_frame_fed_byte_by_byte() -> None:
    decoder = FrameDecoder()
    events = []
    for i, byte in enumerate(GOLDEN_FRAME):
        events += decoder.feed(bytes([byte]), now=i * 0.01)
    assert events == [FrameReceived(GOLDEN_DATA)]


def test_decoder_bad_lrc_is_bad_frame_then_next_frame_is_good() -> None:
    decoder = FrameDecoder()
    events = decoder.feed(GOLDEN_FRAME[:-1] + b"\x00" + GOLDEN_FRAME, now=0.0)
    assert events == [BadFrame("LRC 0x00, expected 0x61", "frame.lrc"), FrameReceived(GOLDEN_DATA)]


def test_decoder_skips_and_counts_noise_outside_frames() -> None:
    decoder = FrameDecoder()
    events = decoder.feed(b"\x00\xff\x41" + GOLDEN_FRAME + b"\x7f", now=0.0)
    assert events == [FrameReceived(GOLDEN_DATA)]
    assert decoder.noise_bytes == 4


def test_decoder_discards_rest_of_frame_with_non_bcd_length_even_ack_lookalikes() -> None:
    decoder = FrameDecoder()
    # Length 0x0a is not BCD; the 06 and 15 that follow belong to the broken frame.
    events = decoder.feed(b"\x02\x00\x0a\x06\x15\x03\x00" + GOLDEN_FRAME, now=0.0)
    assert events == [
        BadFrame("length byte 0x0a is not BCD", "frame.length"),
        FrameReceived(GOLDEN_DATA),
    ]
    assert decoder.discarded_bytes == 4


def test_decoder_misplaced_etx_is_bad_frame() -> None:
    decoder = FrameDecoder()
    events = decoder.feed(b"\x02\x00\x01\x60\x00\x03\x61", now=0.0)
    assert [e.field for e in events if isinstance(e, BadFrame)] == ["frame.etx"]


def test_decoder_after_broken_length_resumes_once_line_is_quiet() -> None:
    decoder = FrameDecoder(inter_byte_timeout=0.2)
    decoder.feed(b"\x02\xaa", now=0.0)
    # After a quiet gap an ACK means ACK again.
    assert decoder.feed(bytes([ACK]), now=0.5) == [AckReceived()]


def test_decoder_check_timeout_reports_stalled_frame_once_and_resyncs() -> None:
    decoder = FrameDecoder(inter_byte_timeout=0.2)
    assert decoder.feed(GOLDEN_FRAME[:4], now=0.0) == []
    assert decoder.deadline() == pytest.approx(0.2)
    assert decoder.check_timeout(0.1) == []
    events = decoder.check_timeout(0.25)
    assert len(events) == 1
    assert events[0].field == "frame.timeout"
    assert decoder.check_timeout(1.0) == []
    assert decoder.deadline() is None
    assert decoder.feed(GOLDEN_FRAME, now=1.0) == [FrameReceived(GOLDEN_DATA)]


def test_decoder_late_byte_inside_frame_is_timeout_not_continuation() -> None:
    decoder = FrameDecoder(inter_byte_timeout=0.2)
    decoder.feed(GOLDEN_FRAME[:3], now=0.0)
    events = decoder.feed(GOLDEN_FRAME, now=0.3)
    assert [type(e) for e in events] == [BadFrame, FrameReceived]
    assert events[0].field == "frame.timeout"


def test_frame_received_repr_shows_length_not_card_data() -> None:
    text = repr(FrameReceived(b"6222021234567890"))
    assert "6222" not in text
    assert "16 bytes" in text


@given(
    data=st.binary(min_size=0, max_size=512),
    cuts=st.lists(st.integers(min_value=1, max_value=600), max_size=40),
)
def test_any_data_round_trips_through_encoder_and_chunked_decoder(
    data: bytes, cuts: list[int]
) -> None:
    frame = encode_frame(data)
    decoder = FrameDecoder()
    events = []
    position = 0
    for cut in cuts:
        if position >= len(frame):
            break
        events += decoder.feed(frame[position : position + cut], now=0.0)
        position += cut
    events += decoder.feed(frame[position:], now=0.0)
    assert events == [FrameReceived(data)]
    assert decode_frame(frame) == data


@given(st.binary(max_size=64), st.binary(max_size=64))
def test_back_to_back_frames_in_one_feed_come_out_in_order(first: bytes, second: bytes) -> None:
    decoder = FrameDecoder()
    events = decoder.feed(encode_frame(first) + encode_frame(second), now=0.0)
    assert events == [FrameReceived(first), FrameReceived(second)]
