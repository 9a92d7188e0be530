"""Hardware bring-up: the checks a technician runs on a new terminal and printer.

Shipped in the package, so a shop PC with ``pip install terminal`` has it:

* ``terminal bringup --port COM3 [--printer URL] [--report DIR]`` — the console
  table, ``report.json``, ``junit.xml`` and a transcript per check; exit 0 only
  when every check passed. ``terminal diag`` runs the same checks interactively.
* ``pytest --pyargs terminal.bringup --terminal-port COM3`` — the same checks
  as a pytest session (options from the package's pytest plugin).

Without a port the checks run against the embedded simulator (``sim://``),
through the same interface a real terminal is driven through. Nothing here
needs a pty or a POSIX-only call.
"""

from terminal.bringup.bench import Bench, BenchSettings
from terminal.bringup.checks import CHECKS, Check, CheckFailed, CheckSkipped, run_check
from terminal.bringup.model import CheckResult, Measurement, Outcome, Report
from terminal.bringup.operator import AutoOperator, ConsoleOperator, Operator, SilentOperator
from terminal.bringup.report import print_table, write_json, write_junit, write_reports
from terminal.bringup.suite import new_report, run_suite

__all__ = [
    "CHECKS",
    "AutoOperator",
    "Bench",
    "BenchSettings",
    "Check",
    "CheckFailed",
    "CheckResult",
    "CheckSkipped",
    "ConsoleOperator",
    "Measurement",
    "Operator",
    "Outcome",
    "Report",
    "SilentOperator",
    "new_report",
    "print_table",
    "run_check",
    "run_suite",
    "write_json",
    "write_junit",
    "write_reports",
]
