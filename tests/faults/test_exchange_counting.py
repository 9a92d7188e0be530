"""Which exchange a request frame belongs to: link resends within the duplicate window, or new.

The fault injector counts exchanges as the terminal's duplicate filter tells a
resend from a new message: identical DATA within ``ack_timeout × max_sends`` of
the last copy is the same exchange; after that window it is a new one (a POS
that restarted and sends the same refund, or the same reversal, again). So a
fault that strikes every frame of an exchange strikes its link resends and not
the recovery that follows minutes later. All on a fake clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fault_rig import rig, scenario

from simulator import SimulatedTerminal, SimulatorSettings
from simulator.faults import (
    FaultInjector,
    FaultKind,
    Point,
    Scenario,
    ScenarioError,
    parse_scenario,
)
from terminal.clock import FakeClock
from terminal.link import ACK, LinkTimers, encode_frame
from terminal.transactions.errors import TransactionInDoubt
from terminal.transactions.recovery import recover

#: Every request frame of the first exchange dropped (times 0: all its sends).
DROP_FIRST_EXCHANGE = {"kind": "drop", "point": "request", "exchange": 1, "times": 0}


@contextmanager
def _injector(tmp_path, loaded: Scenario, timers: LinkTimers | None = None,
              ) -> Iterator[tuple[FakeClock, FaultInjector]]:
    """A simulated terminal (its books in ``tmp_path``) behind ``loaded``'s faults, both on
    one fake clock; the books closed on leaving."""
    clock = FakeClock(1000.0)
    settings = SimulatorSettings(ledger_file=tmp_path / "books.sqlite",
                                 link=timers or LinkTimers())
    terminal = SimulatedTerminal(settings, clock=clock)
    try:
        yield clock, FaultInjector(terminal, loaded, clock=clock)
    finally:
        terminal.ledger.close()


def _request() -> bytes:
    from terminal.protocol import Message, Tpdu, encode

    fields = {3: "000000", 4: "000000000100", 11: "000009", 22: "051", 25: "00",
              41: "10008060", 42: "898100000000001", 49: "156",
              60: {"message_type": "22", "batch": "000001", "network_code": "000"}}
    return encode_frame(encode(Message("0200", fields, Tpdu(0x60, 6, 0), "603200320002")))


def _send(injector: FaultInjector, clock: FakeClock, frame: bytes) -> bytes:
    """The frame arrives now; what the terminal says back within a moment."""
    injector.feed(frame)
    injector.poll()
    out = injector.read_output()
    clock.advance(0.01)
    return out


def test_a_resend_inside_the_window_is_struck_and_one_after_it_is_a_new_exchange(tmp_path):
    frame = _request()
    with _injector(tmp_path, scenario(DROP_FIRST_EXCHANGE)) as (clock, injector):
        assert injector.duplicate_window == 3.0  # ack_timeout 1 s × 3 sends
        for _ in range(3):  # the POS's three sends, one ACK timeout apart: one exchange
            assert _send(injector, clock, frame) == b""
            clock.advance(1.0)
        assert [(e.exchange, e.point) for e in injector.events] == [(1, Point.REQUEST)] * 3
        clock.advance(3.0)  # the POS gave up; the same request again after the window
        assert _send(injector, clock, frame).startswith(bytes([ACK]))
        assert injector.exchange == 2
        assert len(injector.events) == 3  # the fault of exchange 1 did not strike it


def test_the_window_restarts_with_each_copy_as_the_terminals_duplicate_filter_does(tmp_path):
    frame = _request()
    with _injector(tmp_path, scenario(DROP_FIRST_EXCHANGE)) as (clock, injector):
        for _ in range(5):  # 2.5 s apart: each within 3 s of the one before
            _send(injector, clock, frame)
            clock.advance(2.5)
        assert injector.exchange == 1
        assert len(injector.events) == 5


def test_the_window_comes_from_the_terminals_link_timers(tmp_path):
    frame = _request()
    timers = LinkTimers(ack_timeout=2.0, max_sends=3)
    with _injector(tmp_path, scenario(DROP_FIRST_EXCHANGE), timers) as (clock, injector):
        assert injector.duplicate_window == 6.0
        _send(injector, clock, frame)
        clock.advance(5.0)  # a resend after the default window, inside this terminal's
        assert _send(injector, clock, frame) == b""
        assert injector.exchange == 1


def test_a_scenario_may_set_its_own_window(tmp_path):
    frame = _request()
    loaded = parse_scenario({"version": 1, "duplicate_window": 0.5,
                             "faults": [DROP_FIRST_EXCHANGE]})
    with _injector(tmp_path, loaded) as (clock, injector):
        assert injector.duplicate_window == 0.5
        _send(injector, clock, frame)
        clock.advance(1.0)  # the POS's first resend, already outside a half-second window
        assert _send(injector, clock, frame).startswith(bytes([ACK]))
        assert injector.exchange == 2


@pytest.mark.parametrize("window", [0, -1, "3", True])
def test_a_window_that_is_not_a_positive_number_is_refused_at_load(window):
    with pytest.raises(ScenarioError, match="'duplicate_window' must be a number of seconds"):
        parse_scenario({"version": 1, "duplicate_window": window, "faults": []}, source="s.toml")


def test_a_late_refund_is_late_in_all_its_sends_and_its_recovery_resend_is_answered(tmp_path):
    # Every response of the refund's exchange comes after the POS's timeout (times = 0):
    # the terminal's three sends of it. The POS's recovery sends the same refund again,
    # same bytes, after the window: a new exchange the fault does not touch.
    with rig(tmp_path, {"kind": "late_response", "exchange": 2}) as r:
        sale = r.client.sale(1500)
        with pytest.raises(TransactionInDoubt):
            r.client.refund(500, rrn=sale.rrn)
        late = [(e.kind, e.exchange) for e in r.injector.events]
        assert late == [(FaultKind.LATE_RESPONSE, 2)] * 3
        r.clock.advance(30.0)
        outcomes = recover(r.client, on_demand=True)
        assert [(o.action, o.outcome, o.response_code) for o in outcomes] == [
            ("resend", "answered", "00")]
        assert r.injector.exchange == 3
        assert len(r.injector.events) == 3
        refunds = [e for e in r.terminal().ledger.entries() if e.approved and e.amount == 500]
        assert len(refunds) == 1  # answered from the books, not refunded twice
