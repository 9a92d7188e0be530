"""The plugin's fixtures, used here exactly as a POS project uses them (the plugin is installed)."""

from __future__ import annotations

import pytest
import serial

from terminal.errors import LinkTimeout
from terminal.link import SerialLink
from terminal.protocol import Message, Tpdu, decode, encode


def _sale(trace: str = "000001", amount: int = 1234) -> bytes:
    fields = {3: "000000", 4: f"{amount:012d}", 11: trace, 22: "051", 25: "00",
              41: "10008060", 42: "898100000000001", 49: "156",
              60: {"message_type": "22", "batch": "000001", "network_code": "000"}}
    return encode(Message("0200", fields, Tpdu(0x60, 6, 0), "603200320002"))


def _exchange(url: str, request: bytes) -> Message:
    with serial.serial_for_url(url, timeout=0.05) as port:
        return decode(SerialLink(port).exchange(request, 10.0))


def test_terminal_sim_serves_a_terminal_on_a_pty_whose_books_the_test_can_read(terminal_sim):
    assert terminal_sim.url.startswith("/dev/") and terminal_sim.transport == "pty"
    assert _exchange(terminal_sim.url, _sale())[39] == "00"
    assert terminal_sim.approved_amounts() == [1234]


@pytest.mark.terminal_sim(card="expired", transport="tcp")
def test_the_marker_chooses_the_card_and_the_transport(terminal_sim):
    assert terminal_sim.url.startswith("socket://")
    assert _exchange(terminal_sim.url, _sale())[39] == "54"


def test_a_card_presented_mid_test_is_the_one_read(terminal_sim):
    terminal_sim.present_card("expired")
    assert _exchange(terminal_sim.url, _sale())[39] == "54"


@pytest.mark.terminal_sim(scenario="duplicate-response")
def test_the_marker_puts_a_fault_scenario_between_the_pos_and_the_terminal(terminal_sim):
    with serial.serial_for_url(terminal_sim.url, timeout=0.05) as port:
        link = SerialLink(port)
        assert decode(link.exchange(_sale(), 10.0))[39] == "00"
        with pytest.raises(LinkTimeout):
            link.receive(0.3)  # the copy is ACKed but never delivered
        assert link.endpoint.stats.duplicates_dropped == 1
    assert [e.kind.value for e in terminal_sim.events] == ["duplicate_response"]


@pytest.mark.virtual_printer(state="paper-out")
def test_virtual_printer_starts_in_the_state_the_marker_names(virtual_printer):
    assert virtual_printer.url.startswith("tcp://")
    assert virtual_printer.printer.conditions.paper_out


def test_virtual_printer_shows_what_a_pos_printed_over_tcp(virtual_printer):
    from escpos.printer import Network

    printer = Network(virtual_printer.host, port=virtual_printer.port, timeout=5)
    printer.text("TOTAL 12.34\n")
    printer.cut()
    printer.close()
    virtual_printer.wait_for_slips(1)
    assert "TOTAL 12.34" in virtual_printer.text()
