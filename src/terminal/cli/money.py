"""The commands that act on an earlier transaction or on the batch.

``void``, ``refund``, ``preauth`` (and ``preauth cancel|complete|void``),
``reverse``, ``settle``, ``sign-off`` and ``paths``. Each reuses the ``sale``
command's set-up and output (:mod:`terminal.cli.transact`): the same port and
config rules, the same exit codes (0 approved, 1 declined, 2 usage or
protocol, 3 link or in doubt) and the same JSON keys, plus ``original`` on
voids, refunds, completions and reversals, and ``totals`` on settlement. An
original is named by ``--rrn``, or by ``--trace`` (and ``--date MMDD``), and
found in the journal before anything is sent: a wrong reference exits 2 with
nothing on the wire.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer

from terminal.cli.authority import cashier_for, supervisor_for
from terminal.cli.failures import EXIT_USAGE, Failure
from terminal.cli.output import out, out_json
from terminal.cli.parameters import (
    Authority,
    Link,
    LinkNoCard,
    Original,
    Output,
    Slips,
    grouped,
)
from terminal.cli.paths import choose_config, data_paths, default_config_path
from terminal.cli.transact import _run
from terminal.protocol.catalogue import Kind
from terminal.transactions.amount import parse_yuan
from terminal.transactions.client import TerminalClient
from terminal.transactions.result import TransactionResult
from terminal.transactions.rules import SUPERVISED, RefundReason, Refused, check_reason

__all__ = ["register"]

AmountArgument = Annotated[str, typer.Argument(metavar="AMOUNT", help="Yuan, e.g. 12.34.")]

_PREAUTH_ACTIONS = ("cancel", "complete", "void")


def register(app: typer.Typer) -> None:
    """Add the commands to ``app``."""
    app.command("void")(void)
    app.command("refund")(refund)
    app.command("preauth", context_settings={"ignore_unknown_options": True})(preauth)
    app.command("reverse")(reverse)
    app.command("settle")(settle)
    app.command("sign-off")(sign_off)
    app.command("paths")(paths)


@grouped
def void(original: Original, link: Link, slips: Slips, authority: Authority) -> None:
    """Void a sale of the open batch (its whole amount), to the card that paid.

    Needs ``--supervisor`` and their password; the host's rules are checked
    before anything is sent (exit 4 with the rule when they refuse)."""
    _reference(original)
    cashier = cashier_for("void", link.config, authority.operator)
    boss = _supervisor(SUPERVISED[Kind.VOID], link, authority, cashier)
    _run(lambda c: c.void(**original.reference(), supervisor=boss), link, slips=slips,
         operator=cashier)


@grouped
def refund(
    amount: AmountArgument,
    original: Original,
    reason: Annotated[
        str | None,
        typer.Option("--reason", help="Why the money goes back (journaled): "
                     + ", ".join(r.value for r in RefundReason) + "."),
    ] = None,
    note: Annotated[
        str | None, typer.Option("--note", help="Words for the reason; needed with other.")
    ] = None,
    *,
    link: Link,
    slips: Slips,
    authority: Authority,
) -> None:
    """Refund AMOUNT yuan (all or part) of a sale, of any batch, to the card that paid.

    Needs ``--reason`` (``--note`` with other), ``--supervisor`` and their password;
    at most what is left to refund, within the refund window (exit 4 otherwise)."""
    fen = _fen(amount)
    _reference(original)
    try:
        check_reason(reason, note)
    except Refused as exc:
        raise Failure(exc.message, EXIT_USAGE) from None
    cashier = cashier_for("refund", link.config, authority.operator)
    boss = _supervisor(SUPERVISED[Kind.REFUND], link, authority, cashier)
    _run(lambda c: c.refund(fen, **original.reference(), reason=reason, note=note,
                            supervisor=boss),
         link, slips=slips, operator=cashier)


@grouped
def preauth(
    words: Annotated[
        list[str],
        typer.Argument(
            metavar="AMOUNT | cancel | complete AMOUNT | void",
            help="A new pre-authorization of AMOUNT yuan, or an action on one (--rrn).",
        ),
    ],
    original: Original,
    link: Link,
    slips: Slips,
    authority: Authority,
) -> None:
    """Pre-authorize AMOUNT; or cancel, complete (AMOUNT) or void the completion of one.

    ``void`` gives a completion's money back like ``terminal void``, so it needs
    ``--supervisor`` and their password the same way (exit 4 when refused)."""
    action, rest = (words[0], words[1:]) if words[0] in _PREAUTH_ACTIONS else ("new", words)
    if action in ("new", "complete") and len(rest) != 1:
        raise Failure(f"preauth {'complete ' if action == 'complete' else ''}needs one AMOUNT")
    if action in ("cancel", "void") and rest:
        raise Failure(f"preauth {action} takes no amount (it is the original's)")
    if action != "void" and (authority.supervisor is not None or authority.password_stdin):
        raise Failure("preauth: only void needs --supervisor and a password", EXIT_USAGE)
    fen = _fen(rest[0]) if rest else 0  # 0: cancel and void take the original's amount
    if action != "new":
        _reference(original)
    what = "preauth" if action == "new" else f"preauth {action}"
    cashier = cashier_for(what, link.config, authority.operator)

    def send(step: Callable[[TerminalClient], TransactionResult]) -> None:
        _run(step, link, slips=slips, operator=cashier)

    if action == "new":
        send(lambda c: c.preauth(fen))
        return
    if action == "cancel":
        send(lambda c: c.preauth_cancel(**original.reference()))
    elif action == "complete":
        send(lambda c: c.preauth_complete(fen, **original.reference()))
    else:
        boss = _supervisor(SUPERVISED[Kind.COMPLETION_VOID], link, authority, cashier)
        send(lambda c: c.completion_void(**original.reference(), supervisor=boss))


@grouped
def reverse(
    trace: Annotated[str, typer.Option("--trace", help="Trace of the transaction to reverse.")],
    link: LinkNoCard,
    slips: Slips,
) -> None:
    """Reverse (冲正) a sale, void, pre-auth or completion left in doubt, by its trace."""
    if not trace.isdigit() or not 1 <= len(trace) <= 6:
        raise Failure(f"--trace is up to 6 digits, got {trace!r}", EXIT_USAGE)
    _run(lambda c: c.reverse(trace), link, slips=slips)


@grouped
def settle(link: LinkNoCard, slips: Slips, authority: Authority) -> None:
    """Settle the open batch: send the journal's totals, upload the batch if they differ.

    Needs ``--supervisor`` and their password."""
    cashier = cashier_for("settle", link.config, authority.operator)
    boss = _supervisor(SUPERVISED[Kind.SETTLEMENT], link, authority, cashier)
    _run(lambda c: c.settle(supervisor=boss), link, slips=slips, operator=cashier)


@grouped
def sign_off(link: LinkNoCard) -> None:
    """Sign the terminal off; its working keys are forgotten."""
    _run(lambda c: c.sign_off(), link)


@grouped
def paths(output: Output) -> None:
    """Print where the config, the journal, the token key and the simulator's books are."""
    config = output.config
    chosen = choose_config(config) if config is not None else None
    data = data_paths()
    where = {
        "config": str(chosen.path if chosen else _config_path()),
        "data_dir": str(data.root),
        "journal": str(data.journal),
        "token_key": str(choose_config(config).token_key_file),
        "simulator_books": str(data.simulator_books),
    }
    if output.as_json:
        out_json(where)
        return
    for name, path in where.items():
        out(f"{name:<16} {path}")


