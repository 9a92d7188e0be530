"""Hypothesis strategies for messages of any dialect, driven by its table."""

from __future__ import annotations

import string
from typing import Any

from hypothesis import strategies as st

from terminal.protocol import Dialect, IccData, Message, Tlv, Tpdu
from terminal.protocol.formats import FieldFormat
from terminal.protocol.subfields import SubfieldLayout

PRIMITIVE_TAGS = ["9F26", "9F27", "9F10", "9F37", "95", "9A", "9C", "5F2A", "82", "84", "9F1E"]


def _sized_text(alphabet: str | st.SearchStrategy[str], fmt: FieldFormat) -> Any:
    if fmt.variable:
        return st.text(alphabet, min_size=0, max_size=fmt.length)
    return st.text(alphabet, min_size=fmt.length, max_size=fmt.length)


def tlvs(depth: int = 1) -> st.SearchStrategy[IccData]:
    """ICC data; a tag repeated at one level repeats adjacently (the JSON shape
    groups repeats into a list, so interleaved repeats could not keep their order)."""
    nested = tlvs(depth - 1) if depth else st.nothing()
    group = st.one_of(
        st.tuples(
            st.sampled_from(PRIMITIVE_TAGS),
            st.lists(st.binary(max_size=12), min_size=1, max_size=2),
        ),
        st.tuples(st.just("70"), st.lists(nested, min_size=1, max_size=2)),
    )
    groups = st.lists(group, max_size=5, unique_by=lambda pair: pair[0])
    return groups.map(
        lambda pairs: IccData(tuple(Tlv(tag, value) for tag, values in pairs for value in values))
    )


def field_value(fmt: FieldFormat) -> st.SearchStrategy[Any]:
    if isinstance(fmt.structure, SubfieldLayout):
        layout = fmt.structure
        if not layout.partial:  # all its digits, or any other length kept as digits
            return st.one_of(st.text(string.digits, min_size=layout.total,
                                     max_size=layout.total),
                             _sized_text(string.digits, fmt)).map(layout.split)
        return st.text(string.digits, min_size=1, max_size=min(fmt.length, layout.total)).map(
            layout.split
        )
    if fmt.structure == "tlv":
        return tlvs().filter(lambda data: len(data.to_bytes()) <= fmt.length)
    if fmt.kind == "n":
        return _sized_text(string.digits, fmt)
    if fmt.kind == "z":
        extra = "D" if fmt.packed else "=D"
        return _sized_text(string.digits + extra, fmt)
    if fmt.kind == "an":
        return _sized_text(string.ascii_letters + string.digits + " ", fmt)
    if fmt.kind == "ans":
        if fmt.charset == "gbk":
            text = st.text(
                st.one_of(
                    st.sampled_from("银联中国商户"),
                    st.characters(min_codepoint=32, max_codepoint=126),
                ),
                max_size=fmt.length // 2,
            )
            return text.filter(lambda value: len(value.encode("gbk")) <= fmt.length)
        return _sized_text(st.characters(min_codepoint=32, max_codepoint=126), fmt)
    size = (
        {"min_size": 0, "max_size": fmt.length}
        if fmt.variable
        else {"min_size": fmt.length, "max_size": fmt.length}
    )
    return st.binary(**size)


@st.composite
def messages(draw: st.DrawFn, dialect: Dialect, numbers: list[int] | None = None) -> Message:
    candidates = numbers if numbers is not None else sorted(dialect.fields)
    chosen = draw(st.lists(st.sampled_from(candidates), unique=True, max_size=12))
    fields = {number: draw(field_value(dialect.fields[number])) for number in chosen}
    mti = draw(st.text(string.digits, min_size=4, max_size=4))
    if dialect.tpdu:
        tpdu = Tpdu(0x60, draw(st.integers(0, 0xFFFF)), draw(st.integers(0, 0xFFFF)))
        header = draw(st.text(string.digits, min_size=12, max_size=12))
        return Message(mti, fields, tpdu, header)
    return Message(mti, fields)
