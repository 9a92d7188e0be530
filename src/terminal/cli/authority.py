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

from terminal.cli.failures import Failure
from terminal.cli.paths import choose_config, data_paths
from terminal.config import TerminalSettings
from terminal.journal import Journal
from terminal.operators import Operators, Role
from terminal.transactions.rules import default_operator

__all__ = [
    "OperatorOption",
    "PasswordStdinOption",
    "Passwords",
    "SupervisorOption",
    "authorise",
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
                 help="The cashier (default: [operators] default_operator of the config)."),
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

    With no ``--supervisor`` nothing is asked: the refusal says who is needed."""
    operators = Operators(journal, lane)
    password = passwords.ask(f"password of {supervisor}") if supervisor else None
    return operators.authorise(supervisor, password, role=role, action=action,
                               operator=operator).name


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
