"""The registered dialects, by name. Each is a table in its own module."""

from __future__ import annotations

from terminal.protocol.dialect import Dialect
from terminal.protocol.dialects.cup import CUP
from terminal.protocol.dialects.iso87ascii import ISO87ASCII
from terminal.protocol.errors import DialectError

__all__ = ["DIALECTS", "get_dialect"]

_REGISTRY: dict[str, Dialect] = {dialect.name: dialect for dialect in (CUP, ISO87ASCII)}

#: Names of the dialects ``encode``/``decode`` accept.
DIALECTS: tuple[str, ...] = tuple(_REGISTRY)


def get_dialect(name: str) -> Dialect:
    """The dialect called ``name``; :class:`DialectError` if there is none."""
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise DialectError(f"unknown dialect {name!r}; known: {', '.join(DIALECTS)}") from None
