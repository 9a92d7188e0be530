"""The ``cup`` dialect: China UnionPay POS messages (see docs/protocol.md).

[TPDU 5][header 6 BCD][MTI 2 BCD][bitmap][fields]; BCD length prefixes (LL one
byte, LLL two); ``n``/``z`` packed BCD, odd lengths left-aligned with a
trailing 0 nibble; 55 is BER-TLV; 48 (a settlement's totals), 60 and 61 have
named subfields (other modules read them by these names).
"""

from __future__ import annotations

from typing import Any

from terminal.protocol.dialect import Dialect
from terminal.protocol.formats import FieldFormat
from terminal.protocol.subfields import SubfieldLayout

__all__ = ["CUP", "FIELD_48", "FIELD_60", "FIELD_61"]

#: A settlement's totals (0500, and the 0510 with each reconciliation code set): domestic
#: cards, then foreign cards. Only a value of all 62 digits is split: a batch-upload end
#: carries a record count (n4) in 48, and a peer's own layout stays its digit string.
FIELD_48 = SubfieldLayout(
    (
        ("debit_amount", 12),
        ("debit_count", 3),
        ("credit_amount", 12),
        ("credit_count", 3),
        ("reconciliation", 1),
        ("foreign_debit_amount", 12),
        ("foreign_debit_count", 3),
        ("foreign_credit_amount", 12),
        ("foreign_credit_count", 3),
        ("foreign_reconciliation", 1),
    ),
    partial=False,
)

FIELD_60 = SubfieldLayout(
    (
        ("message_type", 2),
        ("batch", 6),
        ("network_code", 3),
        ("terminal_read_capability", 1),
        ("ic_condition", 1),
        ("partial_approval", 1),
        ("account_type", 3),
    )
)
FIELD_61 = SubfieldLayout(
    (
        ("original_batch", 6),
        ("original_trace", 6),
        ("original_date", 4),
        ("authorization_method", 2),
        ("authorization_institution", 11),
    )
)


def _f(kind: str, length: int, prefix: str = "fixed", **options: Any) -> FieldFormat:
    return FieldFormat(kind, length, prefix, prefix_encoding="bcd", data_encoding="bcd", **options)  # type: ignore[arg-type]


CUP = Dialect(
    name="cup",
    mti_encoding="bcd",
    tpdu=True,
    header_digits=12,
    description="China UnionPay POS: TPDU, 6-byte BCD header, BCD MTI and lengths",
    fields={
        2: _f("n", 19, "LL"),
        3: _f("n", 6),
        4: _f("n", 12),
        11: _f("n", 6),
        12: _f("n", 6),
        13: _f("n", 4),
        14: _f("n", 4),
        15: _f("n", 4),
        22: _f("n", 3),
        23: _f("n", 3),
        25: _f("n", 2),
        26: _f("n", 2),
        32: _f("n", 11, "LL"),
        35: _f("z", 37, "LL"),
        36: _f("z", 104, "LLL"),
        37: _f("an", 12),
        38: _f("an", 6),
        39: _f("an", 2),
        41: _f("ans", 8),
        42: _f("ans", 15),
        44: _f("an", 25, "LL"),
        48: _f("n", 322, "LLL", structure=FIELD_48),
        49: _f("an", 3),
        52: _f("b", 8),
        53: _f("n", 16),
        54: _f("an", 20, "LLL"),
        55: _f("b", 255, "LLL", structure="tlv"),
        59: _f("ans", 999, "LLL"),
        60: _f("n", 17, "LLL", structure=FIELD_60),
        61: _f("n", 29, "LLL", structure=FIELD_61),
        # Binary: sign-on responses carry working keys (24/40/60 bytes), IC
        # parameter and key downloads carry TLV; JSON shows it as hex.
        62: _f("b", 512, "LLL"),
        # 63.2 carries the issuer's name in Chinese: GBK text (ASCII is a subset).
        63: _f("ans", 163, "LLL", charset="gbk"),
        64: _f("b", 8),
    },
)
