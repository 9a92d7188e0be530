"""Operators and their authority: who may run, authorise and administer, and every try audited.

Operators live in the journal (table ``operators``, chained like the money:
:mod:`terminal.journal.chain`), so the file that says what happened also says
who was allowed to make it happen. Passwords are kept only as
``hashlib.scrypt`` hashes, each with its own random salt; five wrong passwords
in a row lock the operator until an admin unlocks them. Every check, right or
wrong, is written to ``audit`` with the outcome (:mod:`terminal.journal.audit`).

Roles rank: a supervisor may do what a cashier does, an admin what a
supervisor does.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from terminal.card_data import holds_card_number
from terminal.database import transaction
from terminal.journal import audit, grants, staff
from terminal.journal.store import Journal
from terminal.transactions.rules import Refused, Rule

__all__ = [
    "MAX_FAILURES",
    "Operator",
    "OperatorError",
    "OperatorRefused",
    "Operators",
    "Role",
    "check_name",
    "hash_password",
]

MAX_FAILURES = 5
# scrypt cost: n=2**14, r=8, p=1 (16 MiB, ~50 ms): the interactive-login figures of
# the scrypt paper and RFC 7914, fine for a cashier typing a password.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "maxmem": 64 * 1024 * 1024, "dklen": 32}
# An operator id: 1 to 16 letters, digits, '.', '_' or '-'; never a card number (an id of
# 13 to 16 digits is one when it passes the Luhn check, 16 digits always: see
# terminal.card_data.holds_card_number). It is journaled with every transaction and in
# the audit trail, so a staff member who used their card's number as their id would put
# it on disk in full.
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,16}$")
MIN_PASSWORD = 4


class Role(enum.StrEnum):
    CASHIER = "cashier"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)


class OperatorError(Exception):
    """An operator command that cannot be done (unknown name, taken name, weak password)."""


class OperatorRefused(OperatorError):
    """``--operator`` names nobody who may ring up money on this lane.

    ``why`` is ``unknown``, ``removed``, ``locked``, ``missing`` or ``malformed``;
    ``name`` the id as given (``None`` when missing or malformed: such text is not
    written to the audit trail)."""

    def __init__(self, name: str | None, why: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.why = why


@dataclass(frozen=True)
class Operator:
    name: str
    role: Role
    failures: int
    locked: bool
    created_at: str
    updated_at: str


def hash_password(password: str, salt: bytes) -> bytes:
    """scrypt of ``password`` under ``salt`` (32 bytes, kept as they are: no hex text in
    the journal that a card-data scanner could read a number into)."""
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, **_SCRYPT)


class Operators:
    """The operators of one lane (terminal id) in ``journal``."""

    def __init__(self, journal: Journal, lane: str, *, now: datetime | None = None) -> None:
        self.journal = journal
        self.lane = lane
        self._fixed_now = now

    def _now(self) -> datetime:
        return self._fixed_now or datetime.now()

    # -- reading ---------------------------------------------------------------------

    def list(self) -> list[Operator]:
        rows = self.journal.connection.execute(
            "SELECT * FROM operators WHERE lane = ? AND removed = 0 ORDER BY name", (self.lane,)
        )
        return [_operator(row) for row in rows]

    def get(self, name: str) -> Operator | None:
        row = self._row(name)
        return _operator(row) if row is not None else None

    def has_admin(self) -> bool:
        return any(op.role is Role.ADMIN for op in self.list())

    # -- checking authority -------------------------------------------------------------

    def authorise(
        self, name: str | None, password: str | None, *, role: Role, action: str,
        operator: str | None = None,
    ) -> Operator:
        """``name`` holds at least ``role`` and ``password`` is theirs; audited either way.

        Raises :class:`~terminal.transactions.rules.Refused` with
        ``needs-supervisor`` (no name, unknown, or too low a role), ``locked-out`` or
        ``bad-password``. The fifth wrong password in a row locks the operator. A
        ``name`` or ``operator`` that is no operator id (:func:`check_name`) is refused
        (``needs-supervisor``) without being written to the audit trail.

        A good password writes the grant (:mod:`terminal.journal.grants`) that one
        supervised transaction of ``action`` (:data:`terminal.transactions.rules.SUPERVISED`)
        spends within :data:`~terminal.transactions.rules.GRANT_WINDOW`.
        """
        who = operator or name
        malformed = [given for given in (name, operator) if given and not _well_formed(given)]
        if malformed:
            # Text that is no operator id (a card number, say) is never written down.
            self._audit(None if operator in malformed else operator, action, None,
                        Rule.NEEDS_SUPERVISOR.value, "not an operator id")
            raise Refused(Rule.NEEDS_SUPERVISOR, _name_rule(malformed[0]))
        if not name:
            self._audit(who, action, None, Rule.NEEDS_SUPERVISOR.value, f"needs a {role.value}")
            raise Refused(Rule.NEEDS_SUPERVISOR, f"{action} needs --supervisor ID ({role.value})")
        row = self._row(name)
        if row is None or Role(row["role"]).rank < role.rank:
            got = "unknown" if row is None else row["role"]
            self._audit(who, action, name, Rule.NEEDS_SUPERVISOR.value, f"{name} is {got}")
            raise Refused(
                Rule.NEEDS_SUPERVISOR, f"{name} is not a {role.value} here ({got})",
                authoriser=name,
            )
        if row["locked"]:
            self._audit(who, action, name, Rule.LOCKED_OUT.value, "locked")
            raise Refused(Rule.LOCKED_OUT, f"{name} is locked", authoriser=name)
        if not _matches(password or "", row):
            with transaction(self.journal.connection) as db:
                failures = row["failures"] + 1
                locked = failures >= MAX_FAILURES
                db.execute(
                    "UPDATE operators SET failures = ?, locked = ?, updated_at = ? WHERE id = ?",
                    (failures, int(locked), self._now().isoformat(), row["id"]),
                )
                audit.write(db, self.lane, self._now(), operator=who, action=action,
                            authorised_by=name, outcome=Rule.BAD_PASSWORD.value,
                            detail=f"wrong password {failures} of {MAX_FAILURES}"
                            + ("; locked" if locked else ""))
            raise Refused(
                Rule.LOCKED_OUT if locked else Rule.BAD_PASSWORD,
                f"wrong password for {name} ({failures} of {MAX_FAILURES})"
                + ("; now locked until an admin unlocks" if locked else ""),
                authoriser=name, failures=failures,
            )
        with transaction(self.journal.connection) as db:
            if row["failures"]:
                db.execute("UPDATE operators SET failures = 0, updated_at = ? WHERE id = ?",
                           (self._now().isoformat(), row["id"]))
            audit.write(db, self.lane, self._now(), operator=who, action=action,
                        authorised_by=name, outcome=grants.AUTHORISED)
        return _operator(self._row(name))

    def on_duty(self, name: str | None, *, action: str) -> Operator | None:
        """``name`` may ring up ``action``: an operator of this lane, neither removed nor locked.

        A lane with no operators yet (first use, the demo) takes any well-formed id,
        or none, as given and returns None: there is nobody to check against. Once
        an admin has added operators, no one else rings up money, nor does nobody:
        :class:`OperatorRefused`, audited like a refused authorisation. Any role
        rings up (roles rank).
        """
        db = self.journal.connection
        if name is not None and not _well_formed(name):
            if staff.staffed(db, self.lane):
                self._audit(None, action, None, "operator-malformed", "not an operator id")
            raise OperatorRefused(None, "malformed", _name_rule(name))
        why = staff.not_on_duty(db, self.lane, name)  # the library's rule too
        if why is None:
            return self.get(name) if name is not None else None
        if name is None:
            self._audit(None, action, None, "operator-missing", "no operator named")
            raise OperatorRefused(None, "missing", f"{action} names no operator")
        self._audit(name, action, None, f"operator-{why}", f"{action} by {why} operator {name}")
        raise OperatorRefused(name, why, f"operator {name} is {why} on lane {self.lane}")

    # -- administering --------------------------------------------------------------------

    def add(self, name: str, role: Role, password: str, *, by: str | None) -> Operator:
        """A new operator. ``by`` is the admin (checked by the caller), None for the first."""
        check_name(name)
        _check_password(password)
        salt = secrets.token_bytes(16)
        now = self._now().isoformat()
        with transaction(self.journal.connection) as db:
            existing = db.execute(
                "SELECT id, removed FROM operators WHERE lane = ? AND name = ?", (self.lane, name)
            ).fetchone()
            if existing is not None and not existing["removed"]:
                raise OperatorError(f"operator {name} exists")
            values = (role.value, salt, hash_password(password, salt), now)
            if existing is not None:
                db.execute(
                    "UPDATE operators SET role = ?, salt = ?, password_hash = ?, failures = 0,"
                    " locked = 0, removed = 0, updated_at = ? WHERE id = ?",
                    (*values, existing["id"]),
                )
            else:
                db.execute(
                    "INSERT INTO operators (lane, name, role, salt, password_hash, failures,"
                    " locked, removed, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 0, 0, 0,"
                    " ?, ?)",
                    (self.lane, name, *values, now),
                )
            audit.write(db, self.lane, self._now(), operator=name, action="operator-add",
                        authorised_by=by, outcome="done", detail=f"role {role.value}")
        found = self.get(name)
        assert found is not None
        return found

    def passwd(self, name: str, password: str, *, by: str) -> None:
        _check_password(password)
        salt = secrets.token_bytes(16)
        self._update(name, "operator-passwd", by,
                     "salt = ?, password_hash = ?, failures = 0",
                     (salt, hash_password(password, salt)))

    def unlock(self, name: str, *, by: str) -> None:
        self._update(name, "operator-unlock", by, "locked = 0, failures = 0", ())

    def remove(self, name: str, *, by: str) -> None:
        if name == by:
            raise OperatorError("an admin cannot remove themselves")
        self._update(name, "operator-remove", by, "removed = 1", ())

    # -- helpers ----------------------------------------------------------------------------

    def _update(self, name: str, action: str, by: str, sets: str, args: tuple[object, ...],
                ) -> None:
        check_name(name)
        row = self._row(name)
        if row is None:
            raise OperatorError(f"no operator {name}")
        with transaction(self.journal.connection) as db:
            db.execute(f"UPDATE operators SET {sets}, updated_at = ? WHERE id = ?",
                       (*args, self._now().isoformat(), row["id"]))
            audit.write(db, self.lane, self._now(), operator=name, action=action,
                        authorised_by=by, outcome="done")

    def _row(self, name: str):  # type: ignore[no-untyped-def]
        return self.journal.connection.execute(
            "SELECT * FROM operators WHERE lane = ? AND name = ? AND removed = 0",
            (self.lane, name),
        ).fetchone()

    def _audit(self, operator: str | None, action: str, by: str | None, outcome: str,
               detail: str) -> None:
        with transaction(self.journal.connection) as db:
            audit.write(db, self.lane, self._now(), operator=operator, action=action,
                        authorised_by=by, outcome=outcome, detail=detail)


def _matches(password: str, row) -> bool:  # type: ignore[no-untyped-def]
    digest = hash_password(password, row["salt"])
    return hmac.compare_digest(digest, row["password_hash"])


def check_name(name: str) -> None:
    """Raise :class:`OperatorError` unless ``name`` is a well-formed operator id (the
    message repeats the id only when it holds no card number)."""
    if not _well_formed(name):
        raise OperatorError(_name_rule(name))


def _well_formed(name: str) -> bool:
    return bool(_NAME.match(name)) and not holds_card_number(name)


def _name_rule(name: str) -> str:
    """Why ``name`` is no operator id; a card number in it is not repeated."""
    rule = "1 to 16 letters, digits, '.', '_' or '-'"
    if holds_card_number(name):
        return f"an operator id must not be a card number ({rule}, not the card's digits)"
    return f"operator id {name!r}: {rule}"


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise OperatorError(f"a password has at least {MIN_PASSWORD} characters")


def _operator(row) -> Operator:  # type: ignore[no-untyped-def]
    return Operator(row["name"], Role(row["role"]), row["failures"], bool(row["locked"]),
                    row["created_at"], row["updated_at"])
