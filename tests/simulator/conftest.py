"""The virtual terminal the simulator's tests talk to, with the shipped card profiles."""

from __future__ import annotations

import pytest

from simulator import Ledger, SimulatorSettings, VirtualTerminal, load_cards


@pytest.fixture
def cards():
    return load_cards()


@pytest.fixture
def terminal(cards):
    """Default settings, the books in memory: each test starts with none booked."""
    return VirtualTerminal(SimulatorSettings(), cards=cards, ledger=Ledger())
