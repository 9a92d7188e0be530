"""The host's refund and void rules, checked before anything is sent.

The acquirer enforces its own rules (the simulator does too); the host checks
them first so that a wrong refund never reaches the wire and the cashier
learns why at once, in Chinese and English. Every refusal is a
:class:`Refused` with a stable rule id (scripts test it) and the figures that
matter (what may still be refunded). The rules are small functions over the
journal's view of the original and what followed it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from terminal.card_data import holds_card_number
from terminal.errors import TerminalError
from terminal.journal import audit, grants, lookup, staff
from terminal.journal.entry import EntryState, JournalEntry
from terminal.journal.store import Journal, OriginalNotFound
from terminal.protocol.catalogue import CATALOGUE, Kind
from terminal.transactions.amount import format_fen

__all__ = [
    "DEFAULT_WINDOW_DAYS",
    "GRANT_WINDOW",
    "MESSAGES",
    "REASON_LABELS",
    "RUNG_UP",
    "SUPERVISED",
    "HostRules",
    "NoOriginal",
    "RefundReason",
    "Refused",
    "Rule",
    "check_operator",
    "check_reason",
    "check_supervisor",
    "default_operator",
    "reason_text",
    "refund_window_days",
]

DEFAULT_WINDOW_DAYS = 180

#: The transactions a cashier rings up, by the action the audit trail names (the CLI
#: names them the same): on a lane with operators, only a current one may.
RUNG_UP: Mapping[Kind, str] = {
    Kind.SALE: "sale",
    Kind.VOID: "void",
    Kind.REFUND: "refund",
    Kind.PREAUTH: "preauth",
    Kind.PREAUTH_CANCEL: "preauth cancel",
    Kind.COMPLETION: "preauth complete",
    Kind.COMPLETION_VOID: "preauth void",
    Kind.SETTLEMENT: "settle",
}
#: Those a supervisor authorises besides (the CLI asks for their password under this name).
SUPERVISED: Mapping[Kind, str] = {
    kind: RUNG_UP[kind]
    for kind in (Kind.VOID, Kind.REFUND, Kind.COMPLETION_VOID, Kind.SETTLEMENT)
}
#: How long a supervisor's authorisation stays good for the transaction it was given for:
#: long enough to fetch the customer's card, short enough that it is not left lying about.
GRANT_WINDOW = timedelta(minutes=2)


class Rule(enum.StrEnum):
    """Why the host refused; the value is what ``--json`` says in ``rule``."""

    ORIGINAL_NOT_FOUND = "original-not-found"
    ORIGINAL_NOT_APPROVED = "original-not-approved"
    OVER_REFUNDABLE = "over-refundable"
    OUTSIDE_WINDOW = "outside-window"
    ALREADY_VOIDED = "already-voided"
    HAS_REFUND = "has-refund"
    SETTLED_BATCH = "settled-batch"
    NEEDS_SUPERVISOR = "needs-supervisor"
    BAD_PASSWORD = "bad-password"
    LOCKED_OUT = "locked-out"
    BAD_REASON = "bad-reason"
    NOT_ON_DUTY = "not-on-duty"


#: Each rule's words for the cashier: Chinese, then English.
MESSAGES: dict[Rule, tuple[str, str]] = {
    Rule.ORIGINAL_NOT_FOUND: ("原交易不存在", "the original transaction is not in the journal"),
    Rule.ORIGINAL_NOT_APPROVED: ("原交易未成功", "the original transaction was not approved"),
    Rule.OVER_REFUNDABLE: ("退货金额超过可退金额", "the refund is more than can still be refunded"),
    Rule.OUTSIDE_WINDOW: ("超过退货期限", "the original is older than the refund window"),
    Rule.ALREADY_VOIDED: ("原交易已撤销", "the original has already been voided"),
    Rule.HAS_REFUND: ("原交易已退货，不能撤销", "the original has a refund and cannot be voided"),
    Rule.SETTLED_BATCH: (
        "原交易已结算，不能撤销，请做退货",
        "the original's batch is settled: it cannot be voided, refund it instead",
    ),
    Rule.NEEDS_SUPERVISOR: ("需要主管授权", "a supervisor must authorise this"),
    Rule.BAD_PASSWORD: ("密码错误", "wrong password"),
    Rule.LOCKED_OUT: ("操作员已锁定，请管理员解锁", "the operator is locked: an admin must unlock"),
    Rule.BAD_REASON: ("退货原因无效", "name a refund reason (and a note with other)"),
    Rule.NOT_ON_DUTY: ("操作员无权操作", "the cashier is not a current operator of this lane"),
}


class Refused(TerminalError):
    """The host refused before sending anything. ``facts`` go into the JSON as they are."""

    def __init__(self, rule: Rule, detail: str = "", **facts: Any) -> None:
        chinese, english = MESSAGES[rule]
        self.rule = rule
        self.detail = detail
        self.facts = facts
        self.message = f"{chinese} / {english}" + (f": {detail}" if detail else "")
        super().__init__(self.message)

    def to_dict(self) -> dict[str, Any]:
        return {"refused": True, "rule": self.rule.value, "message": self.message, **self.facts}


class NoOriginal(Refused, OriginalNotFound):
    """``original-not-found`` or ``original-not-approved``: also the journal's own
    :class:`~terminal.journal.store.OriginalNotFound`, which callers already catch."""


class RefundReason(enum.StrEnum):
    """Why money goes back; journaled with the refund and printed on its slip."""

    RETURNED = "returned"
    WRONG_AMOUNT = "wrong-amount"
    DUPLICATE = "duplicate"
    NOT_PROVIDED = "not-provided"
    OTHER = "other"


#: What a slip and a screen say for each reason: Chinese, then English.
REASON_LABELS: dict[RefundReason, str] = {
    RefundReason.RETURNED: "顾客退货 returned",
    RefundReason.WRONG_AMOUNT: "金额错误 wrong amount",
    RefundReason.DUPLICATE: "重复交易 duplicate",
    RefundReason.NOT_PROVIDED: "未提供商品或服务 not provided",
    RefundReason.OTHER: "其他 other",
}


def reason_text(reason: RefundReason, note: str | None) -> str:
    """The reason as journaled for people (printed on the refund slip)."""
    label = REASON_LABELS[reason]
    return f"{label}: {note}" if note else label


def check_reason(reason: str | None, note: str | None) -> tuple[RefundReason, str | None]:
    """A known reason, and a note when the reason is ``other``; refused otherwise.

    A note that holds a card number (:func:`terminal.card_data.holds_card_number`)
    is refused too (``bad-reason``), before anything is journaled or sent."""
    try:
        known = RefundReason(reason or "")
    except ValueError:
        choices = ", ".join(r.value for r in RefundReason)
        raise Refused(Rule.BAD_REASON, f"--reason must be one of {choices}") from None
    note = (note or "").strip() or None
    if known is RefundReason.OTHER and note is None:
        raise Refused(Rule.BAD_REASON, "--reason other needs --note TEXT")
    if note is not None and holds_card_number(note):
        # Journaled, printed and shown as typed: the card's number would be on disk in
        # full. The message names the field only, never what was typed.
        raise Refused(Rule.BAD_REASON, "--note must not hold a card number: the card is read"
                      " by the terminal, the journal keeps it masked")
    if note is not None and len(note) > 200:
        raise Refused(Rule.BAD_REASON, "--note is at most 200 characters")
    return known, note


def check_operator(operator: str | None) -> None:
    """Refuse (``not-on-duty``, ``malformed``) a cashier id that holds a card number, on any
    lane, staffed or not: it would be journaled with every exchange and audited. The
    command line refuses every malformed id earlier
    (:meth:`terminal.operators.Operators.on_duty`); this is the library's floor, for
    a POS that drives :class:`~terminal.transactions.client.TerminalClient` with its
    own ids. The refusal does not repeat the id."""
    if operator is not None and holds_card_number(operator):
        raise Refused(Rule.NOT_ON_DUTY, "an operator id must not be a card number: it is"
                      " journaled with every exchange", operator=None,
                      operator_refused="malformed")


def check_supervisor(supervisor: str | None) -> None:
    """Refuse (``needs-supervisor``) a supervisor id that holds a card number, on any lane:
    it would be journaled with the void, refund or settlement it authorises. The refusal
    does not repeat the id."""
    if supervisor is not None and holds_card_number(supervisor):
        raise Refused(Rule.NEEDS_SUPERVISOR, "a supervisor id must not be a card number: it is"
                      " journaled with what it authorises", authoriser=None)


def refund_window_days(config: Mapping[str, Any]) -> int:
    """``[refunds] window_days`` (checked by the config schema), else 180."""
    return int(config.get("refunds", {}).get("window_days", DEFAULT_WINDOW_DAYS))


def default_operator(config: Mapping[str, Any]) -> str | None:
    """``[operators] default_operator``: the cashier when ``--operator`` is not given."""
    value = config.get("operators", {}).get("default_operator")
    return str(value) if value else None


@dataclass(frozen=True)
class HostRules:
    """The rules of one lane's journal. ``today`` is injected (refund windows, tests)."""

    journal: Journal
    lane: str
    window_days: int = DEFAULT_WINDOW_DAYS
    today: Callable[[], date] = date.today

    def original(
        self, kind: Kind, *, rrn: str | None = None, trace: str | None = None,
        date_mmdd: str | None = None,
    ) -> JournalEntry:
        """The approved original a ``kind`` names (by RRN, or trace and date)."""
        if not rrn and not trace:
            raise NoOriginal(
                Rule.ORIGINAL_NOT_FOUND, "name the original by --rrn, or --trace and --date"
            )
        shown = f"{int(trace):06d}" if trace and trace.isdigit() else trace
        wanted = f"RRN {rrn}" if rrn else f"trace {shown}"
        if not rrn and date_mmdd:
            wanted += f" of {date_mmdd}"
        found = lookup.candidates(
            self.journal, self.lane, CATALOGUE[kind].originals, rrn=rrn, trace=trace,
            date_mmdd=date_mmdd,
        )
        if not found:
            raise NoOriginal(Rule.ORIGINAL_NOT_FOUND, f"no {wanted} in the journal",
                             original=wanted)
        approved = [e for e in found if e.state is EntryState.APPROVED]
        if not approved:
            return self._not_approved(found[0], wanted)
        return approved[0]

    def check_void(self, original: JournalEntry) -> None:
        """A void is whole, of the open batch, once, and not of a sale with a refund."""
        later = lookup.followers(self.journal, original.id)
        facts = _figures(original, later)
        if lookup.voided(later):
            raise Refused(Rule.ALREADY_VOIDED, f"{_name(original)} is voided", **facts)
        current = self.journal.batch(self.lane)
        if original.batch != current:
            raise Refused(
                Rule.SETTLED_BATCH, f"{_name(original)} is of batch {original.batch},"
                f" the open batch is {current}", **facts,
            )
        if any(e.kind is Kind.REFUND and e.state in lookup.COMMITTED for e in later):
            raise Refused(Rule.HAS_REFUND, f"{_name(original)} has a refund", **facts)

    def check_refund(self, original: JournalEntry, amount_fen: int) -> None:
        """At most what is left, within the window, never of a voided original."""
        later = lookup.followers(self.journal, original.id)
        facts = _figures(original, later)
        if lookup.voided(later):
            raise Refused(Rule.ALREADY_VOIDED, f"{_name(original)} is voided", **facts)
        made = datetime.fromisoformat(original.created_at).date()
        age = (self.today() - made).days
        if age > self.window_days:
            raise Refused(
                Rule.OUTSIDE_WINDOW,
                f"{_name(original)} is {age} days old; the window is {self.window_days} days",
                age_days=age, window_days=self.window_days, **facts,
            )
        if amount_fen > facts["refundable_fen"]:
            raise Refused(
                Rule.OVER_REFUNDABLE,
                f"{format_fen(amount_fen)} yuan asked, {format_fen(facts['refundable_fen'])}"
                " yuan can still be refunded", requested_fen=amount_fen, **facts,
            )

    def on_duty(self, kind: Kind, operator: str | None, *, now: datetime) -> None:
        """On a lane with operators, only a current one (not removed, not locked) rings up
        a ``kind`` of :data:`RUNG_UP`; raises :class:`Refused` (``not-on-duty``), audited,
        before anything is journaled or sent. The same rule as the CLI's ``--operator``
        check (:meth:`terminal.operators.Operators.on_duty`), for a POS that drives the
        library with its own cashier ids."""
        action = RUNG_UP.get(kind)
        if action is None:
            return
        db = self.journal.connection
        why = staff.not_on_duty(db, self.lane, operator)
        if why is None:
            return
        named = operator if operator and staff.is_operator(db, self.lane, operator) else None
        who = named or ("nobody" if operator is None else "someone who is no operator here")
        audit.record(db, self.lane, now, operator=named, action=action, authorised_by=None,
                     outcome=f"operator-{why}", detail=f"{action} by {why} operator")
        raise Refused(Rule.NOT_ON_DUTY, f"{action} rung up by {who} ({why} on lane"
                      f" {self.lane})", operator=named, operator_refused=why)

    def authorisation(
        self, kind: Kind, supervisor: str | None, *, operator: str | None, now: datetime
    ) -> int | None:
        """The supervisor's grant a ``kind`` spends (:mod:`terminal.journal.grants`); None
        when ``kind`` needs none, or the lane has no operators to authorise anything yet.

        The grant is the audit row of ``supervisor``'s good password for this action
        (:meth:`terminal.operators.Operators.authorise`), written in the last
        :data:`GRANT_WINDOW` and not spent on another transaction. Without one this
        raises :class:`Refused` (``needs-supervisor``), audited, before anything is
        journaled or sent: a POS driving the library gets the rule ``terminal refund``
        has.
        """
        action = SUPERVISED.get(kind)
        db = self.journal.connection
        if action is None or not staff.staffed(db, self.lane):
            return None
        grant = None
        if supervisor:
            grant = grants.find(db, self.lane, action, supervisor,
                                since=(now - GRANT_WINDOW).isoformat(),
                                until=(now + _CLOCK_SKEW).isoformat())
        if grant is not None:
            return grant
        named = supervisor if supervisor and staff.is_operator(db, self.lane, supervisor) else None
        minutes = int(GRANT_WINDOW.total_seconds() // 60)
        audit.record(db, self.lane, now, operator=operator, action=action, authorised_by=named,
                     outcome=Rule.NEEDS_SUPERVISOR.value,
                     detail=f"no unused authorisation of the last {minutes} minutes")
        who = f"{named}'s" if named else "a supervisor's"
        raise Refused(
            Rule.NEEDS_SUPERVISOR,
            f"{action} needs {who} password, given in the last {minutes} minutes and not"
            " used for another transaction", authoriser=named,
        )

    def _not_approved(self, entry: JournalEntry, wanted: str) -> JournalEntry:
        raise NoOriginal(
            Rule.ORIGINAL_NOT_APPROVED,
            f"the {entry.kind.value} with {wanted} is {entry.state.value}",
            original=wanted, state=entry.state.value,
        )


#: A grant written this far after ``now`` still counts (two clocks read a moment apart);
#: one from later than that is not believed (a clock set back must not revive old grants).
_CLOCK_SKEW = timedelta(seconds=5)


def _figures(original: JournalEntry, later: list[JournalEntry]) -> dict[str, Any]:
    refunded = lookup.refunded_fen(later)
    amount = original.amount_fen or 0
    left = 0 if lookup.voided(later) else max(amount - refunded, 0)
    return {"original_fen": amount, "refunded_fen": refunded, "refundable_fen": left,
            "original": original.as_original().to_dict()}


def _name(entry: JournalEntry) -> str:
    return f"{entry.kind.value} RRN {entry.rrn or '-'} trace {entry.trace}"
