"""Messages as JSON-ready dicts, for the CLI, logs and test fixtures.

Shape: ``{"mti": "0200", "tpdu": "6000060000", "header": "603200320002",
"fields": {"2": "...", ...}}`` (tpdu/header only where the dialect has them).
Field keys are decimal strings sorted numerically; ``n``/``z``/``an``/``ans``
values are strings, ``b`` values hex, BER-TLV fields an object of
tag -> hex in wire order (constructed tags nest; a tag repeated at one level
becomes a list), subfield fields an object of name -> digits (a digit string
given for one is shown split, as decoding the encoded message gives it: the
journal keeps a request's JSON, and 62 digits of settlement totals in one
string read as card numbers to a scanner). ``message_from_json(message_to_json(m))
== m``, but for such a string, which comes back split.

The hex of a ``b`` value is written with a colon between bytes (``32:37:39:31``,
:mod:`terminal.digest_text`), and read with colons, spaces or nothing between:
a CUP MAC (field 64) is ASCII hex, so its plain hex is 16 decimal digits, which
pass a card scanner's Luhn check one time in ten. A tag's value stays plain hex,
the form EMV tools and the masking of tags 5A and 57 (BCD card numbers) expect.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from terminal.digest_text import colon_hex, parse_hex
from terminal.protocol.dialect import Dialect
from terminal.protocol.dialects import get_dialect
from terminal.protocol.errors import EncodeValueError, UnknownFieldError
from terminal.protocol.formats import FieldFormat
from terminal.protocol.message import Message, Tpdu
from terminal.protocol.subfields import SubfieldLayout
from terminal.protocol.tlv import MAX_DEPTH, IccData, Tlv, value_problem

__all__ = ["message_from_json", "message_to_json"]


def message_to_json(message: Message, dialect: str | Dialect = "cup") -> dict[str, Any]:
    """``message`` as plain JSON types, following ``dialect``'s field formats."""
    table = _table(dialect)
    obj: dict[str, Any] = {"mti": message.mti}
    if message.tpdu is not None:
        obj["tpdu"] = message.tpdu.hex()
    if message.header is not None:
        obj["header"] = message.header
    fields: dict[str, Any] = {}
    for number in sorted(message.fields):
        fmt = table.get(number)
        if fmt is None:
            raise UnknownFieldError(f"the dialect has no field {number!r}", field=str(number))
        fields[str(number)] = _value_to_json(message.fields[number], fmt, str(number))
    obj["fields"] = fields
    return obj


def message_from_json(obj: Mapping[str, Any], dialect: str | Dialect = "cup") -> Message:
    """The :class:`Message` for a dict in the shape above; bad shapes raise
    :class:`EncodeValueError` naming the part."""
    table = _table(dialect)
    if not isinstance(obj, Mapping):
        raise EncodeValueError("a message must be a JSON object")
    unknown = set(obj) - {"mti", "tpdu", "header", "fields"}
    if unknown:
        raise EncodeValueError(f"unknown key(s) {sorted(unknown)}", field="message")
    tpdu = None
    if obj.get("tpdu") is not None:
        try:
            tpdu = Tpdu.fromhex(obj["tpdu"])
        except (ValueError, TypeError):
            raise EncodeValueError(
                f"tpdu must be 10 hex digits, got {obj['tpdu']!r}", field="tpdu"
            ) from None
    header = obj.get("header")
    raw_fields = obj.get("fields", {})
    if not isinstance(raw_fields, Mapping):
        raise EncodeValueError("fields must be an object", field="fields")
    fields: dict[int, Any] = {}
    for key, value in raw_fields.items():
        if not (isinstance(key, str) and key.isdigit() and key.isascii()):
            raise UnknownFieldError(f"field key {key!r} is not a number", field=str(key))
        number = int(key)
        fmt = table.get(number)
        if fmt is None:
            raise UnknownFieldError(f"the dialect has no field {number}", field=key)
        fields[number] = _value_from_json(value, fmt, key)
    try:
        return Message(obj.get("mti"), fields, tpdu, header)  # type: ignore[arg-type]
    except ValueError as error:
        raise EncodeValueError(str(error), field="mti") from None


def _table(dialect: str | Dialect) -> Mapping[int, FieldFormat]:
    return (get_dialect(dialect) if isinstance(dialect, str) else dialect).fields


def _value_to_json(value: Any, fmt: FieldFormat, name: str) -> Any:
    if fmt.structure == "tlv" and isinstance(value, IccData):
        return _tlv_to_json(value)
    if isinstance(fmt.structure, SubfieldLayout):
        if isinstance(value, Mapping):
            return dict(value)
        if _splittable(value, fmt.structure):
            return fmt.structure.split(value)
    if isinstance(value, bytes | bytearray):
        return colon_hex(bytes(value))
    if isinstance(value, str):
        return value
    raise EncodeValueError(f"cannot show a {type(value).__name__} as JSON", field=name)


def _splittable(value: Any, layout: SubfieldLayout) -> bool:
    """A digit string the codec would send as it is and decode into ``layout``'s subfields."""
    return (type(value) is str and value.isdigit() and value.isascii()
            and len(value) <= layout.total)


def _tlv_to_json(data: IccData) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for item in data:
        shown = _tlv_to_json(item.value) if isinstance(item.value, IccData) else item.value.hex()
        if item.tag not in obj:
            obj[item.tag] = shown
        elif isinstance(obj[item.tag], list):
            obj[item.tag].append(shown)
        else:
            obj[item.tag] = [obj[item.tag], shown]
    return obj


def _value_from_json(value: Any, fmt: FieldFormat, name: str) -> Any:
    if fmt.structure == "tlv" and isinstance(value, Mapping):
        return _tlv_from_json(value, name)
    if isinstance(fmt.structure, SubfieldLayout) and isinstance(value, Mapping):
        return dict(value)
    if fmt.kind == "b":
        return _hex(value, name)
    if not isinstance(value, str):
        raise EncodeValueError(f"needs a string, got {type(value).__name__}", field=name)
    return value


def _tlv_from_json(obj: Mapping[str, Any], path: str, depth: int = 1) -> IccData:
    """Tag -> hex (primitive tags) or tag -> object (constructed tags, nested at most
    :data:`~terminal.protocol.tlv.MAX_DEPTH` levels, like decoding allows)."""
    items: list[Tlv] = []
    for tag, shown in obj.items():
        here = f"{path}.{tag}"
        values = shown if isinstance(shown, list) else [shown]
        for value in values:
            if isinstance(value, Mapping):
                if depth >= MAX_DEPTH:
                    raise EncodeValueError(
                        f"constructed tags nested deeper than {MAX_DEPTH} levels", field=here
                    )
                parsed: Any = _tlv_from_json(value, here, depth + 1)
            else:
                parsed = _hex(value, here)
            try:
                item = Tlv(tag, parsed)
            except ValueError as error:
                raise EncodeValueError(str(error), field=here) from None
            problem = value_problem(item.tag, item.value)
            if problem:
                raise EncodeValueError(problem, field=here)
            items.append(item)
    return IccData(tuple(items))


def _hex(value: Any, name: str) -> bytes:
    if not isinstance(value, str):
        raise EncodeValueError(f"needs a hex string, got {type(value).__name__}", field=name)
    try:
        return parse_hex(value)
    except ValueError:
        raise EncodeValueError(f"{value!r} is not hex", field=name) from None
