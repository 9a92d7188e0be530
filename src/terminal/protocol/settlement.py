"""Field 48 of a settlement: the batch totals the host sends and the acquirer answers.

Shared by the host (it sends its totals in the 0500 and reads the verdict in the
0510) and the simulator (it compares the totals with its books and sets the
verdict), so that both read the subfields of :data:`~terminal.protocol.dialects.cup.FIELD_48`
by the same names. A decoded 0500 or 0510 holds 48 as those subfields; a value
built in code may still be the 62 digits as one string, so every reader here
takes either.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from terminal.protocol.dialects.cup import FIELD_48
from terminal.protocol.subfields import SubfieldLayout

__all__ = ["Reconciliation", "SettlementFigures", "answer_field", "reconciliation",
           "settlement_field", "settlement_figures"]

#: The domestic totals: debit amount and count, credit amount and count, reconciliation code.
_DOMESTIC = SubfieldLayout(FIELD_48.parts[:5], partial=False)
#: Digits of the domestic totals (the foreign ones follow, as many).
DOMESTIC_DIGITS = _DOMESTIC.total


class Reconciliation(enum.StrEnum):
    """The reconciliation code of a total: blank in the 0500, the acquirer's verdict in the 0510."""

    NOT_SET = "0"
    BALANCED = "1"
    NOT_BALANCED = "2"
    ERROR = "3"


@dataclass(frozen=True, slots=True)
class SettlementFigures:
    """The domestic totals of a batch in fen (debits: sales and completions; credits: refunds)."""

    debit_amount: int
    debit_count: int
    credit_amount: int
    credit_count: int


def settlement_field(figures: SettlementFigures) -> dict[str, str]:
    """Field 48 of the 0500: ``figures`` as the domestic totals, no foreign card taken."""
    domestic = (figures.debit_amount, figures.debit_count, figures.credit_amount,
                figures.credit_count, int(Reconciliation.NOT_SET))
    values = dict(zip(_DOMESTIC.names, domestic, strict=True))
    return {name: f"{values.get(name, 0):0{size}d}" for name, size in FIELD_48.parts}


def settlement_figures(value: object) -> SettlementFigures | None:
    """The domestic totals of a 0500's field 48 (subfields, or at least the 31 domestic
    digits as a string); ``None`` when they cannot be read."""
    parts = _subfields(value)
    if parts is None:
        return None
    return SettlementFigures(*(int(parts[name]) for name in _DOMESTIC.names[:4]))


def reconciliation(value: object) -> Reconciliation | None:
    """The acquirer's verdict on the domestic totals of a 0510's field 48 (``None`` when
    48 is missing or unreadable, or the code is none of the four)."""
    parts = _subfields(value)
    if parts is None:
        return None
    try:
        return Reconciliation(parts["reconciliation"])
    except ValueError:
        return None


def answer_field(value: object, verdict: Reconciliation) -> dict[str, str] | str:
    """Field 48 of the 0510: the host's digits as they came, each reconciliation code set to
    ``verdict`` (subfields when they came as all 62 digits, else the digits with every
    31st set, as the host wrote them)."""
    if isinstance(value, Mapping):
        answer = dict(value)
        for name in ("reconciliation", "foreign_reconciliation"):
            if name in answer:
                answer[name] = verdict.value
        return answer
    digits = list(str(value))
    for position in range(DOMESTIC_DIGITS - 1, len(digits), DOMESTIC_DIGITS):
        digits[position] = verdict.value
    return FIELD_48.split("".join(digits))


def _subfields(value: object) -> Mapping[str, str] | None:
    """The domestic subfields of ``value``, each of its digits, or ``None``."""
    if type(value) is str and value.isdigit() and value.isascii():
        value = _DOMESTIC.split(value[:DOMESTIC_DIGITS])
    if not isinstance(value, Mapping):
        return None
    for name, size in _DOMESTIC.parts:
        part = value.get(name)
        if not (type(part) is str and len(part) == size and part.isdigit() and part.isascii()):
            return None
    return value
