"""The pytest plugin for POS developers: a simulated terminal and a virtual printer per test.

Installed with the package (entry point ``pytest11``: ``terminal =
"simulator.pytest_plugin"``), so a POS project that ``pip install``\\ s
``terminal`` gets, with no conftest of its own:

* ``terminal_sim`` — a simulated terminal running on a real pseudo-terminal (on
  Windows, a TCP port), with its books in the test's ``tmp_path``. Open
  ``terminal_sim.url`` as you would ``/dev/ttyUSB0``. Choose the card and a
  fault scenario per test with a marker::

      @pytest.mark.terminal_sim(card="expired", scenario="nak-storm")
      def test_declined(terminal_sim): ...

  ``transport="tcp"`` serves it on ``socket://127.0.0.1:PORT`` instead;
  ``delay=2.0`` makes it answer late. ``terminal_sim.present_card(name)``
  changes the card mid-test; ``terminal_sim.ledger`` is the acquirer's books.
* ``virtual_printer`` — a virtual ESC/POS receipt printer on a TCP port
  (``virtual_printer.url`` is ``tcp://127.0.0.1:PORT``, ``host``/``port`` for
  python-escpos's ``Network``); ``virtual_printer.text()`` is what was printed,
  ``virtual_printer.slips`` the paper. ``@pytest.mark.virtual_printer(state=
  "paper-out")`` starts it out of paper.

The plugin also adds the bring-up suite's options (``--terminal-port``,
``--terminal-printer``, ``--terminal-report``, ``--terminal-operator``); see
:mod:`terminal.bringup`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

__all__ = ["RunningPrinter", "RunningTerminal", "terminal_sim", "virtual_printer"]

_SIM_OPTIONS = ("card", "scenario", "transport", "delay")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("terminal", "payment terminal (terminal package)")
    group.addoption("--terminal-port", default=None, metavar="URL",
                    help="bring-up: the terminal's port (COM3, /dev/ttyUSB0, socket://h:p); "
                         "the embedded simulator when absent")
    group.addoption("--terminal-printer", default=None, metavar="URL",
                    help="bring-up: the receipt printer's URL")
    group.addoption("--terminal-config", default=None, metavar="FILE",
                    help="bring-up: the POS's config file (default: every default)")
    group.addoption("--terminal-data-dir", default=None, metavar="DIR",
                    help="bring-up: the POS's data directory (journal, token key); "
                         "default: an in-memory journal")
    group.addoption("--terminal-report", default=None, metavar="DIR",
                    help="bring-up: write report.json, junit.xml and transcripts here")
    group.addoption("--terminal-operator", default="auto", choices=("auto", "console"),
                    help="bring-up: who answers operator prompts (auto: the simulator does)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "terminal_sim(card=None, scenario=None, transport='pty', delay=None): "
        "how the terminal_sim fixture's simulated terminal is set up for this test",
    )
    config.addinivalue_line(
        "markers",
        "virtual_printer(state='ready', paper_lines=None): "
        "how the virtual_printer fixture's printer starts",
    )


@dataclass
class RunningTerminal:
    """A simulated terminal being served for one test."""

    url: str
    device: Any  # SimulatedTerminal, or the FaultInjector around it
    ledger_file: Path
    transport: str
    events: list[Any] = field(default_factory=list)

    @property
    def terminal(self) -> Any:
        """The simulated terminal itself (behind any fault scenario)."""
        return getattr(self.device, "device", None) or self.device

    @property
    def ledger(self) -> Any:
        """The acquirer's books (:class:`simulator.Ledger`)."""
        return self.terminal.ledger

    def present_card(self, name: str) -> None:
        """The card the next financial exchange reads (a profile of ``cards.toml``)."""
        self.terminal.present_card(name)

    def approved_amounts(self) -> list[int]:
        """Amounts (fen) of the approved entries in the books, oldest first."""
        return [entry.amount for entry in self.ledger.entries() if entry.approved]


