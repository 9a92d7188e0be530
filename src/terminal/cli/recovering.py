"""``terminal recover``: resolve every entry left without an answer, now.

Money commands do the same first, honouring the retry intervals of
``[recovery]``; this one sends flagged entries too and does not wait. It
reports what became of each entry; exit 0 when nothing is left open, 3 when
something still waits for the acquirer (the link is down).
"""

from __future__ import annotations

import typer

from terminal.cli.failures import EXIT_APPROVED, EXIT_LINK
from terminal.cli.output import SIMULATOR_BANNER, out, out_json
from terminal.cli.parameters import LinkNoCard, grouped
from terminal.cli.transact import run_recovery
from terminal.transactions.recovery import Outcome

__all__ = ["register", "show_outcomes"]


def register(app: typer.Typer) -> None:
    app.command("recover")(recover_command)


@grouped
def recover_command(link: LinkNoCard) -> None:
    """Send what is pending (reversals, refund resends) until answered; report each entry."""
    outcomes = run_recovery(link, on_demand=True)
    open_ = [o for o in outcomes if not o.resolved]
    if link.as_json:
        out_json({"resolved": not open_, "entries": [o.to_dict() for o in outcomes]})
    else:
        show_outcomes(outcomes)
        if not outcomes:
            out("nothing pending")
    raise typer.Exit(EXIT_LINK if open_ else EXIT_APPROVED)


def show_outcomes(outcomes: list[Outcome]) -> None:
    """One line per entry; the simulator's banner first when any of them went to it, and
    each such line marked."""
    if any(o.simulated for o in outcomes):
        out(SIMULATOR_BANNER)
    for o in outcomes:
        amount = f" {o.amount_fen} fen" if o.amount_fen is not None else ""
        code = f" code {o.response_code}" if o.response_code else ""
        error = f" ({o.error})" if o.error else ""
        where = " [simulator]" if o.simulated else ""
        out(f"#{o.journal_id} {o.transaction} trace {o.trace}{amount}: {o.action} -> "
            f"{o.outcome}{code}{error}{where}")