def _config_path() -> str:
    import os

    from terminal.cli.paths import CONFIG_ENV

    return os.environ.get(CONFIG_ENV) or str(default_config_path())


def _fen(amount: str) -> int:
    try:
        return parse_yuan(amount)
    except ValueError as exc:
        raise Failure(str(exc), EXIT_USAGE) from None


def _supervisor(action: str, link: Link, authority: Authority, cashier: str | None) -> str:
    """The supervisor's name once their password is checked (exit 4 otherwise)."""
    return supervisor_for(action, link.config, supervisor=authority.supervisor,
                          password_stdin=authority.password_stdin, operator=cashier)


def _reference(original: Original) -> None:
    """Exactly one way of naming the original, each well formed, before anything is opened."""
    rrn, trace, date = original.rrn, original.trace, original.date
    if bool(rrn) == bool(trace):
        raise Failure("name the original by --rrn, or by --trace (and --date)", EXIT_USAGE)
    if rrn is not None and (len(rrn) != 12 or not rrn.isalnum()):
        raise Failure(f"--rrn is 12 characters, got {rrn!r}", EXIT_USAGE)
    if trace is not None and (not trace.isdigit() or not 1 <= len(trace) <= 6):
        raise Failure(f"--trace is up to 6 digits, got {trace!r}", EXIT_USAGE)
    if date is not None and (len(date) != 4 or not date.isdigit()):
        raise Failure(f"--date is MMDD, got {date!r}", EXIT_USAGE)
