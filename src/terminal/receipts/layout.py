"""Layouts as data: a TOML template per document and paper width, checked when loaded.

``layouts/transaction-32.toml`` is the slip on 58 mm paper (32 columns),
``transaction-48.toml`` on 80 mm (48), and the same for ``settlement``. A
template is a list of rows::

    [[row]]
    type = "pair"                 # text | pair | columns | wrap | rule | blank | qr
    label = "凭证号 TRACE"
    value = "{trace}"
    when = "approved"             # only when this value is true (unless = ... the opposite)

Placeholders name the document's fields (:data:`~terminal.receipts.model.TRANSACTION_FIELDS`);
a row whose placeholders all come out empty is left off, so a balance slip has
no amount row and a sale no "original" rows without a condition in the
template. Loading refuses an unknown row type, field, size or alignment, and a
``columns`` row whose widths do not add up to the paper: a mistake in a
template shows when the program starts, not on a customer's slip.
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from terminal.errors import ConfigError
from terminal.receipts.cells import cells, fit, pad_left, pad_right, wrap
from terminal.receipts.document import Align, Block, Document, Feed, QrCode, TextLine
from terminal.receipts.model import SETTLEMENT_FIELDS, TRANSACTION_FIELDS

__all__ = ["SIZES", "Template", "layout", "load_template", "parse_template"]

SIZES: dict[str, tuple[int, int]] = {
    "normal": (1, 1),
    "double-height": (1, 2),
    "double-width": (2, 1),
    "double": (2, 2),
}
DOCUMENT_FIELDS: dict[str, frozenset[str]] = {
    "transaction": TRANSACTION_FIELDS,
    "settlement": SETTLEMENT_FIELDS,
}
_ROW_KEYS: dict[str, set[str]] = {
    "text": {"text", "align", "size", "bold"},
    "pair": {"label", "value", "size", "bold"},
    "columns": {"cells", "widths", "aligns", "bold"},
    "wrap": {"text", "bold"},
    "rule": {"char"},
    "blank": {"lines"},
    "qr": {"data", "module"},
}
_COMMON_KEYS = {"type", "when", "unless"}


@dataclass(frozen=True, slots=True)
class Template:
    """A checked template: the document it lays out, its width, its rows."""

    document: str
    columns: int
    rows: tuple[Mapping[str, Any], ...]
    source: str


@cache
def load_template(document: str, columns: int) -> Template:
    """The packaged template for ``document`` (``transaction``, ``settlement``) at
    ``columns`` (32 or 48)."""
    name = f"{document}-{columns}.toml"
    resource = resources.files("terminal.receipts").joinpath("layouts", name)
    try:
        text = resource.read_text("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"no receipt layout {name} (papers of 32 and 48 columns)") from None
    return parse_template(text, source=name)


def parse_template(text: str, *, source: str) -> Template:
    """Parse and check a template; :class:`ConfigError` names the file, row and key."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: {exc}") from exc
    document, columns, rows = data.get("document"), data.get("columns"), data.get("row")
    if document not in DOCUMENT_FIELDS:
        raise ConfigError(f"{source}: document must be one of {sorted(DOCUMENT_FIELDS)}")
    if not isinstance(columns, int) or not 16 <= columns <= 80:
        raise ConfigError(f"{source}: columns must be a whole number of cells, 16 to 80")
    if not isinstance(rows, list) or not rows:
        raise ConfigError(f"{source}: a template needs [[row]] entries")
    for number, row in enumerate(rows, 1):
        _check_row(row, DOCUMENT_FIELDS[document], columns, f"{source} row {number}")
    return Template(document, columns, tuple(rows), source)


def layout(template: Template, values: Mapping[str, Any], name: str | None = None) -> Document:
    """The document ``template`` makes of ``values`` (a receipt's :meth:`fields`)."""
    blocks: list[Block] = []
    for row in template.rows:
        if not _wanted(row, values):
            continue
        blocks.extend(_ROW_RENDERERS[row["type"]](row, values, template.columns))
    return Document(name or template.document, template.columns, tuple(blocks))


# -- checking ------------------------------------------------------------------


def _check_row(row: Any, names: frozenset[str], columns: int, where: str) -> None:
    if not isinstance(row, dict) or row.get("type") not in _ROW_KEYS:
        raise ConfigError(f"{where}: type must be one of {sorted(_ROW_KEYS)}")
    kind = row["type"]
    unknown = set(row) - _ROW_KEYS[kind] - _COMMON_KEYS
    if unknown:
        raise ConfigError(f"{where}: a {kind} row has no {', '.join(sorted(unknown))}")
    for key in ("when", "unless"):
        if key in row and row[key] not in names:
            raise ConfigError(f"{where}: {key} names unknown field {row[key]!r}")
    for key in ("text", "label", "value", "data", "char"):
        if key in row:
            if not isinstance(row[key], str):
                raise ConfigError(f"{where}: {key} must be a string")
            _check_placeholders(row[key], names, f"{where} {key}")
    if "size" in row and row["size"] not in SIZES:
        raise ConfigError(f"{where}: size must be one of {sorted(SIZES)}")
    if "align" in row and row["align"] not in {a.value for a in Align}:
        raise ConfigError(f"{where}: align must be left, center or right")
    if kind == "rule" and cells(row.get("char", "-")) != 1:
        raise ConfigError(f"{where}: a rule's char takes one cell")
    if kind == "columns":
        _check_columns(row, names, columns, where)
    if kind == "qr" and not 1 <= row.get("module", 4) <= 16:
        raise ConfigError(f"{where}: module must be 1 to 16 dots")


