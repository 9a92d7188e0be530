"""Fields with an inner structure, as construct adapters over a field encoding.

:class:`IccTlv` reads a binary field as BER-TLV (EMV field 55) into
:class:`~terminal.protocol.tlv.IccData`; :class:`Subfields` splits a numeric
field into named subfields (CUP 48, 60 and 61) by a
:class:`~terminal.protocol.subfields.SubfieldLayout`. Both are construct
``Adapter`` subclasses with ``_emitparse``/``_emitbuild``, so the adapted field
compiles as one generated function. Errors name the tag path or the subfield
in ``field`` (``"9F26"``, ``"70.9F27"``, ``"batch"``); the message construct
puts the field number in front.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from construct import Adapter

from terminal.protocol import emit
from terminal.protocol.errors import EncodeValueError, TlvError
from terminal.protocol.fields import Binary, FieldConstruct, wrong_type
from terminal.protocol.subfields import SubfieldError, SubfieldLayout
from terminal.protocol.tlv import IccData, TlvProblem, encode_tlv, parse_tlv

__all__ = ["IccTlv", "Subfields"]

_RUNTIME = (
    "from terminal.protocol.structured import decode_icc, encode_icc, join_subfields\n"
    "from terminal.protocol.subfields import SubfieldLayout"
)


class IccTlv(Adapter):  # type: ignore[misc]
    """A :class:`~terminal.protocol.fields.Binary` field holding BER-TLV: parses to
    :class:`IccData`; builds from ``IccData`` (or raw ``bytes``, sent as they are)."""

    def __init__(self, subcon: Binary) -> None:
        super().__init__(subcon)
        self.data_offset = subcon.data_offset

    def __repr__(self) -> str:
        return f"IccTlv({self.subcon!r})"

    def _decode(self, obj: bytes, context: Any, path: Any) -> IccData:
        return decode_icc(obj, self.data_offset)

    def _encode(self, obj: Any, context: Any, path: Any) -> bytes:
        return encode_icc(obj)

    def _emitparse(self, code: Any) -> str:
        body = f"return decode_icc({self.subcon._compileparse(code)}, {self.data_offset})"
        return emit.function(code, "parse", "icctlv", body, _RUNTIME)

    def _emitbuild(self, code: Any) -> str:
        body = f"""
            value = obj
            obj = encode_icc(value)
            {self.subcon._compilebuild(code)}
            return value
        """
        return emit.function(code, "build", "icctlv", body, _RUNTIME)


class Subfields(Adapter):  # type: ignore[misc]
    """A numeric field split by ``layout``: parses to ``dict[str, str]`` (a short
    value fills the subfields in order, or stays a ``str`` if the layout is not
    ``partial``); builds from that dict or a digit string."""

    def __init__(self, layout: SubfieldLayout, subcon: FieldConstruct) -> None:
        super().__init__(subcon)
        self.layout = layout

    def __repr__(self) -> str:
        return f"Subfields({self.layout.names!r}, {self.subcon!r})"

    def _decode(self, obj: str, context: Any, path: Any) -> dict[str, str] | str:
        return self.layout.split(obj)

    def _encode(self, obj: Any, context: Any, path: Any) -> str:
        return join_subfields(self.layout, obj)

    def _emitparse(self, code: Any) -> str:
        layout = self._emit_layout(code)
        body = f"return {layout}.split({self.subcon._compileparse(code)})"
        return emit.function(code, "parse", "subfields", body)

    def _emitbuild(self, code: Any) -> str:
        layout = self._emit_layout(code)
        body = f"""
            value = obj
            obj = join_subfields({layout}, value)
            {self.subcon._compilebuild(code)}
            return value
        """
        return emit.function(code, "build", "subfields", body)

    def _emit_layout(self, code: Any) -> str:
        code.append(_RUNTIME)
        name = f"layout_{id(self)}"
        code.append(f"{name} = SubfieldLayout({self.layout.parts!r}, {self.layout.partial!r})")
        return name


def decode_icc(data: bytes, offset: int) -> IccData:
    """``data`` as TLV; a problem is a :class:`TlvError` naming the tag path, its
    offset counted from ``offset`` bytes before ``data`` (the field's prefix)."""
    try:
        return parse_tlv(data, 0, len(data))
    except TlvProblem as problem:
        raise TlvError(
            problem.reason, field=problem.path or None, offset=offset + problem.offset
        ) from None


def encode_icc(value: Any) -> bytes:
    """The bytes of ``IccData`` (or ``bytes`` as they are); a value that does not fit
    its tag is an :class:`EncodeValueError` naming the tag path."""
    if isinstance(value, IccData):
        try:
            return encode_tlv(value)
        except TlvProblem as problem:
            raise EncodeValueError(problem.reason, field=problem.path or None) from None
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    raise wrong_type(value, "IccData or bytes")


def join_subfields(layout: SubfieldLayout, value: Any) -> str:
    """The digits of ``value`` (a dict of subfields, or a digit string)."""
    if isinstance(value, Mapping):
        try:
            return layout.join(value)
        except SubfieldError as error:
            raise EncodeValueError(str(error), field=error.name or None) from None
    if type(value) is not str:
        raise wrong_type(value, "a dict of subfields (or a str of digits)")
    return value
