"""``terminal bringup`` and ``terminal diag``: the hardware bring-up checks from the command line.

``bringup`` runs every check, prints the table, writes ``report.json``,
``junit.xml`` and the transcripts into ``--report DIR``, and exits 0 only when
every check passed (1 otherwise). ``diag`` runs the same checks interactively:
each result as it comes, prompts answered at the console. Without ``--port``
both check the embedded simulator, which also answers the operator prompts.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from terminal.cli.authority import PasswordStdinOption
from terminal.cli.options import ConfigOption, VerboseOption
from terminal.cli.output import console, out

__all__ = ["register"]

_EXIT_NOT_PASSED = 1


def register(app: typer.Typer) -> None:
    """Add ``bringup`` and ``diag`` to ``app``."""
    app.command("bringup")(bringup)
    app.command("diag")(diag)


PortArg = Annotated[
    str | None,
    typer.Option("--port", "-p", help="The terminal: COM3, /dev/ttyUSB0, socket://h:p "
                                      "(default: the embedded simulator)."),
]
PrinterArg = Annotated[
    str | None, typer.Option("--printer", help="The receipt printer's URL (tcp://, serial://, "
                                               "usb://, virtual://).")
]
OperatorArg = Annotated[
    str | None,
    typer.Option("--operator", help="Who answers prompts: console, or auto (the simulator "
                                    "answers itself; the default without --port)."),
]
SupervisorArg = Annotated[
    str | None,
    typer.Option("--supervisor", metavar="ID",
                 help="Who authorises the test sale's void on a lane with operators (their"
                      " password is asked first; without it that check is skipped there)."),
]
TimeoutArg = Annotated[
    float, typer.Option("--prompt-timeout", min=0.1, help="Seconds to wait for the operator.")
]


def bringup(
    port: PortArg = None,
    printer: PrinterArg = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write report.json, junit.xml and the "
                                                    "transcripts into this directory.")
    ] = None,
    operator: OperatorArg = None,
    prompt_timeout: TimeoutArg = 30.0,
    supervisor: SupervisorArg = None,
    password_stdin: PasswordStdinOption = False,
    config: ConfigOption = None,
    verbose: VerboseOption = 0,
) -> None:
    """Check a terminal (and printer) in order; exit 0 only if every check passed."""
    from terminal.bringup import print_table, run_suite, write_reports

    settings = _settings(port, printer, report, operator, prompt_timeout, config,
                         supervisor, password_stdin)
    try:
        result = run_suite(settings)
    finally:
        settings.journal.close()
    print_table(result, console())
    if report is not None:
        for path in write_reports(result, report):
            out(f"wrote {path}")
    raise typer.Exit(0 if result.passed else _EXIT_NOT_PASSED)


def diag(
    port: PortArg = None,
    printer: PrinterArg = None,
    operator: OperatorArg = "console",
    prompt_timeout: TimeoutArg = 30.0,
    supervisor: SupervisorArg = None,
    password_stdin: PasswordStdinOption = False,
    config: ConfigOption = None,
    verbose: VerboseOption = 0,
) -> None:
    """Run the bring-up checks one by one at the console, answering its prompts."""
    from terminal.bringup import run_suite
    from terminal.bringup.report import verdict

    settings = _settings(port, printer, None, operator, prompt_timeout, config,
                         supervisor, password_stdin)

    def show(result) -> None:
        measured = "; ".join(m.text() for m in result.measurements)
        out(f"[{result.outcome.value}] {result.number}. {result.title}"
            + (f" — {result.hint}" if result.hint else "")
            + (f" ({measured})" if measured else ""))
        if result.outcome.value == "FAIL" and result.transcript:
            out(f"       transcript: {result.transcript}")

    try:
        result = run_suite(settings, on_result=show)
    finally:
        settings.journal.close()
    out(verdict(result))
    raise typer.Exit(0 if result.passed else _EXIT_NOT_PASSED)


def _settings(port, printer, report, operator, prompt_timeout, config_file, supervisor,
              password_stdin):
    from terminal.bringup import AutoOperator, BenchSettings, ConsoleOperator
    from terminal.card_data import load_token_key
    from terminal.cli.authority import Passwords, authorise
    from terminal.cli.paths import choose_config, data_paths
    from terminal.cli.session import security_from_config
    from terminal.config import SerialSettings, TerminalSettings
    from terminal.journal import Journal
    from terminal.link import LinkTimers
    from terminal.protocol.catalogue import Kind
    from terminal.transactions.rules import SUPERVISED

    chosen = choose_config(config_file)
    config = chosen.data
    url = port or "sim://"
    who = operator or ("auto" if url.startswith("sim://") else "console")
    if who not in ("auto", "console"):
        raise typer.BadParameter("--operator is auto or console", param_hint="--operator")
    if port is None:
        out("No --port: checking the embedded simulator.")
    terminal = TerminalSettings.from_config(config)
    # The POS's own journal: a test sale must not reuse a trace number, and is kept.
    journal = Journal(data_paths().journal)
    if supervisor is not None:
        try:  # asked before anything is opened; the void spends it (2 minutes)
            authorise(journal, terminal.terminal_id, supervisor=supervisor,
                      passwords=Passwords(password_stdin), action=SUPERVISED[Kind.VOID],
                      operator=None)
        except BaseException:
            journal.close()
            raise
    return BenchSettings(
        port=url,
        printer=printer,
        transcripts=(report / "transcripts") if report is not None else None,
        operator=AutoOperator() if who == "auto" else ConsoleOperator(sys.stdin, sys.stdout),
        terminal=terminal,
        serial=SerialSettings.from_config(config),
        timers=LinkTimers.from_config(config),
        journal=journal,
        supervisor=supervisor,
        security=security_from_config(config),
        token_key=load_token_key(chosen.token_key_file),
        prompt_timeout=prompt_timeout,
        receipt_timeout=max(prompt_timeout, 5.0),
    )
