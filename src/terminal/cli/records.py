"""The journal read back: ``journal verify|export``, ``lookup``, ``status``, ``audit``.

These read the journal only; none opens the port. ``journal verify`` exits 0
when the hash chain and every row are intact and 1 naming each edited,
inserted or deleted row. Dates are ``YYYY-MM-DD`` (or ``MMDD``, this year).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Annotated, Any

import typer

from terminal.card_data import holds_card_number
from terminal.cli.failures import EXIT_APPROVED, EXIT_DECLINED, EXIT_USAGE, Failure
from terminal.cli.options import ConfigOption, JsonOption, VerboseOption
from terminal.cli.output import out, out_json
from terminal.cli.paths import choose_config, data_paths
from terminal.config import TerminalSettings
from terminal.digest_text import colon_hex
from terminal.journal import Journal, audit, lookup
from terminal.journal.chain import verify as verify_chain
from terminal.protocol.catalogue import Kind
from terminal.transactions.amount import format_fen, parse_yuan

__all__ = ["EXPORT_COLUMNS", "parse_day", "register"]

#: The columns of ``journal export`` (CSV header, JSON keys), in this order.
EXPORT_COLUMNS = (
    "journal_id", "terminal_id", "created_at", "transaction", "state", "response_code",
    "amount_fen", "card", "card_token", "rrn", "auth_code", "trace", "batch", "date", "time",
    "refunded_fen", "refundable_fen", "voided", "reason", "note", "operator", "supervisor",
    "alarm", "simulated",  # last: a column added later must not move the others
)

FromOption = Annotated[str | None, typer.Option("--from", metavar="DATE", help="First day.")]
ToOption = Annotated[str | None, typer.Option("--to", metavar="DATE", help="Last day.")]


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="The journal: verify its chain, export it.", no_args_is_help=True)
    group.command("verify")(verify)
    group.command("export")(export)
    app.add_typer(group, name="journal")
    app.command("lookup")(lookup_command)
    app.command("status")(status)
    app.command("audit")(audit_command)


def parse_day(text: str, what: str = "date") -> date:
    """``YYYY-MM-DD``, ``YYYYMMDD`` or ``MMDD`` (this year)."""
    cleaned = text.strip()
    try:
        if len(cleaned) == 4 and cleaned.isdigit():
            return date(date.today().year, int(cleaned[:2]), int(cleaned[2:]))
        if len(cleaned) == 8 and cleaned.isdigit():
            return datetime.strptime(cleaned, "%Y%m%d").date()
        return date.fromisoformat(cleaned)
    except ValueError:
        raise Failure(f"--{what} {text!r}: give a date as YYYY-MM-DD or MMDD", EXIT_USAGE) from None


def verify(as_json: JsonOption = False, config: ConfigOption = None,
           verbose: VerboseOption = 0) -> None:
    """Check the journal's hash chain: exit 0 intact, 1 naming each changed row."""
    with _journal(config) as (journal, _):
        result = verify_chain(journal.connection)
    if as_json:
        out_json(result.to_dict())
    elif result.ok:
        out(f"journal intact: {result.rows} rows, {result.records} chain records,"
            f" head {colon_hex(result.head[:8])}")
    else:
        out(f"journal NOT intact: {len(result.problems)} problem(s)")
        for problem in result.problems:
            out(f"  {problem.row}: {problem.problem}")
    raise typer.Exit(EXIT_APPROVED if result.ok else EXIT_DECLINED)


