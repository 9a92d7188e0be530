"""Transactions from the command line: ``sale``, ``balance``, ``sign-on``, ``echo``.

``--port`` takes any pyserial URL; without it ``$TERMINAL_PORT``, then the
config file, then ``sim://`` (the in-process simulator). An empty port is an
error, never the simulator. On the simulator every result says so: the first
line of the text, a banner on the receipt, ``"simulated": true`` in the JSON.
That holds wherever the simulator runs: in this process (``sim://``) or in
another one behind a pty or a socket (``terminal simulate``), which marks each
of its responses (:mod:`terminal.protocol.identity`).
``--card`` picks the simulator's card for this exchange and is refused for a
real device.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

import typer

from terminal.card_data import load_token_key
from terminal.cli.authority import OperatorOption, cashier_for
from terminal.cli.failures import EXIT_APPROVED, EXIT_DECLINED, EXIT_USAGE, Failure
from terminal.cli.options import (
    BaudrateOption,
    CardOption,
    ConfigOption,
    JsonOption,
    PortOption,
    VerboseOption,
)
from terminal.cli.output import SIMULATOR_BANNER, console, err, out, out_json
from terminal.cli.parameters import NO_SLIPS, ConfigOnly, Link, LinkNoCard, Slips, grouped
from terminal.cli.paths import (
    ConfigChoice,
    choose_config,
    data_paths,
    default_config_path,
    is_simulator,
)
from terminal.cli.paths import resolve_port as choose_port
from terminal.cli.print_jobs import PrinterOption, print_transaction
from terminal.cli.session import security_from_config
from terminal.cli.tracing import judge_macs, traced
from terminal.config import SerialSettings, TerminalSettings
from terminal.faultpoint import CRASH_ENV
from terminal.journal import Journal
from terminal.link import LinkTimers, SerialLink
from terminal.receipts import CUSTOMER_COPY, MERCHANT_COPY, render_text_receipt
from terminal.transactions.amount import format_fen, parse_yuan
from terminal.transactions.client import TerminalClient
from terminal.transactions.recovery import Outcome, RecoveryLimits, recover
from terminal.transactions.result import SettlementTotals, TransactionResult
from terminal.transactions.rules import HostRules, default_operator, refund_window_days
from terminal.transport import open_port

__all__ = ["SIMULATOR_BANNER", "register"]


def register(app: typer.Typer) -> None:
    """Add the transaction commands to ``app``."""
    # "-1" is an amount to refuse with a reason, not an unknown option.
    app.command("sale", context_settings={"ignore_unknown_options": True})(sale)
    app.command("balance")(balance)
    app.command("sign-on")(sign_on)
    app.command("echo")(echo)
    app.command("config-path")(config_path_command)


def sale(
    amount: Annotated[
        str,
        typer.Argument(
            metavar="AMOUNT",
            help="Amount in yuan, e.g. 12.34 (a leading - is read as an amount, not an option).",
        ),
    ],
    port: PortOption = None,
    as_json: JsonOption = False,
    receipt: Annotated[
        bool, typer.Option("--receipt/--no-receipt", help="Show the receipt of an approved sale.")
    ] = False,
    card: CardOption = None,
    config: ConfigOption = None,
    baudrate: BaudrateOption = None,
    verbose: VerboseOption = 0,
    print_slips: Annotated[
        bool, typer.Option("--print", help="Print both copies of an approved sale.")
    ] = False,
    printer: PrinterOption = None,
    operator: OperatorOption = None,
) -> None:
    """Pay AMOUNT yuan by card."""
    try:
        amount_fen = parse_yuan(amount)
    except ValueError as exc:
        raise Failure(str(exc), EXIT_USAGE) from None
    cashier = cashier_for("sale", config, operator)
    _run(lambda client: client.sale(amount_fen),
         Link(port=port, as_json=as_json, card=card, config=config, baudrate=baudrate),
         show_receipt=receipt, slips=Slips(print_slips, printer), operator=cashier)


@grouped
def balance(link: Link) -> None:
    """Ask the card's available balance."""
    _run(lambda client: client.balance(), link)


