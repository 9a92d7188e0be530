"""Operators, roles, passwords and lock-out, all audited."""

from __future__ import annotations

import pytest
from tamper import tamper

from terminal.journal import audit
from terminal.journal.chain import verify
from terminal.operators import MAX_FAILURES, OperatorError, Role
from terminal.transactions.rules import Refused, Rule


def test_passwords_are_kept_only_as_salted_scrypt_hashes(rig, staff):
    rows = rig.journal.connection.execute("SELECT salt, password_hash FROM operators").fetchall()
    assert len({row["salt"] for row in rows}) == 3
    raw = (rig.root / "journal.sqlite3").read_bytes() + b"".join(
        p.read_bytes() for p in rig.root.glob("journal.sqlite3-*"))
    assert b"sup-pw" not in raw and b"admin-pw" not in raw


def test_supervisor_with_the_right_password_is_authorised_and_audited(staff):
    assert staff.authorise("sue", "sup-pw", role=Role.SUPERVISOR, action="void",
                           operator="carl").name == "sue"
    last = audit.trail(staff.journal.connection)[-1]
    assert (last.operator, last.action, last.authorised_by, last.outcome) == (
        "carl", "void", "sue", "authorised")


def test_admin_ranks_above_supervisor(staff):
    assert staff.authorise("boss", "admin-pw", role=Role.SUPERVISOR, action="refund").role is (
        Role.ADMIN)


@pytest.mark.parametrize("name", [None, "carl", "nobody"])
def test_no_supervisor_or_a_cashier_is_refused_as_needs_supervisor(staff, name):
    with pytest.raises(Refused) as caught:
        staff.authorise(name, "cash-pw", role=Role.SUPERVISOR, action="refund")
    assert caught.value.rule is Rule.NEEDS_SUPERVISOR
    assert audit.trail(staff.journal.connection)[-1].outcome == "needs-supervisor"


def test_five_wrong_passwords_lock_until_an_admin_unlocks(staff):
    for attempt in range(1, MAX_FAILURES):
        with pytest.raises(Refused) as caught:
            staff.authorise("sue", "guess", role=Role.SUPERVISOR, action="void")
        assert caught.value.rule is Rule.BAD_PASSWORD and caught.value.facts["failures"] == attempt
    with pytest.raises(Refused) as caught:
        staff.authorise("sue", "guess", role=Role.SUPERVISOR, action="void")
    assert caught.value.rule is Rule.LOCKED_OUT
    with pytest.raises(Refused) as caught:  # even the right password now
        staff.authorise("sue", "sup-pw", role=Role.SUPERVISOR, action="void")
    assert caught.value.rule is Rule.LOCKED_OUT
    staff.unlock("sue", by="boss")
    assert staff.authorise("sue", "sup-pw", role=Role.SUPERVISOR, action="void").failures == 0
    outcomes = [r.outcome for r in audit.trail(staff.journal.connection) if r.action == "void"]
    assert outcomes == ["bad-password"] * 5 + ["locked-out", "authorised"]


def test_a_right_password_resets_the_count_of_wrong_ones(staff):
    for _ in range(MAX_FAILURES - 1):
        with pytest.raises(Refused):
            staff.authorise("sue", "guess", role=Role.SUPERVISOR, action="void")
    staff.authorise("sue", "sup-pw", role=Role.SUPERVISOR, action="void")
    with pytest.raises(Refused) as caught:
        staff.authorise("sue", "guess", role=Role.SUPERVISOR, action="void")
    assert caught.value.rule is Rule.BAD_PASSWORD


def test_passwd_remove_and_re_add(staff):
    staff.passwd("carl", "new-pw", by="boss")
    assert staff.authorise("carl", "new-pw", role=Role.CASHIER, action="sale")
    staff.remove("carl", by="boss")
    assert [op.name for op in staff.list()] == ["boss", "sue"]
    with pytest.raises(OperatorError):
        staff.remove("boss", by="boss")
    with pytest.raises(OperatorError):
        staff.add("sue", Role.CASHIER, "xxxx", by="boss")
    staff.add("carl", Role.CASHIER, "back-pw", by="boss")
    assert staff.get("carl").role is Role.CASHIER


def test_operator_changes_are_chained_with_the_journal(rig, staff):
    assert verify(staff.journal.connection).ok
    tamper(rig.root / "journal.sqlite3", "UPDATE operators SET role = 'admin' WHERE name = 'carl'")
    problems = verify(staff.journal.connection).problems
    assert [(p.row, p.problem) for p in problems] == [("operators:3", "edited: role")]
