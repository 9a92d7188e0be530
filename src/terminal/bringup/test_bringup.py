"""The bring-up checks as a pytest session: ``pytest --pyargs terminal.bringup``.

Options (from the package's pytest plugin): ``--terminal-port URL`` (default:
the embedded simulator), ``--terminal-printer URL``, ``--terminal-config FILE``,
``--terminal-data-dir DIR`` (the POS's journal and token key; else in memory),
``--terminal-report DIR`` (report.json, junit.xml, transcripts: as ``terminal bringup``),
``--terminal-operator auto|console`` (console needs ``-s``). The terminal is one
fixture, the same interface whether a real device or the simulator is behind it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from terminal.bringup import (
    CHECKS,
    AutoOperator,
    Bench,
    BenchSettings,
    Check,
    ConsoleOperator,
    Outcome,
    new_report,
    run_check,
    write_reports,
)


def _option(config: pytest.Config, name: str, default: Any = None) -> Any:
    try:
        return config.getoption(name)
    except ValueError:  # the plugin is not loaded (pytest -p no:terminal_payment)
        return default


@pytest.fixture(scope="module")
def terminal_bench(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """The terminal (and printer) under test, opened once; the results so far."""
    from terminal.bringup.environment import (
        config_for,
        journal_for,
        security_for,
        token_key_for,
    )
    from terminal.config import TerminalSettings
    from terminal.link import LinkTimers

    config = request.config
    port = _option(config, "--terminal-port") or "sim://"
    report_dir = _option(config, "--terminal-report")
    operator = _option(config, "--terminal-operator", "auto")
    data = config_for(_option(config, "--terminal-config"))
    data_dir = _option(config, "--terminal-data-dir")
    settings = BenchSettings(
        port=port,
        printer=_option(config, "--terminal-printer"),
        transcripts=Path(report_dir) / "transcripts" if report_dir else None,
        operator=AutoOperator() if operator == "auto" else ConsoleOperator(sys.stdin,
                                                                            sys.stdout),
        terminal=TerminalSettings.from_config(data),
        timers=LinkTimers.from_config(data),
        journal=journal_for(data_dir),
        security=security_for(data),
        token_key=token_key_for(data_dir),
    )
    bench = Bench(settings)
    run: dict[str, Any] = {"bench": bench, "done": {}, "report": new_report(settings)}
    try:
        yield run
    finally:
        bench.close()
        settings.journal.close()
        if report_dir:
            report = run["report"]
            report.device = dict(bench.facts)
            write_reports(report, Path(report_dir))


@pytest.mark.parametrize(
    ("number", "check"), list(enumerate(CHECKS, start=1)), ids=[c.name for c in CHECKS]
)
def test_check(terminal_bench: dict[str, Any], number: int, check: Check,
               record_property: Any) -> None:
    result = run_check(terminal_bench["bench"], number, check, terminal_bench["done"])
    terminal_bench["done"][check.name] = result.outcome
    terminal_bench["report"].checks.append(result)
    for measurement in result.measurements:
        record_property(measurement.name, measurement.text())
    if result.outcome is Outcome.FAIL:
        pytest.fail(f"{check.title}: {result.hint}\ntranscript: {result.transcript}",
                    pytrace=False)
    if result.outcome is Outcome.SKIP:
        pytest.skip(result.hint)
