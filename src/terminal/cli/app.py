"""The ``terminal`` command: one Typer app, each group of commands in its own module.

Exit codes are part of the interface (POS scripts test them): 0 approved or done,
1 declined, 2 usage or protocol error, 3 link failure.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from terminal.cli import codec as codec_commands
from terminal.cli import printing as printing_commands
from terminal.cli import simulate as simulate_commands
from terminal.cli import tracing as tracing_commands
from terminal.cli import transact as transact_commands

__all__ = ["EXIT_APPROVED", "EXIT_DECLINED", "EXIT_LINK", "EXIT_USAGE", "app", "main"]

EXIT_APPROVED = 0
EXIT_DECLINED = 1
EXIT_USAGE = 2
EXIT_LINK = 3

app = typer.Typer(
    name="terminal",
    help="Drive a bank-card payment terminal (or its simulator) from the POS host PC.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)



@app.callback()
def _configure(
    verbose: Annotated[
        int,
        typer.Option("--verbose", "-v", count=True,
                     help="Log to stderr: -v the transactions, -vv the link too."),
    ] = 0,
    trace: Annotated[
        Path | None,
        typer.Option("--trace", metavar="FILE",
                     help="Record the link traffic of the command in FILE (card data masked)."),
    ] = None,
) -> None:
    """Drive a bank-card payment terminal (or its simulator) from the POS host PC."""
    tracing_commands.use_trace_file(trace)
    if verbose:
        logging.basicConfig(
            level=logging.DEBUG if verbose > 1 else logging.INFO,
            format="%(asctime)s %(name)s %(levelname)s %(message)s",
        )


codec_commands.register(app)
simulate_commands.register(app)
transact_commands.register(app)
printing_commands.register(app)
tracing_commands.register(app)


def main() -> None:
    """Console-script entry point."""
    app()
