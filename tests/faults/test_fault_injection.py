"""Each fault kind on the byte path between a real POS host and the simulated terminal.

Everything runs on a fake clock: a scenario with a 61-second late answer and
three-second power cuts finishes in milliseconds of real time.
"""

from __future__ import annotations

import time

import pytest
from fault_rig import rig

from simulator.faults import FaultKind, Point
from terminal.link import SendFailed
from terminal.transactions.errors import TransactionInDoubt


def _booked(r) -> list:
    return [e for e in r.terminal().ledger.entries() if e.approved]


def test_a_dropped_response_is_resent_by_the_terminal_and_the_sale_goes_through(tmp_path):
    with rig(tmp_path, {"kind": "drop", "point": "response", "exchange": 1}) as r:
        result = r.client.sale(1234)
        assert result.approved
        assert r.terminal().link.stats.resends == 1
        assert [(e.kind, e.point) for e in r.injector.events] == [
            (FaultKind.DROP, Point.RESPONSE)
        ]
        assert len(_booked(r)) == 1


def test_a_late_response_leaves_the_sale_in_doubt_in_fake_minutes_not_real_ones(tmp_path):
    started = time.monotonic()
    with rig(tmp_path, {"kind": "late_response"}) as r:
        t0 = r.clock.now()
        with pytest.raises(TransactionInDoubt):
            r.client.sale(500)
        assert r.clock.now() - t0 >= 60.0
        assert len(_booked(r)) == 1  # the acquirer booked it: the POS must reverse
    assert time.monotonic() - started < 5.0


def test_a_nak_storm_makes_the_send_fail_and_nothing_is_booked(tmp_path):
    with rig(tmp_path, {"kind": "nak_storm", "exchange": 1, "times": 3}) as r:
        with pytest.raises(TransactionInDoubt):
            r.client.sale(500)
        assert r.link.endpoint.seen == ("NAK", "NAK", "NAK")
        assert _booked(r) == []


def test_a_garbled_request_is_naked_and_resent(tmp_path):
    with rig(tmp_path, {"kind": "garble", "point": "request", "exchange": 1}) as r:
        assert r.client.sale(700).approved
        assert r.terminal().link.stats.naks_sent == 1
        assert r.link.endpoint.stats.resends == 1


def test_a_garbled_response_is_naked_by_the_pos_and_resent(tmp_path):
    with rig(tmp_path, {"kind": "garble", "point": "response", "exchange": 1}) as r:
        assert r.client.sale(700).approved
        assert r.link.endpoint.stats.naks_sent == 1
        assert r.terminal().link.stats.resends == 1


def test_lost_acks_are_made_good_by_the_response_itself(tmp_path):
    with rig(tmp_path, {"kind": "no_ack"}) as r:
        assert r.client.sale(700).approved
        assert r.link.endpoint.stats.implicit_acks == 1


def test_a_lost_pos_ack_makes_the_terminal_resend_and_the_pos_drops_the_copy(tmp_path):
    with rig(tmp_path, {"kind": "drop", "point": "pos_ack", "exchange": 1}) as r:
        assert r.client.sale(700).approved
        r.clock.advance(1.5)
        r.link.endpoint.feed(r.link.port.read(256))  # the terminal's resend arrives
        assert r.terminal().link.stats.resends == 1
        assert r.link.endpoint.stats.duplicates_dropped == 1


def test_a_duplicate_response_is_delivered_once(tmp_path):
    with rig(tmp_path, {"kind": "duplicate_response", "exchange": 1}) as r:
        assert r.client.sale(700).approved
        assert r.link.endpoint.stats.duplicates_dropped == 1


def test_a_response_for_another_trace_is_not_believed(tmp_path):
    with rig(tmp_path, {"kind": "other_trace", "exchange": 1}) as r:
        with pytest.raises(TransactionInDoubt):
            r.client.sale(700)
        assert len(_booked(r)) == 1


def test_a_delay_shorter_than_the_timeout_only_slows_the_answer(tmp_path):
    with rig(tmp_path, {"kind": "delay", "point": "response", "seconds": 30, "times": 1}) as r:
        t0 = r.clock.now()
        assert r.client.sale(700).approved
        assert r.clock.now() - t0 >= 1.0  # the resend after 1 s was the one that arrived


def test_a_disconnect_after_the_terminal_took_the_request_leaves_the_sale_in_doubt(tmp_path):
    with rig(tmp_path, {"kind": "disconnect", "point": "ack", "exchange": 1, "seconds": 90}) as r:
        with pytest.raises(TransactionInDoubt):
            r.client.sale(700)
        # The ACK was lost with the line, so were the POS's two resends.
        assert r.link.endpoint.seen == ("no answer", "no answer", "no answer")
        assert len(_booked(r)) == 1  # the terminal had taken and booked the request
        assert [e.kind for e in r.injector.events] == [FaultKind.DISCONNECT]


def test_a_power_cycle_mid_sale_restarts_from_the_persisted_books(tmp_path):
    with rig(tmp_path, {"kind": "power_cycle", "point": "response", "exchange": 1,
                        "seconds": 3}) as r:
        with pytest.raises(TransactionInDoubt):
            r.client.sale(1500)
        assert r.injector.restarts == 1
        # The restarted terminal reopened the SQLite books: the sale booked before the cut is there.
        books = [(e.amount, e.trace) for e in _booked(r)]
        assert books == [(1500, "000001")]
        assert r.client.sale(200).approved
        assert len(_booked(r)) == 2


def test_a_bad_mac_reaches_the_pos_as_a_changed_field_64(tmp_path):
    from terminal.protocol import decode

    with rig(tmp_path, {"kind": "bad_mac", "times": 0}) as r:
        r.link.send(_raw_sale(r))
        response = decode(r.link.receive())
    assert response[64] == b"\xa5" * 8  # no working keys, so the terminal sent no MAC at all


def test_paper_out_is_set_on_the_printer_as_the_response_goes_out(tmp_path):
    from simulator.printer import VirtualPrinter

    printer = VirtualPrinter()
    with rig(tmp_path, {"kind": "paper_out", "exchange": 1}, printer=printer) as r:
        assert r.client.sale(700).approved
    assert printer.conditions.paper_out


def test_a_send_that_fails_on_the_wire_is_reported_by_the_link(tmp_path):
    with rig(tmp_path, {"kind": "drop", "point": "request", "times": 0}) as r:
        with pytest.raises(SendFailed):
            r.link.send(_raw_sale(r))
        assert r.injector.exchange == 1  # resends of one request are one exchange


def _raw_sale(r) -> bytes:
    from terminal.protocol import Message, Tpdu, encode

    fields = {3: "000000", 4: "000000000100", 11: "000009", 22: "051", 25: "00",
              41: "10008060", 42: "898100000000001", 49: "156",
              60: {"message_type": "22", "batch": "000001", "network_code": "000"}}
    return encode(Message("0200", fields, Tpdu(0x60, 6, 0), "603200320002"))
