"""The ``terminal`` command: one Typer app, each group of commands in its own module.

Exit codes are part of the interface (POS scripts test them): 0 approved or
done, 1 declined, 2 usage, configuration or protocol error, 3 link failure.
Every failure, including a usage error the option parser finds, goes through
:func:`terminal.cli.failures.report`: one message on stderr and, with
``--json``, a JSON object on stdout. Nothing printed can change the code.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from terminal import __version__
from terminal.cli import bringup as bringup_commands
from terminal.cli import codec as codec_commands
from terminal.cli import money as money_commands
from terminal.cli import printing as printing_commands
from terminal.cli import records as record_commands
from terminal.cli import recovering as recovery_commands
from terminal.cli import simulate as simulate_commands
from terminal.cli import staff as staff_commands
from terminal.cli import tracing as tracing_commands
from terminal.cli import transact as transact_commands
from terminal.cli.failures import (
    EXIT_APPROVED,
    EXIT_DECLINED,
    EXIT_INTERRUPTED,
    EXIT_LINK,
    EXIT_USAGE,
    Failure,
    failure_from,
    report,
)
from terminal.cli.options import VerboseOption, quiet_library_logs
from terminal.cli.output import out, prepare_streams

__all__ = ["EXIT_APPROVED", "EXIT_DECLINED", "EXIT_LINK", "EXIT_USAGE", "app", "main"]


class _TerminalGroup(TyperGroup):
    """Runs a command and turns whatever it raised into the exit code and one message."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        as_json = "--json" in argv
        prepare_streams()
        quiet_library_logs()
        try:
            code = super().main(
                argv,
                prog_name,
                complete_var,
                standalone_mode=False,
                windows_expand_args=windows_expand_args,
                **extra,
            )
        except typer.Abort:
            code = report(failure_from(typer.TyperException("aborted")), as_json=as_json)
        except Exception as exc:
            failure = failure_from(exc)
            if failure is None:
                raise
            if isinstance(exc, typer.TyperException) and not as_json:
                exc.show()  # the parser's own text, with its usage line
                code = failure.exit_code
            else:
                code = report(failure, as_json=as_json)
        code = code if isinstance(code, int) else EXIT_APPROVED
        if code == EXIT_INTERRUPTED:  # Ctrl-C outside a sale (a sale reports it in doubt)
            code = report(Failure("interrupted", EXIT_INTERRUPTED), as_json=as_json)
        if standalone_mode:
            sys.exit(code)
        return code


app = typer.Typer(
    name="terminal",
    help="Drive a bank-card payment terminal (or its simulator) from the POS host PC.",
    cls=_TerminalGroup,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _show_version(value: bool) -> None:
    if value:
        out(f"terminal {__version__}")
        raise typer.Exit(EXIT_APPROVED)


@app.callback()
def _configure(
    verbose: VerboseOption = 0,
    version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_show_version, expose_value=False,
            help="Print the version and exit.",
        ),
    ] = False,
    trace: Annotated[
        Path | None,
        typer.Option("--trace", metavar="FILE",
                     help="Record the link traffic of the command in FILE, appended to a trace "
                          "already there (card data masked)."),
    ] = None,
) -> None:
    """Drive a bank-card payment terminal (or its simulator) from the POS host PC."""
    tracing_commands.use_trace_file(trace)


codec_commands.register(app)
simulate_commands.register(app)
transact_commands.register(app)
money_commands.register(app)
printing_commands.register(app)
tracing_commands.register(app)
bringup_commands.register(app)
record_commands.register(app)
staff_commands.register(app)
recovery_commands.register(app)


def main() -> None:
    """Console-script entry point."""
    app()
