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

import logging
import os
import signal
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer

from terminal.cli.failures import Failure
from terminal.cli.options import CardOption, ConfigOption, VerboseOption
from terminal.cli.output import err, out
from terminal.cli.paths import choose_config, data_paths
from terminal.errors import TerminalError

__all__ = ["register", "simulate"]


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
    card: CardOption = None,
    ledger: Annotated[
        Path | None,
        typer.Option("--ledger", help="SQLite file of the simulator's books "
                     "(default: simulator/books.sqlite3 in the data directory)."),
    ] = None,
    delay: Annotated[
        float | None,
        typer.Option("--delay", min=0.0, help="Seconds the terminal waits before answering."),
    ] = None,
    config: ConfigOption = None,
    scenario: Annotated[
        str | None,
        typer.Option("--scenario", metavar="FILE|NAME",
                     help="Inject the faults of this scenario file (or shipped scenario)."),
    ] = None,
    replay: Annotated[
        Path | None,
        typer.Option("--replay", metavar="FILE",
                     help="Answer as recorded in this trace (terminal --trace) instead: each "
                          "request from the next recorded exchange of its kind; working keys "
                          "and MACs are re-issued with this host's master key."),
    ] = None,
    keep_macs: Annotated[
        bool,
        typer.Option("--keep-macs",
                     help="With --replay: send the recorded working keys and MACs unchanged "
                          "(they fail here; a MAC that failed in the field fails anyway)."),
    ] = False,
    reset: Annotated[
        bool, typer.Option("--reset", help="Forget the simulator's books and state, then exit.")
    ] = False,
    next_card: Annotated[
        str | None,
        typer.Option("--next-card", metavar="NAME",
                     help="Present this card at the next exchange of the simulator serving "
                          "these books (another process), then exit."),
    ] = None,
    verbose: VerboseOption = 0,
) -> None:
    """Run a simulated terminal on a pty or TCP port until Ctrl-C."""
    chosen = choose_config(config)
    if reset or next_card is not None:
        if pty or tcp is not None or reset == (next_card is not None):
            raise typer.BadParameter("--reset and --next-card each stand alone")
        books = _books(chosen.data, ledger)
        if reset:
            _reset(books)
        else:
            _present(chosen.data, books, next_card or "")
        return
    if pty == (tcp is not None):
        raise typer.BadParameter("give exactly one of --pty or --tcp PORT")
    if keep_macs and replay is None:
        raise typer.BadParameter("--keep-macs goes with --replay FILE")
    if replay is None:
        ledger = _books(chosen.data, ledger)
        _check_writable(ledger)  # before anything is served
    replaying = None
    if replay is not None:
        device = replaying = _build_replay(replay, chosen.data, keep_macs=keep_macs)
        books = None
    else:
        # Opening the books (SQLite) at build time also proves a configured ledger usable.
        device = _build_device(chosen.data, card=card, ledger=ledger, delay=delay)
        books = device.settings.ledger_file
    if scenario is not None:
        device = _with_faults(
            device, scenario,
            lambda: _build_device(chosen.data, card=card, ledger=ledger, delay=delay),
        )

    from simulator.serve import serve_pty, serve_tcp

    stop = threading.Event()
    started = threading.Event()

    def announce(address: str) -> None:
        started.set()
        _announce(address)

    # -v (here or before the command) logs them already, through the root logger.
    logged = verbose or logging.getLogger().getEffectiveLevel() <= logging.INFO
    with _stop_on_signals(stop), _replay_warnings_shown(replaying is not None and not logged):
        try:
            if pty:
                serve_pty(device, stop=stop, on_ready=announce)
            else:
                assert tcp is not None
                serve_tcp(device, host, tcp, stop=stop, on_ready=announce)
        except (OSError, TerminalError, sqlite3.Error) as exc:
            # A fault after the announcement is the books' (the SQLite ledger, its
            # directory, the disk), never the listening socket's.
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            if not started.is_set() and isinstance(exc, OSError):
                where = f"{host}:{tcp}" if tcp is not None else "a pseudo-terminal"
                raise Failure(f"cannot listen on {where}: {reason}") from None
            if books is not None:
                raise Failure(f"ledger error: ledger file {books}: {reason}") from None
            raise Failure(f"the simulated terminal stopped: {reason}") from None
    if replaying is not None:
        err(f"Replay ended: {replaying.final_report()}.")
    err("Simulated terminal stopped.")