@grouped
def sign_on(link: LinkNoCard) -> None:
    """Sign the terminal on; its batch number becomes the host's."""
    _run(lambda client: client.sign_on(), link)


@grouped
def echo(link: LinkNoCard) -> None:
    """Echo test: is the terminal there and answering?"""
    _run(lambda client: client.echo(), link)


@grouped
def config_path_command(output: ConfigOnly) -> None:
    """Print where the config file is looked for."""
    import os

    from terminal.cli.paths import CONFIG_ENV

    if output.config is not None:
        out(str(output.config))
    else:
        out(os.environ.get(CONFIG_ENV) or str(default_config_path()))


# -- shared -------------------------------------------------------------------


def _run(
    action: Callable[[TerminalClient], TransactionResult],
    link: Link,
    *,
    show_receipt: bool = False,
    slips: Slips = NO_SLIPS,
    operator: str | None = None,
) -> None:
    chosen = choose_config(link.config)
    settings = TerminalSettings.from_config(chosen.data)
    serial_settings = SerialSettings.from_config(chosen.data, baudrate=link.baudrate)
    timers = LinkTimers.from_config(chosen.data)
    url = _sim_options(choose_port(link.port, chosen.data), card=link.card, chosen=chosen)
    with _client(url, chosen, settings, serial_settings, timers, operator=operator) as client:
        result = action(client)
    # The result knows: sim://, or a device whose answer carried the simulator's mark.
    _show(result, settings, as_json=link.as_json, show_receipt=show_receipt)
    if slips.print_slips and result.approved:
        print_transaction(result, merchant_name=settings.merchant_name,
                          simulated=result.simulated,
                          printer_url=slips.printer, config=chosen.data, quiet=link.as_json)
    raise typer.Exit(EXIT_APPROVED if result.approved else EXIT_DECLINED)


def run_recovery(link: Link, *, on_demand: bool) -> list[Outcome]:
    """``terminal recover``: resolve what is pending (see :mod:`terminal.cli.recovering`)."""
    chosen = choose_config(link.config)
    settings = TerminalSettings.from_config(chosen.data)
    serial_settings = SerialSettings.from_config(chosen.data, baudrate=link.baudrate)
    timers = LinkTimers.from_config(chosen.data)
    url = _sim_options(choose_port(link.port, chosen.data), card=None, chosen=chosen)
    with _client(url, chosen, settings, serial_settings, timers, resolve=False) as client:
        return recover(client, limits=RecoveryLimits.from_config(chosen.data),
                       on_demand=on_demand)


@contextmanager
def _client(
    url: str,
    chosen: ConfigChoice,
    settings: TerminalSettings,
    serial_settings: SerialSettings,
    timers: LinkTimers,
    *,
    operator: str | None = None,
    resolve: bool = True,
) -> Iterator[TerminalClient]:
    """A client on the configured port and journal. With ``resolve`` (every money
    command) what an earlier run left pending is resolved first and said on stderr."""
    # Files first: a damaged journal or key must stop us before the port is opened.
    security = security_from_config(chosen.data)
    journal = Journal(data_paths().journal)
    try:
        token_key = load_token_key(chosen.token_key_file)
        port = traced(open_port(url, **serial_settings.as_port_options()), url)
        try:
            link = SerialLink(port, timers)
            client = TerminalClient(
                link, settings, journal=journal, token_key=token_key, security=security,
                response_timeout=timers.response_timeout,
                operator=operator or default_operator(chosen.data),
                rules=HostRules(journal, settings.terminal_id,
                                window_days=refund_window_days(chosen.data)),
                crash_at=os.environ.get(CRASH_ENV) or None, simulated=is_simulator(url),
            )
            judge_macs(port, client.mac_verdict)
            if resolve:
                outcomes = recover(client, limits=RecoveryLimits.from_config(chosen.data))
                for outcome in outcomes:
                    err(f"recovered #{outcome.journal_id} {outcome.transaction} trace"
                        f" {outcome.trace}: {outcome.action} -> {outcome.outcome}"
                        + (" [simulator]" if outcome.simulated else ""))
            yield client
        finally:
            port.close()
    finally:
        journal.close()


