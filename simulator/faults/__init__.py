"""Fault injection: scenario files and the manipulator that applies them on the byte path.

``load_scenario(path_or_name)`` reads and checks a versioned TOML scenario
(:mod:`simulator.faults.scenario`); :class:`FaultInjector` wraps any simulated
device with it (:mod:`simulator.faults.injector`). ``terminal simulate
--scenario FILE`` and the pytest plugin's ``terminal_sim`` fixture use both.
"""

from simulator.faults.injector import FaultEvent, FaultInjector
from simulator.faults.scenario import (
    BUILTIN_DIR,
    SCENARIO_VERSION,
    Fault,
    FaultKind,
    Point,
    Scenario,
    ScenarioError,
    builtin_scenarios,
    load_scenario,
    parse_scenario,
)

__all__ = [
    "BUILTIN_DIR",
    "SCENARIO_VERSION",
    "Fault",
    "FaultEvent",
    "FaultInjector",
    "FaultKind",
    "Point",
    "Scenario",
    "ScenarioError",
    "builtin_scenarios",
    "load_scenario",
    "parse_scenario",
]
