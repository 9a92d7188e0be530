"""Requests as a POS host builds them, for the simulator's tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from terminal.protocol.message import Message, Tpdu

NOW = datetime(2025, 3, 14, 10, 30, 15)
TPDU = Tpdu(0x60, 0x0006, 0x0000)
HEADER = "603200320002"
TERMINAL_ID = "10008060"
MERCHANT_ID = "898100000000001"


def _request(mti: str, fields: dict[int, Any], changes: dict[int, Any]) -> Message:
    base = {41: TERMINAL_ID, 42: MERCHANT_ID, **fields}
    return Message(mti, base, TPDU, HEADER).with_fields(changes)


def sale(amount: int = 1234, trace: str | None = "000052", **changes: Any) -> Message:
    """A 0200 sale for ``amount`` fen; ``f<number>=value`` changes a field (None drops it)."""
    fields = {
        3: "000000",
        4: f"{amount:012d}",
        22: "051",
        25: "00",
        49: "156",
        60: {"message_type": "22", "batch": "000001", "network_code": "000"},
    }
    if trace is not None:
        fields[11] = trace
    return _request("0200", fields, _numbered(changes))


def balance_inquiry(trace: str | None = "000060", **changes: Any) -> Message:
    fields = {
        3: "310000",
        22: "051",
        25: "00",
        49: "156",
        60: {"message_type": "01", "batch": "000001", "network_code": "000"},
    }
    if trace is not None:
        fields[11] = trace
    return _request("0200", fields, _numbered(changes))


def network(code: str, mti: str = "0800", **changes: Any) -> Message:
    """Sign-on (001), sign-off (002) or echo (301)."""
    fields = {11: "000001", 60: {"message_type": "00", "batch": "000001", "network_code": code}}
    return _request(mti, fields, _numbered(changes))


def _numbered(changes: dict[str, Any]) -> dict[int, Any]:
    return {int(name.removeprefix("f")): value for name, value in changes.items()}
