"""The run's reports: the console table, report.json, junit.xml (transcripts are written as
the checks run, one per check, by the bench)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from rich.console import Console
from rich.table import Table

from terminal.bringup.model import Outcome, Report

__all__ = ["print_table", "verdict", "write_json", "write_junit", "write_reports"]

_STYLE = {Outcome.PASS: "bold green", Outcome.FAIL: "bold red", Outcome.SKIP: "yellow"}


def print_table(report: Report, console: Console) -> None:
    """PASS / FAIL / SKIP per check with what was measured and a hint; failures' transcripts."""
    device = " — SIMULATOR, no money moved" if report.simulated else ""
    table = Table(title=f"Bring-up of {report.port}{device}", show_lines=False)
    table.add_column("#", justify="right")
    table.add_column("check")
    table.add_column("result")
    table.add_column("measured / hint", overflow="fold")
    for check in report.checks:
        detail = "; ".join(m.text() for m in check.measurements)
        if check.hint:
            detail = f"{check.hint}" + (f" [{detail}]" if detail else "")
        table.add_row(str(check.number), check.title,
                      f"[{_STYLE[check.outcome]}]{check.outcome.value}[/]", detail)
    console.print(table)
    for check in report.checks:
        if check.outcome is Outcome.FAIL and check.transcript:
            console.print(f"transcript of '{check.title}': {check.transcript}")
    console.print(f"[{'bold green' if report.passed else 'bold red'}]{verdict(report)}[/]")


def verdict(report: Report) -> str:
    """The run's last word; a run against the simulator says so, passed or not."""
    said = "ALL CHECKS PASSED" if report.passed else "NOT PASSED"
    if report.simulated:
        said += " (on the SIMULATOR: no terminal was tested)"
    return said


def write_reports(report: Report, folder: Path) -> list[Path]:
    """``report.json`` and ``junit.xml`` in ``folder``; their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    return [write_json(report, folder / "report.json"), write_junit(report, folder / "junit.xml")]


def write_json(report: Report, path: Path) -> Path:
    path.write_text(json.dumps(report.to_json(), ensure_ascii=False, indent=2) + "\n", "utf-8")
    return path


def write_junit(report: Report, path: Path) -> Path:
    """JUnit XML as CI servers read it: one testcase per check, measurements as properties."""
    failures = sum(c.outcome is Outcome.FAIL for c in report.checks)
    skipped = sum(c.outcome is Outcome.SKIP for c in report.checks)
    suites = ET.Element("testsuites")
    suite = ET.SubElement(
        suites, "testsuite", name="terminal bring-up", tests=str(len(report.checks)),
        failures=str(failures), errors="0", skipped=str(skipped),
        time=f"{sum(c.seconds for c in report.checks):.3f}", timestamp=report.started,
    )
    properties = ET.SubElement(suite, "properties")
    for name in ("port", "printer", "package_version", "os", "python"):
        ET.SubElement(properties, "property", name=name, value=str(getattr(report, name) or ""))
    ET.SubElement(properties, "property", name="simulated", value=str(report.simulated).lower())
    for check in report.checks:
        case = ET.SubElement(suite, "testcase", classname="terminal.bringup",
                             name=f"{check.number:02d} {check.title}", time=f"{check.seconds:.3f}")
        if check.measurements:
            props = ET.SubElement(case, "properties")
            for m in check.measurements:
                ET.SubElement(props, "property", name=m.name, value=m.text())
        if check.outcome is Outcome.FAIL:
            failure = ET.SubElement(case, "failure", message=check.hint)
            failure.text = f"{check.hint}\ntranscript: {check.transcript}"
        elif check.outcome is Outcome.SKIP:
            ET.SubElement(case, "skipped", message=check.hint)
        if check.transcript:
            ET.SubElement(case, "system-out").text = f"transcript: {check.transcript}"
    ET.indent(suites)
    ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)
    return path
