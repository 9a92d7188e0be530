"""``terminal operator add|passwd|unlock|remove|list``: who may run and authorise.

Each needs ``--admin ID`` and that admin's password, except the very first
admin of an empty journal. With ``--password-stdin`` the admin's password is
the first line and a new password the second.
"""

from __future__ import annotations

from typing import Annotated

import typer

from terminal.cli.authority import Passwords, PasswordStdinOption
from terminal.cli.failures import EXIT_USAGE, Failure
from terminal.cli.options import ConfigOption, JsonOption, VerboseOption
from terminal.cli.output import out, out_json
from terminal.cli.paths import choose_config, data_paths
from terminal.config import TerminalSettings
from terminal.journal import Journal
from terminal.operators import OperatorError, Operators, Role

__all__ = ["register"]

AdminOption = Annotated[
    str | None, typer.Option("--admin", metavar="ID", help="The admin who authorises this.")
]


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Operators: cashiers, supervisors, admins.", no_args_is_help=True)
    group.command("add")(add)
    group.command("passwd")(passwd)
    group.command("unlock")(unlock)
    group.command("remove")(remove)
    group.command("list")(list_operators)
    app.add_typer(group, name="operator")


def add(
    name: Annotated[str, typer.Argument(metavar="ID")],
    role: Annotated[Role, typer.Option("--role", help="cashier, supervisor or admin")],
    admin: AdminOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
    config: ConfigOption = None,
    verbose: VerboseOption = 0,
) -> None:
    """Add operator ID with ROLE (the first admin of an empty journal needs no --admin)."""
    with _operators(config) as operators:
        passwords = Passwords(password_stdin)
        if not operators.list() and admin is None:
            if role is not Role.ADMIN:
                raise Failure("the first operator must be an admin (--role admin)")
            by = None
        else:
            by = _admin(operators, admin, passwords, "operator-add")
        new = _new_password(passwords, name, password_stdin)
        _done(lambda: operators.add(name, role, new, by=by), as_json,
              {"operator": name, "role": role.value, "added": True})


def passwd(
    name: Annotated[str, typer.Argument(metavar="ID")],
    admin: AdminOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
    config: ConfigOption = None,
    verbose: VerboseOption = 0,
) -> None:
    """Set a new password for ID."""
    with _operators(config) as operators:
        passwords = Passwords(password_stdin)
        by = _admin(operators, admin, passwords, "operator-passwd")
        new = _new_password(passwords, name, password_stdin)
        _done(lambda: operators.passwd(name, new, by=by), as_json,
              {"operator": name, "password_changed": True})


def unlock(
    name: Annotated[str, typer.Argument(metavar="ID")],
    admin: AdminOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
    config: ConfigOption = None,
    verbose: VerboseOption = 0,
) -> None:
    """Unlock ID after too many wrong passwords."""
    with _operators(config) as operators:
        by = _admin(operators, admin, Passwords(password_stdin), "operator-unlock")
        _done(lambda: operators.unlock(name, by=by), as_json,
              {"operator": name, "unlocked": True})


def remove(
    name: Annotated[str, typer.Argument(metavar="ID")],
    admin: AdminOption = None,
    password_stdin: PasswordStdinOption = False,
    as_json: JsonOption = False,
    config: ConfigOption = None,
    verbose: VerboseOption = 0,
) -> None:
    """Remove ID (kept in the journal's history; the name may be added again)."""
    with _operators(config) as operators:
        by = _admin(operators, admin, Passwords(password_stdin), "operator-remove")
        _done(lambda: operators.remove(name, by=by), as_json,
              {"operator": name, "removed": True})


def list_operators(
    as_json: JsonOption = False, config: ConfigOption = None, verbose: VerboseOption = 0,
) -> None:
    """List the operators of this terminal (no passwords, no hashes)."""
    with _operators(config) as operators:
        found = operators.list()
    if as_json:
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


def _admin(operators: Operators, admin: str | None, passwords: Passwords, action: str) -> str:
    password = passwords.ask(f"password of {admin}") if admin else None
    return operators.authorise(admin, password, role=Role.ADMIN, action=action).name


def _new_password(passwords: Passwords, name: str, from_stdin: bool) -> str:
    first = passwords.ask(f"new password of {name}")
    if not from_stdin and passwords.ask(f"new password of {name} again") != first:
        raise Failure("the two passwords differ", EXIT_USAGE)
    return first


def _done(action, as_json: bool, facts: dict[str, object]) -> None:  # type: ignore[no-untyped-def]
    try:
        action()
    except OperatorError as exc:
        raise Failure(str(exc), EXIT_USAGE) from None
    if as_json:
        out_json(facts)
    else:
        out(", ".join(f"{k} {v}" for k, v in facts.items()))
