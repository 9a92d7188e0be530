"""The virtual CUP terminal: a stand-in for the card terminal and its acquirer.

POS developers and tests talk to it exactly as to a real terminal, over
``sim://``, a pty or TCP (:mod:`simulator.serve`). Layers, each usable alone:

- :class:`VirtualTerminal` — request :class:`~terminal.protocol.message.Message`
  in, response out, for every transaction of the protocol's catalogue; card
  profiles, issuer rules, the acquirer's rules (``simulator.acquirer``), batch,
  sign-on and working keys, the ledger;
- :class:`SimulatedTerminal` — the device: link + codec + virtual terminal,
  bytes in, bytes out, no I/O of its own;
- :func:`load_cards` / :class:`CardBook` — the test cards (``data/cards.toml``);
- :class:`Ledger` — the acquirer's books (SQLite), for its rules and reconciliation.
"""

from simulator.cards import CardBook, CardProfile, UnknownCardError, load_cards
from simulator.config import SimulatorSettings, load_settings
from simulator.device import SimulatedTerminal
from simulator.host import VirtualTerminal
from simulator.ledger import BatchTotals, Ledger, LedgerEntry

__all__ = [
    "BatchTotals",
    "CardBook",
    "CardProfile",
    "Ledger",
    "LedgerEntry",
    "SimulatedTerminal",
    "SimulatorSettings",
    "UnknownCardError",
    "VirtualTerminal",
    "load_cards",
    "load_settings",
]
