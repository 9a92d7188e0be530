"""Fault scenarios: versioned TOML files naming faults at points of an exchange.

A scenario is data, checked when it is loaded (not when a fault first fires),
like the card profiles: an unknown key, kind or point, a missing number or a
wrong version is a :class:`ScenarioError` naming the file and the fault::

    version = 1
    name = "response lost once"
    description = "The first send of the terminal's response never arrives."
    duplicate_window = 3.0 # optional; default: the terminal's ack_timeout × max_sends

    [[faults]]
    kind = "drop"          # what happens (see KINDS)
    point = "response"     # where: request | ack | response | pos_ack
    exchange = 1           # which exchange (1 = the POS's first request); all if absent
    mti = "0200"           # only requests of this MTI (e.g. "0400" for reversals)
    times = 1              # how many frames at that point it hits; 0 = every one
    seconds = 0.0          # delay, late_response, disconnect, power_cycle, duplicate_response
    offset = 8             # garble: the byte of the frame to change (default: the middle)

The points are the four places an exchange's bytes pass: the POS's request
frame (``request``), the terminal's ACK/NAK of it (``ack``), the terminal's
response frame (``response``) and the POS's ACK/NAK of that (``pos_ack``).

An exchange is one request and what answers it. A request frame whose DATA
differs from the last one starts the next exchange; identical DATA is a link
resend of the same exchange only while it comes within the link's duplicate
window of the last copy (``ack_timeout × max_sends``, the window the
terminal's own duplicate filter uses,
:attr:`terminal.link.LinkTimers.duplicate_window`). Identical DATA after the
window is a new exchange: a POS that restarts and resends a refund unchanged,
or retries the same reversal, minutes later. So ``times = 0`` with
``exchange = N`` strikes every send of the N-th exchange, its link resends
included, and none of the recovery that follows it. ``duplicate_window``
(seconds) overrides the terminal's figure for this scenario.
"""

from __future__ import annotations

import enum
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from terminal.errors import ConfigError

__all__ = [
    "BUILTIN_DIR",
    "SCENARIO_VERSION",
    "Fault",
    "FaultKind",
    "Point",
    "Scenario",
    "ScenarioError",
    "builtin_scenarios",
    "load_scenario",
    "parse_scenario",
]

SCENARIO_VERSION = 1
#: The scenarios shipped with the simulator (``terminal simulate --scenario NAME``).
BUILTIN_DIR = Path(__file__).with_name("scenarios")


class ScenarioError(ConfigError):
    """A scenario file that cannot be used, with the file and the fault that is wrong."""


class Point(enum.StrEnum):
    """Where in an exchange a fault strikes."""

    REQUEST = "request"  # the POS's request frame, on its way in
    ACK = "ack"  # the terminal's ACK/NAK of the request, on its way out
    RESPONSE = "response"  # the terminal's response frame, on its way out
    POS_ACK = "pos_ack"  # the POS's ACK/NAK of the response, on its way in


class FaultKind(enum.StrEnum):
    """What a fault does at its point."""

    DROP = "drop"  # the frame or byte is lost
    DELAY = "delay"  # held back ``seconds``
    GARBLE = "garble"  # one byte of the frame changed (bad LRC, or worse)
    NO_ACK = "no_ack"  # the terminal's ACKs are lost
    NAK_STORM = "nak_storm"  # the terminal NAKs the request instead of taking it
    DISCONNECT = "disconnect"  # the line goes dead for ``seconds`` both ways
    DUPLICATE_RESPONSE = "duplicate_response"  # the response comes twice
    OTHER_TRACE = "other_trace"  # the response carries another trace number
    LATE_RESPONSE = "late_response"  # the response comes after the POS gave up
    BAD_MAC = "bad_mac"  # the response's MAC (field 64) does not verify
    POWER_CYCLE = "power_cycle"  # the terminal restarts from its persisted books
    PAPER_OUT = "paper_out"  # the receipt printer runs out of paper


