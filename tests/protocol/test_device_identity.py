"""The simulator's mark in field 59: made on purpose only, found among other elements,
and read through the real ``cup`` codec."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from terminal.protocol import Message, Tpdu, decode, encode
from terminal.protocol.identity import (
    SIMULATOR_FIELD,
    SIMULATOR_TAG,
    SIMULATOR_TEXT,
    field59_elements,
    identifies_simulator,
    simulator_element,
    with_simulator_mark,
)

TPDU = Tpdu(0x60, 0x0000, 0x0006)


def _response(**fields) -> Message:
    base = {11: "000052", 39: "00", 41: "10008060", 42: "898100000000001"}
    base.update({int(k.removeprefix("f")): v for k, v in fields.items()})
    return Message("0210", base, TPDU, "603200320002")


def test_the_mark_is_one_tag_length_value_element():
    assert simulator_element() == f"ZS{len(SIMULATOR_TEXT):03d}{SIMULATOR_TEXT}"
    assert field59_elements(simulator_element()) == [(SIMULATOR_TAG, SIMULATOR_TEXT)]


def test_a_marked_response_is_identified_after_a_trip_through_the_cup_codec():
    marked = _response(f59=with_simulator_mark())
    wire = encode(marked, "cup")
    assert SIMULATOR_TEXT.encode("ascii") in wire
    assert identifies_simulator(decode(wire, "cup"))


def test_a_response_without_field_59_is_not_the_simulator():
    assert not identifies_simulator(decode(encode(_response(), "cup"), "cup"))


def test_the_mark_is_found_among_a_devices_own_elements_of_field_59():
    own = "A2010SN12345678"
    marked = with_simulator_mark(own)
    assert marked.startswith(own)
    assert field59_elements(marked) == [("A2", "SN12345678"), (SIMULATOR_TAG, SIMULATOR_TEXT)]
    assert identifies_simulator(_response(f59=marked))


def test_marking_twice_leaves_one_mark():
    once = with_simulator_mark()
    assert with_simulator_mark(once) == once


@pytest.mark.parametrize(
    "field59",
    [
        "",
        SIMULATOR_TEXT,  # the words without the element around them
        f"ZX{len(SIMULATOR_TEXT):03d}{SIMULATOR_TEXT}",  # another tag
        f"ZS{len(SIMULATOR_TEXT) - 1:03d}{SIMULATOR_TEXT[:-1]}",  # the text cut short
        f"ZS{len(SIMULATOR_TEXT):03d}{SIMULATOR_TEXT.lower()}",  # not the exact text
        f"ZS{len(SIMULATOR_TEXT) + 5:03d}{SIMULATOR_TEXT}",  # a length past the end
        f"XX003abc{simulator_element()}"[:-1],  # a broken last element
        f"free text: {simulator_element()}",  # not at an element boundary
    ],
    ids=["empty", "bare-text", "other-tag", "cut-short", "lower-case", "overlong",
         "broken-last", "not-on-a-boundary"],
)
def test_anything_short_of_the_exact_element_identifies_nothing(field59):
    assert not identifies_simulator(_response(f59=field59))


def test_a_field_59_in_another_layout_is_no_error_just_no_mark():
    assert field59_elements("device serial 1234") is None
    assert not identifies_simulator(_response(f59="device serial 1234"))


@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=200))
def test_text_that_does_not_hold_the_simulators_words_never_identifies(text):
    if SIMULATOR_TEXT in text:
        return
    assert not identifies_simulator(_response(f59=text))


def test_the_mark_lives_in_a_private_use_field_of_the_cup_dialect():
    from terminal.protocol import get_dialect

    spec = get_dialect("cup").fields[SIMULATOR_FIELD]
    assert (SIMULATOR_FIELD, spec.kind) == (59, "ans")
