"""Run the whole bring-up suite: every check in order, into one :class:`Report`."""

from __future__ import annotations

import platform
from collections.abc import Callable
from datetime import UTC, datetime

import terminal
from terminal.bringup.bench import Bench, BenchSettings
from terminal.bringup.checks import CHECKS, Check, run_check
from terminal.bringup.model import CheckResult, Outcome, Report

__all__ = ["new_report", "run_suite"]


def new_report(settings: BenchSettings) -> Report:
    return Report(
        port=settings.port,
        printer=settings.printer,
        started=_now(),
        package_version=terminal.__version__,
        os=platform.platform(),
        python=platform.python_version(),
    )


def run_suite(
    settings: BenchSettings,
    checks: tuple[Check, ...] = CHECKS,
    on_result: Callable[[CheckResult], None] | None = None,
) -> Report:
    """Every check against the devices of ``settings``; the devices are closed after."""
    report = new_report(settings)
    bench = Bench(settings)
    done: dict[str, Outcome] = {}
    try:
        for number, check in enumerate(checks, start=1):
            result = run_check(bench, number, check, done)
            done[check.name] = result.outcome
            report.checks.append(result)
            if on_result is not None:
                on_result(result)
    finally:
        bench.close()
    report.device = dict(bench.facts)
    report.finished = _now()
    return report


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
