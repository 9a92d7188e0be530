"""Transactions from the command line: ``sale``, ``balance``, ``sign-on``, ``echo``.

``--port`` takes any pyserial URL; without it ``$TERMINAL_PORT``, then the
config file, then ``sim://`` (the in-process simulator). ``--card`` picks the
simulator's card for this exchange and is refused for a real device.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn
from urllib.parse import parse_qsl, urlencode

import typer
from rich.console import Console

from terminal.card_data import load_token_key
from terminal.cli.tracing import traced
from terminal.config import TerminalSettings, load_config, resolve_port
from terminal.errors import ConfigError, LinkError, ProtocolError
from terminal.link import LinkTimers, SerialLink
from terminal.receipts import CUSTOMER_COPY, MERCHANT_COPY, render_text_receipt
from terminal.transactions.amount import format_fen, parse_yuan
from terminal.transactions.client import TerminalClient
from terminal.transactions.errors import TransactionInDoubt
from terminal.transactions.result import TransactionResult
from terminal.transactions.state import HostState
from terminal.transport import open_port

__all__ = ["register"]

EXIT_APPROVED, EXIT_DECLINED, EXIT_USAGE, EXIT_LINK = 0, 1, 2, 3

PortOption = Annotated[
    str | None,
    typer.Option("--port", "-p", help="pyserial URL: /dev/ttyUSB0, COM3, socket://h:p, sim://"),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
CardOption = Annotated[
    str | None, typer.Option("--card", help="Simulator only: the card profile to present.")
]
ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="Config file (default: the platform's).")
]


def register(app: typer.Typer) -> None:
    """Add the transaction commands to ``app``."""
    app.command("sale")(sale)
    app.command("balance")(balance)
    app.command("sign-on")(sign_on)
    app.command("echo")(echo)
    app.command("config-path")(config_path_command)


def sale(
    amount: Annotated[str, typer.Argument(help="Amount in yuan, e.g. 12.34")],
    port: PortOption = None,
    as_json: JsonOption = False,
    receipt: Annotated[
        bool, typer.Option("--receipt/--no-receipt", help="Show the receipt of an approved sale.")
    ] = False,
    card: CardOption = None,
    config: ConfigOption = None,
) -> None:
    """Pay AMOUNT yuan by card."""
    try:
        amount_fen = parse_yuan(amount)
    except ValueError as exc:
        _fail(str(exc), EXIT_USAGE)
    _run(lambda client: client.sale(amount_fen), port, card, config, as_json, receipt)


def balance(
    port: PortOption = None, as_json: JsonOption = False, card: CardOption = None,
    config: ConfigOption = None,
) -> None:
    """Ask the card's available balance."""
    _run(lambda client: client.balance(), port, card, config, as_json, False)


def sign_on(
    port: PortOption = None, as_json: JsonOption = False, config: ConfigOption = None
) -> None:
    """Sign the terminal on; its batch number becomes the host's."""
    _run(lambda client: client.sign_on(), port, None, config, as_json, False)


def echo(
    port: PortOption = None, as_json: JsonOption = False, config: ConfigOption = None
) -> None:
    """Echo test: is the terminal there and answering?"""
    _run(lambda client: client.echo(), port, None, config, as_json, False)


def config_path_command() -> None:
    """Print where the config file is looked for."""
    from terminal.config import config_path

    typer.echo(str(config_path()))


# -- shared -------------------------------------------------------------------


def _run(
    action: Callable[[TerminalClient], TransactionResult],
    port: str | None,
    card: str | None,
    config_file: Path | None,
    as_json: bool,
    show_receipt: bool,
) -> None:
    try:
        config = load_config(config_file)
        settings = TerminalSettings.from_config(config)
        timers = LinkTimers.from_config(config)
        url = _sim_options(resolve_port(port, config), card=card, config=config_file)
        with _client(url, settings, timers) as client:
            result = action(client)
    except TransactionInDoubt as exc:
        _fail(f"{exc}. Do not repeat the sale: reverse or query trace {exc.trace}.", EXIT_LINK)
    except LinkError as exc:
        _fail(f"link failure: {exc}", EXIT_LINK)
    except (ProtocolError, ConfigError, ValueError) as exc:
        _fail(str(exc), EXIT_USAGE)
    _show(result, settings, as_json, show_receipt)
    raise typer.Exit(EXIT_APPROVED if result.approved else EXIT_DECLINED)


@contextmanager
def _client(url: str, settings: TerminalSettings, timers: LinkTimers):
    port = traced(open_port(url), url)
    try:
        link = SerialLink(port, timers)
        yield TerminalClient(
            link, settings, state=HostState.default(), token_key=load_token_key(),
            response_timeout=timers.response_timeout,
        )
    finally:
        port.close()


def _sim_options(url: str, *, card: str | None, config: Path | None) -> str:
    """``url`` with the simulator's options: the card to present and, so that both ends
    read the same file, the config file given with ``--config``."""
    base, _, query = url.partition("?")
    if not base.startswith("sim://"):
        if card is not None:
            raise ValueError("--card chooses the simulator's card; it needs a sim:// port")
        return url
    options = dict(parse_qsl(query))
    if card is not None:
        options["card"] = card
    if config is not None:
        options.setdefault("config", str(config))
    return f"{base}?{urlencode(options)}" if options else base


def _show(
    result: TransactionResult, settings: TerminalSettings, as_json: bool, show_receipt: bool
) -> None:
    if as_json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    console = Console(highlight=False)
    style = "bold green" if result.approved else "bold red"
    console.print(f"[{style}]{result.response.code} {result.response.operator_message}[/]"
                  f" ({result.response.meaning})")
    rows: list[tuple[str, Any]] = [
        ("amount", f"{format_fen(result.amount_fen)} yuan" if result.amount_fen else None),
        ("balance", f"{format_fen(result.balance_fen)} yuan"
         if result.balance_fen is not None else None),
        ("card", result.card.masked if result.card else None),
        ("rrn", result.rrn), ("auth code", result.auth_code),
        ("trace", result.trace), ("batch", result.batch),
    ]
    for label, value in rows:
        if value:
            console.print(f"  {label:<10} {value}")
    if show_receipt and result.approved and result.amount_fen is not None:
        for copy in (MERCHANT_COPY, CUSTOMER_COPY):
            typer.echo("")
            typer.echo(render_text_receipt(result, merchant_name=settings.merchant_name,
                                           copy=copy), nl=False)


def _fail(message: str, code: int) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    sys.stdout.flush()
    raise typer.Exit(code)
