"""A POS host and a simulated terminal with a scenario between them, on a fake clock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import serial

from simulator import SimulatedTerminal, SimulatorSettings
from simulator.faults import FaultInjector, Scenario, parse_scenario
from terminal.clock import FakeClock
from terminal.config import TerminalSettings
from terminal.journal import Journal
from terminal.link import LinkTimers, SerialLink
from terminal.transactions.client import TerminalClient

KEY = b"k" * 32


def scenario(*faults: dict, name: str = "test") -> Scenario:
    return parse_scenario({"version": 1, "name": name, "faults": list(faults)})


@dataclass
class Rig:
    clock: FakeClock
    injector: FaultInjector
    client: TerminalClient
    link: SerialLink
    ledger_file: Path

    def terminal(self) -> SimulatedTerminal:
        device = self.injector.device
        assert isinstance(device, SimulatedTerminal)
        return device


@contextmanager
def rig(tmp_path: Path, *faults: dict, printer=None, timers: LinkTimers | None = None
        ) -> Iterator[Rig]:
    clock = FakeClock(1000.0)
    timers = timers or LinkTimers(response_timeout=60.0)
    ledger_file = tmp_path / "books.sqlite"
    settings = SimulatorSettings(ledger_file=ledger_file, link=timers)

    def build() -> SimulatedTerminal:
        return SimulatedTerminal(settings, clock=clock)

    injector = FaultInjector(build(), scenario(*faults), clock=clock, restart=build,
                             printer=printer)
    port = serial.serial_for_url("sim://", simulator=injector, clock=clock, timeout=0.05)
    journal = Journal(tmp_path / "journal.sqlite3")
    try:
        link = SerialLink(port, timers, clock)
        # No MAC here: each scenario counts the exchanges of one sale, and a sign-on
        # before it would be one more (the MAC has its own tests).
        client = TerminalClient(link, TerminalSettings(), journal=journal, token_key=KEY,
                                response_timeout=timers.response_timeout, clock=clock)
        yield Rig(clock, injector, client, link, ledger_file)
    finally:
        port.close()
        journal.close()
        device = injector.device
        if device is not None:
            device.ledger.close()
