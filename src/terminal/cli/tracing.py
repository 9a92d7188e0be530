"""``terminal trace record|show`` and the ``--trace FILE`` option every command shares.

``terminal --trace FILE sale 12.34`` (or ``terminal trace record FILE sale
12.34``) records each exchange of the command as timestamped link events with
their direction, card data masked, and whether each response's MAC verified;
the commands of a session recorded into one FILE are appended to it, in order.
``terminal trace show FILE`` prints one decoded; ``terminal simulate --replay
FILE`` plays one back as the device.

The option lives on the root command, which hands the path to
:func:`use_trace_file` on every invocation (``None`` when absent, so nothing
carries over from one invocation to the next in one process); a command that
opens a port needs one call, :func:`traced`, to honour it, and no command
signature changes.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any

import typer

from terminal.cli.options import VerboseOption
from terminal.errors import TerminalError

__all__ = ["judge_macs", "register", "traced", "use_trace_file"]

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
    """``port`` recording into the ``--trace`` file if one was given, else ``port`` itself.

    The file is appended to when it already holds a trace; one that holds
    something else is refused (``TraceError``, ``port`` closed), never written over.
    """
    path = _TRACE_FILE.get()
    if path is None:
        return port
    from terminal.trace import TraceWriter, TracingPort

    try:
        writer = TraceWriter(Path(path), port=url, dialect=dialect, append=True)
    except BaseException:
        port.close()
        raise
    return TracingPort(port, writer, dialect=dialect)


def judge_macs(port: Any, verdict: Callable[[bytes], bool | None]) -> None:
    """Have a traced ``port`` record whether each response's MAC verified, as ``verdict``
    (the client's own check) judges the clear bytes; an untraced port is left alone."""
    from terminal.trace import TracingPort

    if isinstance(port, TracingPort):
        port.mac_check = verdict


@trace_app.command(
    "record",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def record(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Trace file to write (JSON lines).")],
    verbose: VerboseOption = 0,
) -> None:
    """Run a command (after FILE) and record its link traffic in FILE (appended to a trace
    already there, so the commands of a session share one file).

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
