"""Asking for passwords and checking authority on the command line.

A password is asked without echo (``getpass``), or read from stdin with
``--password-stdin``: one line per password asked, in the order they are asked
(the authoriser's first, then a new one). Nothing here prints a password.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Iterator
from typing import Annotated, Any

import typer

from terminal.cli.failures import EXIT_USAGE, Failure
from terminal.cli.paths import choose_config, data_paths
from terminal.config import TerminalSettings
from terminal.journal import Journal
from terminal.operators import OperatorError, OperatorRefused, Operators, Role, check_name
from terminal.transactions.rules import default_operator

__all__ = [
    "OperatorOption",
    "PasswordStdinOption",
    "Passwords",
    "SupervisorOption",
    "authorise",
    "cashier_for",
    "checked_id",
    "supervisor_for",
]

PasswordStdinOption = Annotated[
    bool,
    typer.Option("--password-stdin",
                 help="Read passwords from stdin, one line per password asked."),
]
OperatorOption = Annotated[
    str | None,
    typer.Option("--operator", metavar="ID",
                 help="The cashier (default: [operators] default_operator of the config)."
                 " Once operators are set up, it must be one of them, not removed or locked."),
]
SupervisorOption = Annotated[
    str | None,
    typer.Option("--supervisor", metavar="ID", help="The supervisor who authorises this."),
]


class Passwords:
    """Where passwords come from for one command: stdin lines, or the terminal."""

    def __init__(self, from_stdin: bool) -> None:
        self._lines: Iterator[str] | None = iter(sys.stdin) if from_stdin else None

    def ask(self, prompt: str) -> str:
        if self._lines is None:
            return getpass.getpass(f"{prompt}: ")
        try:
            return next(self._lines).rstrip("\r\n")
        except StopIteration:
            raise Failure(f"--password-stdin: no line left for {prompt}") from None


def authorise(
    journal: Journal, lane: str, *, supervisor: str | None, passwords: Passwords, action: str,
    operator: str | None, role: Role = Role.SUPERVISOR,
) -> str:
    """The supervisor's name once their password is checked (raises Refused otherwise).

    With no ``--supervisor`` nothing is asked: the refusal says who is needed. An id
    that is no operator id exits 2 before its password is asked (the prompt would
    repeat it) and is written nowhere."""
    if supervisor:
        checked_id(supervisor, "--supervisor")
    operators = Operators(journal, lane)
    password = passwords.ask(f"password of {supervisor}") if supervisor else None
    return operators.authorise(supervisor, password, role=role, action=action,
                               operator=operator).name


def checked_id(name: str, option: str) -> str:
    """``name`` as given for ``option``, or exit 2 when it is no operator id: before its
    password is asked (the prompt would repeat it) and before anything is opened or written,
    so that a card number typed as an id reaches neither the screen again nor the journal."""
    try:
        check_name(name)
    except OperatorError as exc:
        raise Failure(f"{option}: {exc}", EXIT_USAGE) from None
    return name


def supervisor_for(
    action: str, config_option: Any, *, supervisor: str | None, password_stdin: bool,
    operator: str | None,
) -> str:
    """Check ``--supervisor`` and their password for ``action`` before anything is opened.

    Raises :class:`~terminal.transactions.rules.Refused` (exit 4: needs-supervisor,
    bad-password, locked-out); the try is audited either way."""
    chosen = choose_config(config_option)
    lane = TerminalSettings.from_config(chosen.data).terminal_id
    with Journal(data_paths().journal) as journal:
        return authorise(journal, lane, supervisor=supervisor, passwords=Passwords(password_stdin),
                         action=action, operator=operator or default_operator(chosen.data))


def cashier_for(action: str, config_option: Any, operator: str | None) -> str | None:
    """The operator who rings up ``action``, checked before anything is opened or sent.

    ``--operator``, else ``[operators] default_operator``. While the lane has no
    operators (first use, ``make demo``) any well-formed id, or none, is journaled
    as given; once an admin has added one, an id is needed and must be an operator
    of the lane, neither removed nor locked. A refusal exits 2 naming the id, is
    audited, and nothing reaches the terminal or the journal's money.
    """
    chosen = choose_config(config_option)
    name = operator or default_operator(chosen.data)
    lane = TerminalSettings.from_config(chosen.data).terminal_id
    with Journal(data_paths().journal) as journal:
        try:
            Operators(journal, lane).on_duty(name, action=action)
        except OperatorRefused as exc:
            raise Failure(_refusal_text(exc, name, given=operator is not None), EXIT_USAGE,
                          operator=exc.name, operator_refused=exc.why) from None
    return name


def _refusal_text(exc: OperatorRefused, name: str | None, *, given: bool) -> str:
    """What the cashier (and whoever reads the log) needs to know, with the way out."""
    source = "--operator" if given else "[operators] default_operator of the config"
    if exc.why == "malformed":
        return f"{source}: {exc}"
    if exc.why == "missing":
        return (f"{exc}: operators are set up on this terminal, so each transaction names"
                " one: give --operator ID, or set [operators] default_operator; nothing sent")
    fix = {
        "unknown": f"an admin adds them (terminal operator add {name} --role cashier"
                   " --admin ID), or give --operator ID of an operator (terminal operator list)",
        "removed": "an admin removed them; give --operator ID of a current operator",
        "locked": f"an admin unlocks them (terminal operator unlock {name} --admin ID)",
    }[exc.why]
    return f"operator {name} ({source}) is {exc.why} on this terminal: nothing sent; {fix}"