# Where each kind may strike; the first is its default point.
_POINTS: Mapping[FaultKind, tuple[Point, ...]] = {
    FaultKind.DROP: (Point.RESPONSE, Point.REQUEST, Point.ACK, Point.POS_ACK),
    FaultKind.DELAY: (Point.RESPONSE, Point.REQUEST, Point.ACK, Point.POS_ACK),
    FaultKind.GARBLE: (Point.RESPONSE, Point.REQUEST),
    FaultKind.NO_ACK: (Point.ACK,),
    FaultKind.NAK_STORM: (Point.REQUEST,),
    FaultKind.DISCONNECT: (Point.RESPONSE, Point.REQUEST, Point.ACK, Point.POS_ACK),
    FaultKind.DUPLICATE_RESPONSE: (Point.RESPONSE,),
    FaultKind.OTHER_TRACE: (Point.RESPONSE,),
    FaultKind.LATE_RESPONSE: (Point.RESPONSE,),
    FaultKind.BAD_MAC: (Point.RESPONSE,),
    FaultKind.POWER_CYCLE: (Point.RESPONSE, Point.REQUEST, Point.ACK, Point.POS_ACK),
    FaultKind.PAPER_OUT: (Point.RESPONSE, Point.REQUEST, Point.ACK, Point.POS_ACK),
}
# How many frames a kind hits when ``times`` is not given (0: every one).
_DEFAULT_TIMES: Mapping[FaultKind, int] = {
    FaultKind.DELAY: 0,
    FaultKind.NO_ACK: 0,
    FaultKind.NAK_STORM: 3,
    FaultKind.LATE_RESPONSE: 0,
}
_DEFAULT_SECONDS: Mapping[FaultKind, float] = {
    FaultKind.DISCONNECT: 2.0,
    FaultKind.POWER_CYCLE: 3.0,
}
_KEYS = frozenset({"kind", "point", "exchange", "mti", "times", "seconds", "offset"})


@dataclass(frozen=True, slots=True)
class Fault:
    """One fault: what, where, in which exchanges, how often.

    ``seconds`` is ``None`` where the kind decides (a late response is late by
    the POS's response timeout plus one second).
    """

    kind: FaultKind
    point: Point
    exchange: int | None = None
    mti: str | None = None
    times: int = 1
    seconds: float | None = None
    offset: int | None = None

    def matches(self, exchange: int, mti: str | None) -> bool:
        """Whether this fault applies to the ``exchange``-th request, of MTI ``mti``."""
        if self.exchange is not None and self.exchange != exchange:
            return False
        return self.mti is None or self.mti == mti


@dataclass(frozen=True, slots=True)
class Scenario:
    """A named list of faults, as loaded from a file (``source``)."""

    name: str
    faults: tuple[Fault, ...]
    description: str = ""
    source: str = "<memory>"
    #: Seconds within which identical request DATA is a link resend of the same exchange;
    #: ``None``: the terminal's link timers decide (``ack_timeout × max_sends``).
    duplicate_window: float | None = None

    @property
    def needs_restart(self) -> bool:
        """True when a fault power-cycles the terminal (the device needs a way to restart)."""
        return any(f.kind is FaultKind.POWER_CYCLE for f in self.faults)


