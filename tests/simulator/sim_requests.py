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


def transaction(
    kind: str,
    amount: int | None = None,
    *,
    trace: str = "000100",
    original: Message | None = None,
    batch: str = "000001",
    **changes: Any,
) -> Message:
    """A request of catalogue ``kind`` (``"void"``, ``"refund"``, ...) as the host builds it.

    ``original`` is the original's *response*: its 37, 38, batch (60.2), trace
    and date (13) go into 37, 38 and 61.
    """
    from terminal.protocol.catalogue import CATALOGUE, Kind

    row = CATALOGUE[Kind(kind)]
    fields: dict[int, Any] = {
        11: trace,
        60: {"message_type": row.message_type, "batch": batch, "network_code": row.network_code},
    }
    if row.processing_code is not None:
        fields[3] = row.processing_code
        fields[25] = row.condition_code
        fields[49] = "156"
    if amount is not None:
        fields[4] = f"{amount:012d}"
    if original is not None:
        fields[37] = original[37]
        if 38 in original:
            fields[38] = original[38]
        fields[61] = {
            "original_batch": original[60]["batch"],
            "original_trace": original[11],
            "original_date": original[13],
        }
    return _request(row.mti, fields, _numbered(changes))


def reversal(of: Message, **changes: Any) -> Message:
    """The 0400 reversing request ``of`` (same 3, 4, 11, 25, 60 as the original)."""
    fields = {n: of[n] for n in (3, 4, 11, 25, 49, 60, 61) if n in of}
    fields[39] = "98"
    return _request("0400", fields, _numbered(changes))
