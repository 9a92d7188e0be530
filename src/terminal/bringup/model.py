"""What a bring-up run found: checks with outcomes, hints and measurements, as plain values.

These are what the console table, ``report.json`` and ``junit.xml`` are made
from, and what the pytest form of the suite turns into pass, fail and skip.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["CheckResult", "Measurement", "Outcome", "Report"]


class Outcome(enum.StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    SKIP = "SKIP"


@dataclass(frozen=True, slots=True)
class Measurement:
    """A value taken during a check, with its unit and limits and whether it kept them.

    ``low``/``high`` bound a number; ``expected`` names the one right value (a
    terminal id); a measurement without limits is recorded for the report only
    and always passes.
    """

    name: str
    value: Any
    unit: str = ""
    low: float | None = None
    high: float | None = None
    expected: Any = None

    @property
    def outcome(self) -> Outcome:
        if self.expected is not None and self.value != self.expected:
            return Outcome.FAIL
        if self.low is not None and (self.value is None or self.value < self.low):
            return Outcome.FAIL
        if self.high is not None and (self.value is None or self.value > self.high):
            return Outcome.FAIL
        return Outcome.PASS

    def limits(self) -> str:
        if self.expected is not None:
            return f"= {self.expected}"
        if self.low is not None and self.high is not None:
            return f"{self.low:g}..{self.high:g}"
        if self.high is not None:
            return f"<= {self.high:g}"
        if self.low is not None:
            return f">= {self.low:g}"
        return ""

    def text(self) -> str:
        value = f"{self.value:.1f}" if isinstance(self.value, float) else str(self.value)
        unit = f" {self.unit}" if self.unit else ""
        limits = f" ({self.limits()})" if self.limits() else ""
        mark = "" if self.outcome is Outcome.PASS else " OUT OF LIMITS"
        return f"{self.name} {value}{unit}{limits}{mark}"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        if isinstance(self.value, float):
            # Three decimals: a float's full repr (e.g. 50.580477998…) holds digit runs a
            # card scanner reads as a number, and no bench measures finer than that.
            data["value"] = round(self.value, 3)
        data["outcome"] = self.outcome.value
        return {k: v for k, v in data.items() if v is not None}


@dataclass
class CheckResult:
    """One check's outcome; ``hint`` tells a technician what to do (or why it was skipped)."""

    number: int
    name: str
    title: str
    outcome: Outcome
    hint: str = ""
    seconds: float = 0.0
    measurements: list[Measurement] = field(default_factory=list)
    transcript: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "name": self.name,
            "title": self.title,
            "outcome": self.outcome.value,
            "hint": self.hint,
            "seconds": round(self.seconds, 3),
            "measurements": [m.to_json() for m in self.measurements],
            "transcript": self.transcript,
        }


@dataclass
class Report:
    """A whole run: where, on what, when, and every check in order."""

    port: str
    printer: str | None
    started: str
    finished: str = ""
    package_version: str = ""
    os: str = ""
    python: str = ""
    device: dict[str, Any] = field(default_factory=dict)
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def simulated(self) -> bool:
        """The device under test said it is the simulator: nothing here proves a terminal."""
        return bool(self.device.get("simulator"))

    @property
    def passed(self) -> bool:
        """True only when every check ran and passed (a skip is not a pass)."""
        return bool(self.checks) and all(c.outcome is Outcome.PASS for c in self.checks)

    def to_json(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "port": self.port,
            "printer": self.printer,
            "started": self.started,
            "finished": self.finished,
            "package_version": self.package_version,
            "os": self.os,
            "python": self.python,
            "simulated": self.simulated,
            "device": self.device,
            "checks": [c.to_json() for c in self.checks],
        }
