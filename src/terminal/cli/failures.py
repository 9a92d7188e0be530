"""Every way a command can fail, as one exit code and one message, said once.

Exit codes are part of the interface (POS scripts test them): 0 approved or
done, 1 declined, 2 usage, configuration or protocol error, 3 link failure (a
sale that fails on the link is *in doubt*), 4 refused here by the host's rules
(nothing was sent). Commands raise; :func:`report`
turns what they raised into stderr text and, with ``--json``, a JSON object on
stdout (``{"error": ..., "exit_code": N, ...}``, an in-doubt sale with its
trace), so that a program driving the CLI never reads empty output.
"""

from __future__ import annotations

from typing import Any

import typer

from terminal.cli.output import SIMULATOR_BANNER, err, out_json
from terminal.cli.redact import describe_error, scrub_digits
from terminal.errors import ConfigError, LinkError, ProtocolError, TerminalError
from terminal.transactions.errors import CardAlarm, TransactionInDoubt, WrongCard
from terminal.transactions.rules import Refused

__all__ = [
    "EXIT_APPROVED",
    "EXIT_DECLINED",
    "EXIT_INTERRUPTED",
    "EXIT_LINK",
    "EXIT_REFUSED",
    "EXIT_USAGE",
    "Failure",
    "failure_from",
    "report",
]

EXIT_APPROVED = 0
EXIT_DECLINED = 1
EXIT_USAGE = 2
EXIT_LINK = 3
EXIT_REFUSED = 4
#: Ctrl-C (the shell's 128 + SIGINT) when no sale was under way.
EXIT_INTERRUPTED = 130


class Failure(Exception):
    """A command's failure: the message for a person, the exit code, and facts for a program."""

    def __init__(
        self, message: str, exit_code: int = EXIT_USAGE, *, clear: bool = False, **facts: Any
    ) -> None:
        # Said as given only when ``clear`` (``--reveal``): otherwise every run of 13 or
        # more digits is masked, since a garbled field may hold a card number.
        super().__init__(message)
        self.message = message if clear else scrub_digits(message)
        self.exit_code = exit_code
        self.facts = facts

    def to_json(self) -> dict[str, Any]:
        return {"error": self.message, "exit_code": self.exit_code, **self.facts}


def failure_from(exc: BaseException) -> Failure | None:
    """The :class:`Failure` an exception stands for, or None for one we do not know."""
    if isinstance(exc, Failure):
        return exc
    if isinstance(exc, Refused):
        refused = Failure(exc.message, EXIT_REFUSED)
        refused.facts = exc.to_dict()  # refused, rule, message and the figures
        return refused
    if isinstance(exc, CardAlarm):
        reversal = exc.reversal
        return Failure(
            f"{_simulator(exc.result.simulated)}ALARM 报警: {exc}", EXIT_LINK, alarm=True,
            transaction=exc.result.kind.value, trace=exc.result.trace,
            journal_id=exc.result.journal_id, reversed=bool(reversal and reversal.approved),
            simulated=exc.result.simulated,
        )
    if isinstance(exc, WrongCard):  # declined by the acquirer: exit 1, said for the cashier
        declined = exc.result
        return Failure(
            str(exc), EXIT_DECLINED, wrong_card=True, transaction=declined.kind.value,
            trace=declined.trace, journal_id=declined.journal_id,
            response_code=declined.response.code,
            card=declined.card.masked if declined.card else None,
            original_card=exc.original_card,
        )
    if isinstance(exc, TransactionInDoubt):
        return Failure(
            f"{_simulator(exc.simulated)}{exc}. "
            f"Do not repeat the {exc.kind}: reverse or query trace {exc.trace}.",
            EXIT_LINK,
            in_doubt=True,
            transaction=exc.kind,
            trace=exc.trace,
            amount_fen=exc.amount_fen,
            simulated=exc.simulated,
        )
    if isinstance(exc, LinkError):
        return Failure(f"link failure: {exc}", EXIT_LINK)
    if isinstance(exc, ProtocolError):  # where and why, without the bytes around it
        return Failure(describe_error(exc), EXIT_USAGE)
    if isinstance(exc, ConfigError | TerminalError):
        return Failure(str(exc), EXIT_USAGE)
    if isinstance(exc, typer.TyperException):  # usage errors: bad option, missing argument
        return Failure(exc.format_message(), getattr(exc, "exit_code", EXIT_USAGE))
    return None


def _simulator(simulated: bool) -> str:
    """The banner heading a failure of an exchange with the simulator (test money)."""
    return f"{SIMULATOR_BANNER}: " if simulated else ""


def report(failure: Failure, *, as_json: bool) -> int:
    """Say ``failure`` once on stderr (and as JSON on stdout); return its exit code."""
    err(f"error: {failure.message}")
    if as_json:
        out_json(failure.to_json())
    return failure.exit_code