def _check_columns(row: Mapping[str, Any], names: frozenset[str], columns: int, where: str):
    texts, widths = row.get("cells"), row.get("widths")
    aligns = row.get("aligns", ["left"] * len(texts or []))
    if not (isinstance(texts, list) and isinstance(widths, list) and texts
            and len(texts) == len(widths) == len(aligns)):
        raise ConfigError(f"{where}: cells, widths and aligns must be lists of one length")
    if sum(widths) != columns:
        raise ConfigError(f"{where}: widths add up to {sum(widths)}, the paper has {columns}")
    for text in texts:
        _check_placeholders(text, names, f"{where} cells")
    if any(a not in ("left", "right") for a in aligns):
        raise ConfigError(f"{where}: aligns are left or right")


def _check_placeholders(text: str, names: frozenset[str], where: str) -> None:
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from exc
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in names or spec or conversion:
            raise ConfigError(f"{where}: unknown field {{{name}}}")


# -- rendering -----------------------------------------------------------------


def _wanted(row: Mapping[str, Any], values: Mapping[str, Any]) -> bool:
    if "when" in row and not values[row["when"]]:
        return False
    return not ("unless" in row and values[row["unless"]])


def _fill(text: str, values: Mapping[str, Any]) -> tuple[str, bool]:
    """``text`` with its placeholders filled, and whether any placeholder had a value
    (True for text without placeholders)."""
    names = [name for _, name, _, _ in string.Formatter().parse(text) if name]
    filled = text.format_map({name: values[name] for name in names})
    return filled, not names or any(str(values[name]) for name in names)


def _size(row: Mapping[str, Any]) -> tuple[int, int]:
    return SIZES[row.get("size", "normal")]


def _text(row, values, columns) -> list[Block]:
    text, present = _fill(row["text"], values)
    if not present:
        return []
    width, height = _size(row)
    align, bold = Align(row.get("align", "left")), row.get("bold", False)
    # Wrapped, never cut: a long merchant name must not lose its end.
    return [TextLine(part, align, bold, width, height) for part in wrap(text, columns // width)]


def _pair(row, values, columns) -> list[Block]:
    value, present = _fill(row["value"], values)
    if not present:
        return []
    label, _ = _fill(row["label"], values)
    width, height = _size(row)
    room = columns // width
    bold = row.get("bold", False)
    if cells(label) + 1 + cells(value) <= room:
        line = label + " " * (room - cells(label) - cells(value)) + value
        return [TextLine(line, Align.LEFT, bold, width, height)]
    # Too long for one line: the label, then the value against the right edge.
    return [TextLine(fit(label, room), Align.LEFT, bold, width, height)] + [
        TextLine(pad_left(part, room), Align.LEFT, bold, width, height)
        for part in wrap(value, room)
    ]


def _columns(row, values, columns) -> list[Block]:
    aligns = row.get("aligns", ["left"] * len(row["cells"]))
    bold = row.get("bold", False)
    filled = [_fill(text, values)[0] for text in row["cells"]]
    if any(cells(text) > width for text, width in zip(filled, row["widths"], strict=True)):
        # An amount too long for its column is never cut: the first cell on a line
        # of its own, the rest against the right edge below it.
        rest = " ".join(filled[1:])
        return [TextLine(line, Align.LEFT, bold) for line in wrap(filled[0], columns)] + [
            TextLine(pad_left(line, columns), Align.LEFT, bold) for line in wrap(rest, columns)
        ]
    parts = [pad_left(text, width) if align == "right" else pad_right(text, width)
             for text, width, align in zip(filled, row["widths"], aligns, strict=True)]
    return [TextLine("".join(parts).rstrip(), Align.LEFT, bold)]


def _wrap(row, values, columns) -> list[Block]:
    text, present = _fill(row["text"], values)
    if not present:
        return []
    return [TextLine(line, Align.LEFT, row.get("bold", False)) for line in wrap(text, columns)]


def _rule(row, values, columns) -> list[Block]:
    return [TextLine(row.get("char", "-") * columns)]


def _blank(row, values, columns) -> list[Block]:
    return [Feed(row.get("lines", 1))]


def _qr(row, values, columns) -> list[Block]:
    data, present = _fill(row["data"], values)
    if not (present and data):
        return []
    return [QrCode(data, row.get("module", 4))]


_ROW_RENDERERS = {
    "text": _text,
    "pair": _pair,
    "columns": _columns,
    "wrap": _wrap,
    "rule": _rule,
    "blank": _blank,
    "qr": _qr,
}
