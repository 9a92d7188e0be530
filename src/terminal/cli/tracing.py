"""``terminal trace record|show`` and the ``--trace FILE`` option every command shares.

``terminal --trace FILE sale 12.34`` (or ``terminal trace record FILE sale
12.34``) records each exchange of the command as timestamped link events with
their direction, card data masked; ``terminal trace show FILE`` prints one
decoded; ``terminal simulate --replay FILE`` plays one back as the device.

The option lives on the root command, which hands the path to
:func:`use_trace_file` on every invocation (``None`` when absent, so nothing
carries over from one invocation to the next in one process); a command that
opens a port needs one call, :func:`traced`, to honour it, and no command
signature changes.
"""

from __future__ import annotations

from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any

import typer

from terminal.cli.options import VerboseOption
from terminal.errors import TerminalError

__all__ = ["register", "traced", "use_trace_file"]

_TRACE_FILE: ContextVar[Path | None] = ContextVar("terminal_trace_file", default=None)
_EXIT_USAGE = 2

trace_app = typer.Typer(help="Record and show wire traces (card data masked).",
                        no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the ``trace`` group to ``app``."""
    app.add_typer(trace_app, name="trace")


def use_trace_file(path: Path | None) -> None:
    """Record the ports this invocation opens in ``path`` (``None``: record nothing)."""
    _TRACE_FILE.set(path)


def traced(port: Any, url: str, dialect: str = "cup") -> Any:
    """``port`` recording into the ``--trace`` file if one was given, else ``port`` itself."""
    path = _TRACE_FILE.get()
    if path is None:
        return port
    from terminal.trace import TraceWriter, TracingPort

    return TracingPort(port, TraceWriter(Path(path), port=url, dialect=dialect), dialect=dialect)


@trace_app.command(
    "record",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def record(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Trace file to write (JSON lines).")],
    verbose: VerboseOption = 0,
) -> None:
    """Run a command (after FILE) and record its link traffic in FILE.

    Example: terminal trace record sale.trace sale 12.34 --port /dev/ttyUSB0
    """
    if not ctx.args:
        raise typer.BadParameter("name the command to record, e.g. 'sale 12.34'")
    root = ctx.find_root().command
    try:
        code = root.main(["--trace", str(file), *ctx.args], standalone_mode=False)
    finally:
        use_trace_file(None)
    raise typer.Exit(code or 0)


@trace_app.command("show")
def show(
    file: Annotated[Path, typer.Argument(help="Trace file to print.")],
    verbose: VerboseOption = 0,
) -> None:
    """Print a trace: one line per link event, frames decoded, card data masked."""
    from terminal.trace import read_trace, render_trace

    try:
        trace = read_trace(file)
    except TerminalError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(_EXIT_USAGE) from exc
    for line in render_trace(trace):
        typer.echo(line)
