"""``terminal operator add|passwd|unlock|remove|list``: who may run and authorise.

Each needs ``--admin ID`` and that admin's password, except the very first
admin of an empty journal. With ``--password-stdin`` the admin's password is
the first line and a new password the second.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer

from terminal.cli.authority import Passwords, checked_id
from terminal.cli.failures import EXIT_USAGE, Failure
from terminal.cli.output import out, out_json
from terminal.cli.parameters import AdminAuthority, Output, grouped
from terminal.cli.paths import choose_config, data_paths
from terminal.config import TerminalSettings
from terminal.journal import Journal
from terminal.operators import OperatorError, Operators, Role

__all__ = ["register"]


def _id_argument(name: str) -> str:
    return checked_id(name, "ID")


IdArgument = Annotated[str, typer.Argument(metavar="ID", callback=_id_argument)]


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Operators: cashiers, supervisors, admins.", no_args_is_help=True)
    group.command("add")(add)
    group.command("passwd")(passwd)
    group.command("unlock")(unlock)
    group.command("remove")(remove)
    group.command("list")(list_operators)
    app.add_typer(group, name="operator")


@grouped
def add(
    name: IdArgument,
    role: Annotated[Role, typer.Option("--role", help="cashier, supervisor or admin")],
    by: AdminAuthority,
    output: Output,
) -> None:
    """Add operator ID with ROLE (the first admin of an empty journal needs no --admin)."""
    with _operators(output.config) as operators:
        passwords = Passwords(by.password_stdin)
        if not operators.list() and by.admin is None:
            if role is not Role.ADMIN:
                raise Failure("the first operator must be an admin (--role admin)")
            admin = None
        else:
            admin = _admin(operators, by, passwords, "operator-add")
        new = _new_password(passwords, name, by.password_stdin)
        _done(lambda: operators.add(name, role, new, by=admin), output,
              {"operator": name, "role": role.value, "added": True})


@grouped
def passwd(name: IdArgument, by: AdminAuthority, output: Output) -> None:
    """Set a new password for ID."""
    with _operators(output.config) as operators:
        passwords = Passwords(by.password_stdin)
        admin = _admin(operators, by, passwords, "operator-passwd")
        new = _new_password(passwords, name, by.password_stdin)
        _done(lambda: operators.passwd(name, new, by=admin), output,
              {"operator": name, "password_changed": True})


@grouped
def unlock(name: IdArgument, by: AdminAuthority, output: Output) -> None:
    """Unlock ID after too many wrong passwords."""
    _by_admin(name, by, output, "operator-unlock", Operators.unlock, "unlocked")


@grouped
def remove(name: IdArgument, by: AdminAuthority, output: Output) -> None:
    """Remove ID (kept in the journal's history; the name may be added again)."""
    _by_admin(name, by, output, "operator-remove", Operators.remove, "removed")


@grouped
def list_operators(output: Output) -> None:
    """List the operators of this terminal (no passwords, no hashes)."""
    with _operators(output.config) as operators:
        found = operators.list()
    if output.as_json:
        out_json([{"operator": op.name, "role": op.role.value, "locked": op.locked,
                   "failures": op.failures, "created_at": op.created_at} for op in found])
        return
    for op in found:
        out(f"{op.name:<16} {op.role.value:<10} {'LOCKED' if op.locked else ''}".rstrip())


# -- helpers ---------------------------------------------------------------------


class _operators:
    """The operators of the configured terminal, the journal closed afterwards."""

    def __init__(self, config: object) -> None:
        chosen = choose_config(config)  # type: ignore[arg-type]
        self.lane = TerminalSettings.from_config(chosen.data).terminal_id

    def __enter__(self) -> Operators:
        self.journal = Journal(data_paths().journal)
        return Operators(self.journal, self.lane)

    def __exit__(self, *exc: object) -> None:
        self.journal.close()


def _by_admin(
    name: str, by: AdminAuthority, output: Output, action: str,
    change: Callable[..., None], done: str,
) -> None:
    """``change(operators, name)`` once an admin's password is checked (unlock, remove)."""
    with _operators(output.config) as operators:
        admin = _admin(operators, by, Passwords(by.password_stdin), action)
        _done(lambda: change(operators, name, by=admin), output, {"operator": name, done: True})


def _admin(operators: Operators, by: AdminAuthority, passwords: Passwords, action: str) -> str:
    if by.admin:
        checked_id(by.admin, "--admin")
    password = passwords.ask(f"password of {by.admin}") if by.admin else None
    return operators.authorise(by.admin, password, role=Role.ADMIN, action=action).name


def _new_password(passwords: Passwords, name: str, from_stdin: bool) -> str:
    first = passwords.ask(f"new password of {name}")
    if not from_stdin and passwords.ask(f"new password of {name} again") != first:
        raise Failure("the two passwords differ", EXIT_USAGE)
    return first


def _done(action, output: Output, facts: dict[str, object]) -> None:  # type: ignore[no-untyped-def]
    try:
        action()
    except OperatorError as exc:
        raise Failure(str(exc), EXIT_USAGE) from None
    if output.as_json:
        out_json(facts)
    else:
        out(", ".join(f"{k} {v}" for k, v in facts.items()))