def _sim_options(url: str, *, card: str | None, chosen: ConfigChoice) -> str:
    """``url`` with the simulator's options: the card to present and, so that both ends
    read the same file, the config file in force."""
    if not is_simulator(url):
        if card is not None:
            raise Failure("--card chooses the simulator's card; it needs a sim:// port")
        return url
    base, _, query = url.partition("?")
    options = dict(parse_qsl(query, keep_blank_values=True))
    if card is not None:
        options["card"] = card
    if chosen.loaded is not None:
        options.setdefault("config", str(chosen.loaded))
    # The simulator's books in the data directory: a sale in one run can be voided in
    # the next, and a sign-on is remembered (``terminal simulate --reset`` forgets).
    options.setdefault("ledger", str(data_paths().simulator_books))
    return f"{base}?{urlencode(options)}"


def _show_totals(screen: Any, totals: SettlementTotals) -> None:
    """The settlement report: each kind counted and summed apart, then the net."""
    screen.print("  结算 settlement")
    for label, count, fen in (
        ("消费 sales", totals.sales_count, totals.sales_fen),
        ("预授权完成 completions", totals.completions_count, totals.completions_fen),
        ("撤销 voids", totals.voids_count, totals.voids_fen),
        ("退货 refunds", totals.refunds_count, totals.refunds_fen),
    ):
        screen.print(f"    {label:<24} {count:>4}  {format_fen(fen):>14} yuan")
    screen.print(f"    {'净额 net':<24} {'':>4}  {format_fen(totals.net_fen):>14} yuan")
    agreed = "balanced 对账平" if totals.balanced else (
        f"not balanced 对账不平: {totals.uploaded} uploaded, then closed"
    )
    screen.print(f"    bank: {agreed}")


def _show(
    result: TransactionResult,
    settings: TerminalSettings,
    *,
    as_json: bool,
    show_receipt: bool,
) -> None:
    if as_json:
        out_json(result.to_dict())  # "simulated" among the keys
        return
    screen = console()
    if result.simulated:
        screen.print(f"[bold yellow]{SIMULATOR_BANNER}[/]")
    style = "bold green" if result.approved else "bold red"
    screen.print(f"[{style}]{result.response.code} {result.response.operator_message}[/]"
                 f" ({result.response.meaning})")
    rows: list[tuple[str, Any]] = [
        ("amount", f"{format_fen(result.amount_fen)} yuan" if result.amount_fen else None),
        ("balance", f"{format_fen(result.balance_fen)} yuan"
         if result.balance_fen is not None else None),
        ("card", result.card.masked if result.card else None),
        ("rrn", result.rrn), ("auth code", result.auth_code),
        ("trace", result.trace), ("batch", result.batch),
    ]
    if result.original is not None:
        ref = result.original
        rows.append(("original", f"rrn {ref.rrn or '-'}  trace {ref.trace}  batch {ref.batch}"
                                 f"  date {ref.date or '-'}"))
    for label, value in rows:
        if value:
            screen.print(f"  {label:<10} {value}")
    if result.totals is not None:
        _show_totals(screen, result.totals)
    if show_receipt and result.approved and result.amount_fen is not None:
        for copy in (MERCHANT_COPY, CUSTOMER_COPY):
            out("")
            out(render_text_receipt(result, merchant_name=settings.merchant_name, copy=copy,
                                    simulated=result.simulated), nl=False)
