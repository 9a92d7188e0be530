"""The simulated issuer's decision: an ordered table of (rule, response code).

The order is the order a real issuer checks in, and it matters: a stolen card
that is also expired is reported stolen (43), so that the cashier keeps the card
rather than handing it back. The first rule that matches decides; none matching
is approval (``00``). The table is data, so a test or a scenario can read which
codes the simulator can give and in what precedence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from simulator.cards import CardProfile, CardStatus, PinOutcome
from terminal.protocol.response_codes import APPROVED

__all__ = [
    "APPROVED",
    "RULES",
    "Authorisation",
    "IssuerRule",
    "decide",
    "is_expired",
]


@dataclass(frozen=True)
class Authorisation:
    """What the issuer is asked: this card, this amount (fen; ``None`` for an
    inquiry, which moves no money), against this balance, on this day."""

    card: CardProfile
    amount: int | None
    balance: int
    today: date


@dataclass(frozen=True)
class IssuerRule:
    """One row of the table: ``check`` true means decline with ``code``."""

    name: str
    code: str
    check: Callable[[Authorisation], bool]


def is_expired(expiry: str, today: date) -> bool:
    """A YYMM card is good through the last day of that month (20YY)."""
    year, month = 2000 + int(expiry[:2]), int(expiry[2:])
    return (year, month) < (today.year, today.month)


RULES: tuple[IssuerRule, ...] = (
    IssuerRule("lost card", "41", lambda a: a.card.status is CardStatus.LOST),
    IssuerRule("stolen card", "43", lambda a: a.card.status is CardStatus.STOLEN),
    IssuerRule("expired card", "54", lambda a: is_expired(a.card.expiry, a.today)),
    IssuerRule("incorrect PIN", "55", lambda a: a.card.pin is PinOutcome.WRONG),
    IssuerRule(
        "over the card's limit",
        "61",
        lambda a: a.amount is not None and a.card.limit is not None and a.amount > a.card.limit,
    ),
    IssuerRule("insufficient funds", "51", lambda a: a.amount is not None and a.amount > a.balance),
)


def decide(request: Authorisation, rules: tuple[IssuerRule, ...] = RULES) -> str:
    """The response code (field 39) for ``request``: the first matching rule's, else ``00``."""
    for rule in rules:
        if rule.check(request):
            return rule.code
    return APPROVED
