"""The ``iso87ascii`` dialect: ISO 8583:1987 with ASCII MTI, lengths and data.

No TPDU or header; binary bitmap. Byte-compatible with pyiso8583's
``specs.default`` for every field both define (same maxima, so a message one
accepts the other accepts too, except that we also check the character set:
digits in ``n`` fields, letters/digits/space in ``an``, printable in ``ans``).
Field 65 is not defined: pyiso8583 treats its bit as a tertiary bitmap, which
no peer of ours sends. Amount fields ``x+n`` (28-31, 97: a C/D sign and
digits) are ``an`` here. Field 55 stays plain bytes.
"""

from __future__ import annotations

from typing import Any

from terminal.protocol.dialect import Dialect
from terminal.protocol.formats import FieldFormat

__all__ = ["ISO87ASCII"]


def _f(kind: str, length: int, prefix: str = "fixed", **options: Any) -> FieldFormat:
    return FieldFormat(
        kind,  # type: ignore[arg-type]
        length,
        prefix,  # type: ignore[arg-type]
        prefix_encoding="ascii",
        data_encoding="ascii",
        **options,
    )


def _table() -> dict[int, FieldFormat]:
    table: dict[int, FieldFormat] = {
        2: _f("n", 19, "LL"),
        3: _f("n", 6),
        4: _f("n", 12),
        5: _f("n", 12),
        6: _f("n", 12),
        7: _f("n", 10),
        8: _f("n", 8),
        9: _f("n", 8),
        10: _f("n", 8),
        11: _f("n", 6),
        12: _f("n", 6),
        **{number: _f("n", 4) for number in range(13, 19)},
        **{number: _f("n", 3) for number in range(19, 25)},
        25: _f("n", 2),
        26: _f("n", 2),
        27: _f("n", 1),
        **{number: _f("an", 9) for number in range(28, 32)},
        32: _f("n", 11, "LL"),
        33: _f("n", 11, "LL"),
        34: _f("ans", 28, "LL"),
        35: _f("z", 37, "LL"),
        36: _f("z", 104, "LLL"),
        37: _f("an", 12),
        38: _f("an", 6),
        39: _f("an", 2),
        40: _f("an", 3),
        41: _f("ans", 8),
        42: _f("ans", 15),
        43: _f("ans", 40),
        44: _f("an", 25, "LL"),
        45: _f("ans", 76, "LL"),
        46: _f("ans", 999, "LLL"),
        47: _f("ans", 999, "LLL"),
        48: _f("ans", 999, "LLL"),
        49: _f("an", 3),
        50: _f("an", 3),
        51: _f("an", 3),
        52: _f("b", 8),
        53: _f("n", 16),
        54: _f("an", 240, "LLL"),
        55: _f("b", 255, "LLL"),
        **{number: _f("ans", 999, "LLL") for number in range(56, 64)},
        64: _f("b", 8),
        66: _f("n", 1),
        67: _f("n", 2),
        68: _f("n", 3),
        69: _f("n", 3),
        70: _f("n", 3),
        71: _f("n", 4),
        72: _f("n", 4),
        73: _f("n", 6),
        **{number: _f("n", 10) for number in range(74, 82)},
        **{number: _f("n", 12) for number in range(82, 86)},
        **{number: _f("n", 16) for number in range(86, 90)},
        90: _f("n", 42),
        91: _f("an", 1),
        92: _f("an", 2),
        93: _f("an", 5),
        94: _f("an", 7),
        95: _f("an", 42),
        96: _f("b", 8),
        97: _f("an", 17),
        98: _f("ans", 25),
        99: _f("n", 11, "LL"),
        100: _f("n", 11, "LL"),
        101: _f("ans", 17, "LL"),
        102: _f("ans", 28, "LL"),
        103: _f("ans", 28, "LL"),
        104: _f("ans", 100, "LLL"),
        **{number: _f("ans", 999, "LLL") for number in range(105, 128)},
        128: _f("b", 8),
    }
    return table


ISO87ASCII = Dialect(
    name="iso87ascii",
    mti_encoding="ascii",
    tpdu=False,
    header_digits=0,
    description="ISO 8583:1987, ASCII MTI, lengths and data, binary bitmap",
    fields=_table(),
)