def _books(config: dict[str, Any], ledger: Path | None) -> Path:
    """The books in force: ``--ledger``, else ``[simulator] ledger_file``, else the data dir's."""
    if ledger is not None:
        return ledger
    from_config = config.get("simulator", {}).get("ledger_file")
    return Path(from_config).expanduser() if from_config else data_paths().simulator_books


def _reset(books: Path) -> None:
    """Delete the books (and SQLite's WAL and shared-memory files beside them)."""
    removed = 0
    for path in (books, books.with_name(books.name + "-wal"), books.with_name(books.name + "-shm")):
        try:
            path.unlink()
            removed += 1
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise Failure(f"cannot remove {path}: {exc.strerror or exc}") from None
    out(f"Simulator reset: {books} {'removed' if removed else 'was not there'}.")


def _present(config: dict[str, Any], books: Path, name: str) -> None:
    """Leave ``name`` in the books for whichever simulator serves them to read next."""
    from simulator import VirtualTerminal
    from simulator.config import SimulatorSettings
    from simulator.ledger import Ledger

    settings = SimulatorSettings.from_config(config, ledger_file=books)
    ledger = Ledger(books)
    try:
        VirtualTerminal(settings, ledger=ledger).present_card_in_books(name)
    finally:
        ledger.close()
    out(f"Card {name!r} will be read at the next exchange of the simulator on {books}.")


def _build_device(
    config: dict[str, Any], *, card: str | None, ledger: Path | None, delay: float | None
) -> Any:
    """The simulated terminal, configured by the config file and then the options."""
    from simulator import SimulatedTerminal
    from simulator.config import SimulatorSettings

    settings = SimulatorSettings.from_config(
        config, default_card=card, ledger_file=ledger, response_delay=delay
    )
    return SimulatedTerminal(settings)


def _with_faults(device: Any, scenario: str, restart: Any) -> Any:
    """``device`` behind the fault injector running ``scenario`` (a file or a shipped name)."""
    from simulator.faults import FaultInjector, load_scenario

    loaded = load_scenario(scenario)
    err(f"Fault scenario: {loaded.name} ({len(loaded.faults)} fault(s))")
    return FaultInjector(device, loaded, restart=restart)


def _build_replay(trace_file: Path, config: dict[str, Any], *, keep_macs: bool) -> Any:
    """The device that plays ``trace_file`` back, with the config file's link timers, master
    key and MAC algorithm; what it does with keys and MACs is said on stderr."""
    from simulator.config import SimulatorSettings
    from simulator.replay import ReplayTerminal
    from terminal.trace import read_trace

    settings = SimulatorSettings.from_config(config)
    device = ReplayTerminal(read_trace(trace_file), settings=settings, keep_macs=keep_macs)
    err(f"Replaying {trace_file}: {device.summary()}.")
    return device


@contextmanager
def _replay_warnings_shown(shown: bool) -> Iterator[None]:
    """While ``shown``, print the replay's warnings on stderr as they happen, without ``-v``.

    A live request the recording holds no answer for is what the developer
    replaying a field session must see at once: their POS only times out, a
    minute later. With ``-v`` the log handler prints them already.
    """
    if not shown:
        yield
        return
    handler = _ErrHandler(logging.WARNING)
    logger = logging.getLogger("simulator.replay")
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


class _ErrHandler(logging.Handler):
    """Log records written with :func:`err`, as ``replay: <message>``."""

    def emit(self, record: logging.LogRecord) -> None:
        err(f"replay: {record.getMessage()}")


def _check_writable(path: Path) -> None:
    """Prove now, by writing, that the ledger's directory takes new files and the ledger
    itself can be rewritten: a sale must not be answered and then fail to be booked."""
    try:
        if path.is_dir():
            raise IsADirectoryError(21, "it is a directory, not a file")
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path.parent):
            pass
        if path.exists() and not os.access(path, os.R_OK | os.W_OK):
            raise PermissionError(13, "Permission denied")
    except OSError as exc:
        why = exc.strerror or str(exc)
        if isinstance(exc, NotADirectoryError):
            why = "part of its path is a file, not a directory"
        raise Failure(f"ledger file {path} cannot be written: {why}") from None


def _announce(address: str) -> None:
    """Tell the user (or the script reading our stdout) what to open, right now."""
    out(f"Simulated terminal on {address} — open it with: terminal sale 12.34 --port {address}")
    err("Press Ctrl-C to stop.")


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