def export(
    start: FromOption = None,
    end: ToOption = None,
    fmt: Annotated[str, typer.Option("--format", help="csv or json")] = "csv",
    config: ConfigOption = None,
    verbose: VerboseOption = 0,
) -> None:
    """Every transaction between two days, for finance (card numbers masked)."""
    if fmt not in ("csv", "json"):
        raise Failure(f"--format must be csv or json, got {fmt!r}", EXIT_USAGE)
    filters = lookup.Filters(start=parse_day(start, "from") if start else None,
                             end=parse_day(end, "to") if end else None, limit=10_000_000)
    with _journal(config) as (journal, _):
        rows = [_export_row(journal, e) for e in reversed(lookup.find(journal, None, filters))]
    if fmt == "json":
        out(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    out(buffer.getvalue(), nl=False)


def lookup_command(
    rrn: Annotated[str | None, typer.Option("--rrn")] = None,
    trace: Annotated[str | None, typer.Option("--trace")] = None,
    auth: Annotated[str | None, typer.Option("--auth", help="Authorisation code.")] = None,
    last4: Annotated[str | None, typer.Option("--last4", help="Last 4 digits of the card.")] = None,
    amount: Annotated[str | None, typer.Option("--amount", metavar="YUAN")] = None,
    day: Annotated[str | None, typer.Option("--date", metavar="DATE")] = None,
    start: FromOption = None,
    end: ToOption = None,
    operator: Annotated[str | None, typer.Option("--operator")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="sale, refund, void, ...")] = None,
    as_json: JsonOption = False,
    config: ConfigOption = None,
    verbose: VerboseOption = 0,
) -> None:
    """Find past transactions (the customer lost the receipt); filters combine."""
    if last4 is not None and not (len(last4) == 4 and last4.isdigit()):
        raise Failure("--last4 takes the last 4 digits of the card", EXIT_USAGE)
    try:
        amount_fen = parse_yuan(amount) if amount is not None else None
        chosen_kind = Kind(kind) if kind else None
    except ValueError as exc:
        raise Failure(str(exc), EXIT_USAGE) from None
    filters = lookup.Filters(
        rrn=rrn, trace=trace, auth_code=auth, last4=last4, amount_fen=amount_fen,
        day=parse_day(day) if day else None, start=parse_day(start, "from") if start else None,
        end=parse_day(end, "to") if end else None, operator=operator, kind=chosen_kind,
    )
    with _journal(config) as (journal, lane):
        views = [lookup.entry_view(journal, e) for e in lookup.find(journal, lane, filters)]
    if as_json:
        out_json(views)
        return
    if not views:
        out("nothing found")
    for view in views:
        out(_line(view))


def status(
    rrn: Annotated[str, typer.Option("--rrn", help="The original's RRN.")],
    as_json: JsonOption = False,
    config: ConfigOption = None,
    verbose: VerboseOption = 0,
) -> None:
    """One original with its voids and refunds, and what can still be refunded."""
    if holds_card_number(rrn):  # the refusal below would repeat it, in its JSON in full
        raise Failure("--rrn must not hold a card number: an RRN is the 12 characters on the"
                      " slip", EXIT_USAGE)
    with _journal(config) as (journal, lane):
        found = lookup.find(journal, lane, lookup.Filters(rrn=rrn))
        originals = [e for e in found if e.original_id is None] or found
        if not originals:
            raise Failure(f"no transaction with RRN {rrn} in the journal", EXIT_DECLINED,
                          rrn=rrn)
        original = originals[0]
        view = lookup.entry_view(journal, original)
        view["followers"] = [lookup.entry_view(journal, e) for e in journal.followers(original.id)]
    if as_json:
        out_json(view)
        return
    out(_line(view))
    for follower in view["followers"]:
        out("  " + _line(follower))
    out(f"refunded {format_fen(view['refunded_fen'])} yuan, refundable"
        f" {format_fen(view['refundable_fen'])} yuan" + (", voided" if view["voided"] else ""))


def audit_command(
    start: FromOption = None,
    end: ToOption = None,
    as_json: JsonOption = False,
    config: ConfigOption = None,
    verbose: VerboseOption = 0,
) -> None:
    """Who did what, when, on which lane, authorised by whom, and the outcome."""
    with _journal(config) as (journal, lane):
        records = audit.trail(journal.connection, lane,
                              start=parse_day(start, "from") if start else None,
                              end=parse_day(end, "to") if end else None)
    if as_json:
        out_json([r.to_dict() for r in records])
        return
    # Two spaces between columns: a card scanner joins digit groups split by one, and a
    # lane with a cashier's number after it (10008060 4000100) reads as a card number.
    for r in records:
        out(f"{r.at[:19]}  {r.lane}  {r.operator or '-':<10}  {r.action:<16}"
            f"  by {r.authorised_by or '-':<10}  {r.outcome}  {r.detail or ''}".rstrip())


# -- helpers ---------------------------------------------------------------------


@contextmanager
def _journal(config: Any) -> Iterator[tuple[Journal, str]]:
    chosen = choose_config(config)
    lane = TerminalSettings.from_config(chosen.data).terminal_id
    journal = Journal(data_paths().journal)
    try:
        yield journal, lane
    finally:
        journal.close()


def _export_row(journal: Journal, entry: Any) -> dict[str, Any]:
    view = lookup.entry_view(journal, entry)
    return {name: view.get(name) for name in EXPORT_COLUMNS}


def _line(view: dict[str, Any]) -> str:
    amount = f"{format_fen(view['amount_fen'])}" if view["amount_fen"] is not None else "-"
    return (f"#{view['journal_id']} {view['created_at'][:16]} {view['transaction']:<8}"
            f" {view['state']:<9} {amount:>10} {view['card'] or '-':<19} rrn {view['rrn'] or '-'}"
            f" trace {view['trace']} auth {view['auth_code'] or '-'}"
            + (" [simulator]" if view.get("simulated") else ""))
