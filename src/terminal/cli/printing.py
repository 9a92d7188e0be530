"""Receipt printer commands: ``terminal printer status|queue``, ``receipt``, ``reprint``.

The printer is ``--printer URL``, else ``$TERMINAL_PRINTER``, else ``url`` in the
config file's ``[printer]`` table, else ``virtual://`` (the virtual printer,
whose paper is written as text and PNG under the data directory). A
``[printer] profile`` in the config applies when the URL names none.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn
from urllib.parse import parse_qsl, urlencode

import typer

from terminal.config import load_config
from terminal.errors import ConfigError
from terminal.receipts.printers import DEFAULT_PRINTER, Printer, PrinterError, open_printer
from terminal.receipts.status import PrinterState

__all__ = ["data_dir", "register", "resolve_printer"]

EXIT_OK, EXIT_NOT_READY, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3
PRINTER_ENV = "TERMINAL_PRINTER"
DATA_ENV = "TERMINAL_DATA_DIR"

PrinterOption = Annotated[
    str | None,
    typer.Option("--printer", help="Printer URL: serial:///dev/ttyUSB0?baudrate=19200, "
                 "tcp://host:9100, usb://0416:5011, file:///path, virtual://"),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="Config file (default: the platform's).")
]

printer_app = typer.Typer(help="The receipt printer: its status and its queue of receipts.",
                          no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the printing commands to ``app``."""
    app.add_typer(printer_app, name="printer")


@printer_app.command("status")
def status_command(
    printer: PrinterOption = None, as_json: JsonOption = False, config: ConfigOption = None
) -> None:
    """Ask the printer how it is (DLE EOT 1-4). Exit 0 only when it is ready."""
    try:
        url = resolve_printer(printer, load_config(config))
        with open_printer(url) as device:
            status = device.status()
    except ConfigError as exc:
        _fail(str(exc), EXIT_USAGE, as_json)
    except PrinterError as exc:
        _fail(str(exc), EXIT_UNREACHABLE, as_json)
    if as_json:
        typer.echo(json.dumps({"printer": url, **status.to_dict()}, indent=2))
    else:
        typer.echo(f"{url}: {status.state.value}")
        if status.reason:
            typer.echo(f"  {status.reason}")
        if status.bits:
            for name, value in _bit_items(status.bits):
                if value:
                    typer.echo(f"  {name.replace('_', ' ')}")
    if status.state is PrinterState.READY:
        raise typer.Exit(EXIT_OK)
    raise typer.Exit(EXIT_UNREACHABLE if status.state is PrinterState.UNKNOWN else EXIT_NOT_READY)


# -- shared with the other printing commands ------------------------------------


def resolve_printer(explicit: str | None, config: dict[str, Any]) -> str:
    """The printer URL: option, ``$TERMINAL_PRINTER``, ``[printer] url``, ``virtual://``."""
    section = config.get("printer", {})
    if not isinstance(section, dict):
        raise ConfigError("[printer] must be a table: url = \"...\", profile = \"...\"")
    if explicit is not None and not explicit.strip():
        raise ConfigError("--printer is empty; give a printer URL")
    url = explicit or os.environ.get(PRINTER_ENV) or str(section.get("url") or DEFAULT_PRINTER)
    profile = section.get("profile")
    if profile and "profile=" not in url:
        base, _, query = url.partition("?")
        options = dict(parse_qsl(query, keep_blank_values=True))
        options["profile"] = str(profile)
        url = f"{base}?{urlencode(options)}"
    return url


def data_dir() -> Path:
    """Where printing keeps its files (the queue, the virtual printer's paper):
    ``$TERMINAL_DATA_DIR``, else the platform's per-user application directory."""
    explicit = os.environ.get(DATA_ENV)
    if explicit:
        return Path(explicit)
    return Path(typer.get_app_dir("terminal"))


def open_configured_printer(explicit: str | None, config: dict[str, Any]) -> Printer:
    return open_printer(resolve_printer(explicit, config))


def _bit_items(bits: Any) -> list[tuple[str, bool]]:
    from dataclasses import asdict

    return list(asdict(bits).items())


def _fail(message: str, code: int, as_json: bool = False) -> NoReturn:
    if as_json:
        typer.echo(json.dumps({"error": message, "exit_code": code}))
    else:
        typer.echo(f"error: {message}", err=True)
    sys.stdout.flush()
    raise typer.Exit(code)