def load_scenario(path_or_name: Path | str) -> Scenario:
    """A scenario from a TOML file, or a shipped one by name (``"late-response"``)."""
    path = Path(path_or_name)
    if not path.exists() and path.suffix != ".toml" and path.name == str(path_or_name):
        builtin = BUILTIN_DIR / f"{path_or_name}.toml"
        if builtin.exists():
            path = builtin
        else:
            known = ", ".join(sorted(builtin_scenarios()))
            raise ScenarioError(f"no scenario file {path_or_name!r} and no shipped one "
                                f"of that name (shipped: {known})")
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise ScenarioError(f"cannot read scenario {path}: {exc.strerror or exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"scenario {path} is not valid TOML: {exc}") from exc
    return parse_scenario(data, source=str(path))


def builtin_scenarios() -> dict[str, Path]:
    """The shipped scenarios by name."""
    return {p.stem: p for p in sorted(BUILTIN_DIR.glob("*.toml"))}


def parse_scenario(data: Mapping[str, Any], source: str = "<memory>") -> Scenario:
    """Check parsed TOML and build the :class:`Scenario`; :class:`ScenarioError` if wrong."""
    version = data.get("version")
    if version != SCENARIO_VERSION:
        raise ScenarioError(
            f"{source}: scenario version {version!r}; this simulator reads version "
            f"{SCENARIO_VERSION} (add 'version = {SCENARIO_VERSION}')"
        )
    unknown = sorted(set(data) - {"version", "name", "description", "duplicate_window",
                                  "faults"})
    if unknown:
        raise ScenarioError(f"{source}: unknown key(s) {', '.join(unknown)}")
    name = data.get("name", Path(source).stem)
    if not isinstance(name, str) or not name:
        raise ScenarioError(f"{source}: 'name' must be a non-empty string")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise ScenarioError(f"{source}: 'description' must be a string")
    entries = data.get("faults", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ScenarioError(f"{source}: 'faults' must be an array of tables ([[faults]])")
    window = data.get("duplicate_window")
    if window is not None and (
        isinstance(window, bool) or not isinstance(window, int | float) or not window > 0
    ):
        raise ScenarioError(f"{source}: 'duplicate_window' must be a number of seconds > 0, "
                            f"not {window!r}")
    faults = tuple(_fault(entry, f"{source}: fault {i}") for i, entry in enumerate(entries, 1))
    return Scenario(name, faults, description, source,
                    None if window is None else float(window))


def _fault(entry: Mapping[str, Any], where: str) -> Fault:
    unknown = sorted(set(entry) - _KEYS)
    if unknown:
        raise ScenarioError(f"{where}: unknown key(s) {', '.join(unknown)}; "
                            f"known: {', '.join(sorted(_KEYS))}")
    try:
        kind = FaultKind(entry.get("kind"))
    except ValueError:
        raise ScenarioError(
            f"{where}: 'kind' must be one of {', '.join(k.value for k in FaultKind)}, "
            f"not {entry.get('kind')!r}"
        ) from None
    allowed = _POINTS[kind]
    point_text = entry.get("point", allowed[0].value)
    if point_text not in {p.value for p in allowed}:
        raise ScenarioError(f"{where}: a {kind.value} strikes at "
                            f"{' or '.join(p.value for p in allowed)}, not {point_text!r}")
    exchange = _whole(entry, "exchange", where, minimum=1)
    times = _whole(entry, "times", where, minimum=0)
    offset = _whole(entry, "offset", where, minimum=0)
    mti = entry.get("mti")
    if mti is not None and not (isinstance(mti, str) and len(mti) == 4 and mti.isdigit()):
        raise ScenarioError(f"{where}: 'mti' must be 4 digits as a string, not {mti!r}")
    seconds = entry.get("seconds", _DEFAULT_SECONDS.get(kind))
    if seconds is not None and (
        isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0
    ):
        raise ScenarioError(f"{where}: 'seconds' must be a number >= 0, not {seconds!r}")
    if kind is FaultKind.DELAY and seconds is None:
        raise ScenarioError(f"{where}: a delay needs 'seconds'")
    return Fault(
        kind=kind,
        point=Point(point_text),
        exchange=exchange,
        mti=mti,
        times=_DEFAULT_TIMES.get(kind, 1) if times is None else times,
        seconds=None if seconds is None else float(seconds),
        offset=offset,
    )


def _whole(entry: Mapping[str, Any], key: str, where: str, *, minimum: int) -> int | None:
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ScenarioError(f"{where}: '{key}' must be a whole number >= {minimum}, "
                            f"not {value!r}")
    return value
