"""``terminal simulate``: a virtual terminal that another POS program can open.

``sim://`` runs the simulator inside the POS process. This command runs it on
its own, behind a raw pty (``--pty``: the POS opens ``/dev/pts/N`` exactly as it
would a USB serial adapter) or a TCP port (``--tcp PORT``: the POS opens
``socket://HOST:PORT``), so that a POS application that cannot use our URL
handler, or one on another machine, can be tested against it.

It prints the path or URL to open on the first line of stdout (flushed, so a
script reading the pipe sees it at once) and runs until Ctrl-C or SIGTERM, both
of which end it cleanly with exit code 0.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer

from terminal.errors import TerminalError

__all__ = ["register", "simulate"]

_EXIT_USAGE = 2  # terminal.cli.app.EXIT_USAGE; not imported: app imports this module


def register(app: typer.Typer) -> None:
    """Add ``simulate`` to ``app``."""
    app.command("simulate")(simulate)


def simulate(
    pty: Annotated[
        bool, typer.Option("--pty", help="Serve on a new pseudo-terminal (prints its path).")
    ] = False,
    tcp: Annotated[
        int | None,
        typer.Option(
            "--tcp", metavar="PORT", min=0, max=65535, help="Serve on this TCP port (0: any free)."
        ),
    ] = None,
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on with --tcp.")
    ] = "127.0.0.1",
    card: Annotated[
        str | None, typer.Option("--card", help="Card profile read when none is presented.")
    ] = None,
    ledger: Annotated[
        Path | None,
        typer.Option("--ledger", help="JSON file the simulated host keeps its books in."),
    ] = None,
    delay: Annotated[
        float | None,
        typer.Option("--delay", min=0.0, help="Seconds the terminal waits before answering."),
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="Config file to read instead of the default.")
    ] = None,
    replay: Annotated[
        Path | None,
        typer.Option("--replay", metavar="FILE",
                     help="Answer as recorded in this trace (terminal --trace) instead."),
    ] = None,
) -> None:
    """Run a simulated terminal on a pty or TCP port until Ctrl-C."""
    if pty == (tcp is not None):
        raise typer.BadParameter("give exactly one of --pty or --tcp PORT")
    if config is not None and not config.exists():
        raise typer.BadParameter(f"config file {config} does not exist", param_hint="--config")
    try:
        if replay is not None:
            device = _build_replay(replay, config)
        else:
            device = _build_device(config, card=card, ledger=ledger, delay=delay)
    except TerminalError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(_EXIT_USAGE) from exc

    from simulator.serve import serve_pty, serve_tcp

    stop = threading.Event()
    with _stop_on_signals(stop):
        if pty:
            serve_pty(device, stop=stop, on_ready=_announce)
        else:
            assert tcp is not None
            try:
                serve_tcp(device, host, tcp, stop=stop, on_ready=_announce)
            except OSError as exc:
                typer.echo(f"error: cannot listen on {host}:{tcp}: {exc.strerror or exc}", err=True)
                raise typer.Exit(_EXIT_USAGE) from exc
    typer.echo("Simulated terminal stopped.", err=True)


def _build_device(
    config: Path | None, *, card: str | None, ledger: Path | None, delay: float | None
) -> Any:
    """The simulated terminal, configured by the config file and then the options."""
    from simulator import SimulatedTerminal
    from simulator.config import load_settings

    settings = load_settings(config, default_card=card, ledger_file=ledger, response_delay=delay)
    return SimulatedTerminal(settings)


def _build_replay(trace_file: Path, config: Path | None) -> Any:
    """The device that plays ``trace_file`` back, with the config file's link timers."""
    from simulator.replay import ReplayTerminal
    from terminal.config import load_config
    from terminal.link import LinkTimers
    from terminal.trace import read_trace

    timers = LinkTimers.from_config(load_config(config))
    return ReplayTerminal(read_trace(trace_file), timers=timers)


def _announce(address: str) -> None:
    """Tell the user (or the script reading our stdout) what to open, right now."""
    typer.echo(
        f"Simulated terminal on {address} — open it with: terminal sale 12.34 --port {address}"
    )
    typer.echo("Press Ctrl-C to stop.", err=True)
    sys.stdout.flush()


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Turn SIGINT and SIGTERM into ``stop.set()`` for the duration, then restore.

    Why not let Ctrl-C raise KeyboardInterrupt: it may land anywhere in the
    loop, between reading a request and answering it; setting ``stop`` lets the
    loop finish its step and close the pty or socket itself.
    """

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