@dataclass
class RunningPrinter:
    """A virtual receipt printer being served for one test."""

    url: str
    host: str
    port: int
    printer: Any  # simulator.printer.VirtualPrinter

    @property
    def slips(self) -> list[Any]:
        """The paper printed so far, one slip per cut (the last may be uncut)."""
        return list(self.printer.slips)

    def text(self) -> str:
        """Everything printed so far, as text, slips separated by a blank line."""
        slips = [*self.printer.slips]
        current = self.printer.current_slip
        if current.rows and current not in slips:
            slips.append(current)
        return "\n\n".join("\n".join(s.text_lines(self.printer.dots)) for s in slips)

    def wait_for_slips(self, count: int = 1, timeout: float = 5.0) -> list[Any]:
        """The cut slips, once at least ``count`` are out (the printer runs in its own
        thread, so what a POS just sent may still be on its way); fails after ``timeout``."""
        deadline = time.monotonic() + timeout
        while len(self.printer.cut_slips) < count:
            if time.monotonic() > deadline:
                pytest.fail(f"virtual printer: {len(self.printer.cut_slips)} slip(s) cut "
                            f"within {timeout:g} s, expected {count}")
            time.sleep(0.01)
        return list(self.printer.cut_slips)

    def set_conditions(self, **changes: bool) -> None:
        """Paper out, cover open, offline...: as :meth:`VirtualPrinter.set_conditions`."""
        self.printer.set_conditions(**changes)


@pytest.fixture
def terminal_sim(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RunningTerminal]:
    """A simulated terminal served on a pty (TCP on Windows) for this test."""
    from simulator import SimulatedTerminal, SimulatorSettings
    from simulator.serve import PtySimulator, TcpSimulator

    options = _marker_options(request, "terminal_sim")
    unknown = set(options) - set(_SIM_OPTIONS)
    if unknown:
        raise pytest.UsageError(f"terminal_sim: unknown option(s) {', '.join(sorted(unknown))}")
    transport = options.get("transport") or ("pty" if os.name == "posix" else "tcp")
    if transport not in ("pty", "tcp"):
        raise pytest.UsageError(f"terminal_sim: transport is 'pty' or 'tcp', not {transport!r}")
    ledger_file = tmp_path / "terminal-books.sqlite"
    overrides: dict[str, Any] = {"ledger_file": ledger_file}
    if options.get("card"):
        overrides["default_card"] = options["card"]
    if options.get("delay") is not None:
        overrides["response_delay"] = float(options["delay"])
    settings = SimulatorSettings(**overrides)
    built: list[Any] = []

    def build() -> Any:
        built.append(SimulatedTerminal(settings))
        return built[-1]

    device: Any = build()
    events: list[Any] = []
    if options.get("scenario"):
        from simulator.faults import FaultInjector, load_scenario

        device = FaultInjector(device, load_scenario(options["scenario"]), restart=build)
        events = device.events
    server = PtySimulator(device) if transport == "pty" else TcpSimulator(device)
    try:
        with server:
            url = server.path if transport == "pty" else server.url
            yield RunningTerminal(url, device, ledger_file, transport, events)
    finally:
        for terminal in built:
            terminal.ledger.close()


@pytest.fixture
def virtual_printer(request: pytest.FixtureRequest) -> Iterator[RunningPrinter]:
    """A virtual ESC/POS printer on a TCP port (a 9100-style network printer) for this test."""
    from simulator.printer import VirtualPrinter
    from simulator.printer.factory import STATES
    from simulator.printer.serve import TcpPrinter

    options = _marker_options(request, "virtual_printer")
    state = options.get("state", "ready")
    if state not in STATES:
        raise pytest.UsageError(f"virtual_printer: state is one of {', '.join(STATES)}")
    printer = VirtualPrinter()
    printer.set_conditions(**STATES[state])
    if options.get("paper_lines") is not None:
        printer.load_paper(int(options["paper_lines"]))
    with TcpPrinter(printer) as server:
        address = server.url.removeprefix("tcp://")
        host, _, port = address.rpartition(":")
        yield RunningPrinter(server.url, host.strip("[]"), int(port), printer)


def _marker_options(request: pytest.FixtureRequest, name: str) -> dict[str, Any]:
    """The keyword options of the closest ``name`` marker, then of an indirect parameter."""
    options: dict[str, Any] = {}
    marker = request.node.get_closest_marker(name)
    if marker is not None:
        options.update(marker.kwargs)
    param = getattr(request, "param", None)
    if isinstance(param, dict):
        options.update(param)
    return options
