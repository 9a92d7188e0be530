"""Scenario files: versioned, checked when loaded, shipped ones valid, usable from the CLI."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from simulator.faults import (
    FaultKind,
    Point,
    ScenarioError,
    builtin_scenarios,
    load_scenario,
    parse_scenario,
)
from terminal.cli.app import app


def test_every_shipped_scenario_loads_and_names_its_faults():
    shipped = builtin_scenarios()
    assert {"late-response", "nak-storm", "power-cycle", "response-lost-once"} <= set(shipped)
    for name in shipped:
        scenario = load_scenario(name)
        assert scenario.faults, name
        assert scenario.description, name


def test_a_file_scenario_gets_its_defaults_from_the_kind(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('version = 1\n[[faults]]\nkind = "late_response"\n'
                    '[[faults]]\nkind = "nak_storm"\nmti = "0400"\n')
    late, storm = load_scenario(path).faults
    assert (late.point, late.times, late.seconds) == (Point.RESPONSE, 0, None)
    assert (storm.kind, storm.point, storm.times, storm.mti) == (
        FaultKind.NAK_STORM, Point.REQUEST, 3, "0400")
    assert storm.matches(2, "0400") and not storm.matches(2, "0200")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"faults": []}, "version None"),
        ({"version": 2, "faults": []}, "version 2"),
        ({"version": 1, "fault": []}, "unknown key"),
        ({"version": 1, "faults": [{"kind": "explode"}]}, "fault 1: 'kind' must be one of"),
        ({"version": 1, "faults": [{"kind": "nak_storm", "point": "response"}]},
         "strikes at request"),
        ({"version": 1, "faults": [{"kind": "drop", "exchange": 0}]}, "'exchange' must be"),
        ({"version": 1, "faults": [{"kind": "drop", "seconds": -1}]}, "'seconds' must be"),
        ({"version": 1, "faults": [{"kind": "delay"}]}, "needs 'seconds'"),
        ({"version": 1, "faults": [{"kind": "drop", "mti": 200}]}, "'mti' must be 4 digits"),
        ({"version": 1, "faults": [{"kind": "drop"}, {"kind": "drop", "when": 1}]},
         "fault 2: unknown key"),
    ],
)
def test_a_broken_scenario_is_refused_at_load_naming_the_fault(data, reason):
    with pytest.raises(ScenarioError, match=reason):
        parse_scenario(data, source="s.toml")


def test_an_unknown_scenario_name_lists_the_shipped_ones():
    with pytest.raises(ScenarioError, match="late-response"):
        load_scenario("no-such-scenario")


def test_a_power_cycle_without_a_way_to_restart_is_refused():
    from simulator import SimulatedTerminal
    from simulator.faults import FaultInjector

    with pytest.raises(ScenarioError, match="restart"):
        FaultInjector(SimulatedTerminal(), load_scenario("power-cycle"))


def test_simulate_refuses_a_broken_scenario_with_exit_code_2(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("version = 7\n")
    outcome = CliRunner().invoke(app, ["simulate", "--pty", "--scenario", str(path)])
    assert outcome.exit_code == 2
    assert "version 7" in outcome.output


def test_simulate_with_a_scenario_serves_the_faulty_terminal_on_a_pty(tmp_path):
    """The path a POS takes: a separate `terminal simulate --scenario` process, a pty."""
    sim = subprocess.Popen(
        [sys.executable, "-m", "terminal", "simulate", "--pty", "--scenario", "nak-storm"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        line = sim.stdout.readline()
        path = line.split(" on ", 1)[1].split(" ")[0]
        outcome = CliRunner().invoke(app, ["sale", "1.00", "--port", path])
        assert outcome.exit_code == 3, outcome.output  # every send NAKed: in doubt
        assert "NAK, NAK, NAK" in outcome.output
        again = CliRunner().invoke(app, ["sale", "1.00", "--port", path, "--json"])
        assert again.exit_code == 0, again.output  # the storm was for the first request only
    finally:
        sim.terminate()
        sim.wait(10)
        assert "Fault scenario: NAK storm" in sim.stderr.read()
