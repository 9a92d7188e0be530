"""The CUP requests the transport tests send, built with the real ``cup`` codec."""

from __future__ import annotations

from typing import Any

from terminal.config import TerminalSettings
from terminal.link import SerialLink
from terminal.protocol import Message, Tpdu, decode, encode

SETTINGS = TerminalSettings()
#: Seconds a test waits for a response before the link gives up.
RESPONSE_TIMEOUT = 5.0


def _request(mti: str, fields: dict[int, Any]) -> bytes:
    message = Message(mti, fields, tpdu=Tpdu.fromhex(SETTINGS.tpdu), header=SETTINGS.header)
    return encode(message, "cup")


def echo_request() -> bytes:
    """0820 echo test, 60 = message type 00, batch 000001, network code 301."""
    return _request(
        "0820", {60: {"message_type": "00", "batch": "000001", "network_code": "301"}}
    )


def sale_request(trace: str = "000001") -> bytes:
    """0200 sale of 12.34 yuan (1234 fen) in CNY."""
    return _request(
        "0200",
        {
            3: "000000",
            4: "000000001234",
            11: trace,
            25: "00",
            41: SETTINGS.terminal_id,
            42: SETTINGS.merchant_id,
            49: "156",
            60: {"message_type": "22", "batch": "000001"},
        },
    )


def exchange(port: Any, request: bytes, timeout: float = RESPONSE_TIMEOUT) -> Message:
    """Send ``request`` over ``port`` with the real link and decode the response."""
    return decode(SerialLink(port).exchange(request, timeout), "cup")
