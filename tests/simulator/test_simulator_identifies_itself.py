"""Every answer of the simulator carries its mark (field 59), whatever the answer: approvals,
declines, refusals, network management, settlement, a request it could not even decode."""

from __future__ import annotations

import pytest
from sim_requests import NOW, network, reversal, sale, transaction

from simulator import Ledger, SimulatedTerminal, SimulatorSettings, VirtualTerminal
from terminal.link import encode_frame
from terminal.link.frame import decode_frame
from terminal.protocol import decode, encode
from terminal.protocol.identity import identifies_simulator
from terminal.protocol.security import sign


@pytest.fixture
def terminal():
    return VirtualTerminal(SimulatorSettings(), ledger=Ledger())


def test_an_approved_sale_and_its_void_and_reversal_carry_the_mark(terminal):
    approved = terminal.handle(sale(1234), NOW)
    void = terminal.handle(transaction("void", 1234, trace="000053", original=approved), NOW)
    reversed_ = terminal.handle(reversal(sale(500, trace="000054")), NOW)
    assert [r[39] for r in (approved, void)] == ["00", "00"]
    assert reversed_[39] == "25"  # never booked: a refusal, marked all the same
    assert all(identifies_simulator(r) for r in (approved, void, reversed_))


def test_a_declined_sale_carries_the_mark(terminal):
    terminal.present_card("expired")
    declined = terminal.handle(sale(1234), NOW)
    assert declined[39] == "54" and identifies_simulator(declined)


def test_a_refusal_for_another_terminal_id_carries_the_mark(terminal):
    refused = terminal.handle(sale(f41="99999999"), NOW)
    assert refused[39] == "97" and identifies_simulator(refused)


@pytest.mark.parametrize("code", ["001", "002", "301"], ids=["sign-on", "sign-off", "echo"])
def test_network_management_answers_carry_the_mark(terminal, code):
    answer = terminal.handle(network(code), NOW)
    assert answer[39] == "00" and identifies_simulator(answer)


def test_a_settlement_answer_carries_the_mark(terminal):
    totals = "000000000000000" "000000000000000" "0" + "0" * 31
    answer = terminal.handle(transaction("settlement", f15="0314", f48=totals), NOW)
    assert answer[39] == "00" and identifies_simulator(answer)


def test_the_mark_goes_on_the_wire_and_under_the_mac(tmp_path):
    device = SimulatedTerminal(SimulatorSettings(ledger_file=tmp_path / "books.sqlite3"))
    device.feed(encode_frame(encode(network("003"), "cup")))
    device.feed(b"\x06")
    signed_on = _last_response(device)
    assert identifies_simulator(signed_on)
    keys = device.terminal.working_keys
    request, _ = sign(sale(800, trace="000070"), keys.mac_key, "cup-ecb", "cup")
    device.feed(encode_frame(encode(request, "cup")))
    answer = _last_response(device)
    assert answer[39] == "00" and 64 in answer and identifies_simulator(answer)


def test_a_request_that_does_not_decode_is_answered_30_with_the_mark(tmp_path):
    device = SimulatedTerminal(SimulatorSettings(ledger_file=tmp_path / "books.sqlite3"))
    wire = bytearray(encode(sale(1234), "cup"))
    device.feed(encode_frame(bytes(wire[:-3])))  # cut inside field 60
    answer = _last_response(device)
    assert answer[39] == "30" and identifies_simulator(answer)


def _last_response(device: SimulatedTerminal):
    out = device.read_output()  # the ACK of the request, then the response frame
    assert out[:1] == b"\x06", out[:1]
    return decode(decode_frame(out[1:]), "cup")
