"""The CUP POS transaction catalogue: one table that the host and the simulator both read.

Each :class:`TransactionType` row says how a transaction is spelled on the wire
(MTI, processing code 3, condition code 25, 60.1 message type, 60.3 network
code), what it does to money, whether it can be reversed, which originals it
may refer to, which fields a request and a response carry and which response
fields must echo the request. The host builds requests from a row and checks
responses against it; the simulator identifies requests by the same row
(:func:`identify`). A new transaction type is a row here plus, at most, a small
rule on each side. Source: ``shared/reference/cup-pos.md``; the choices where
that text is silent are written down in ``docs/protocol.md``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from terminal.protocol.message import Message

__all__ = [
    "CATALOGUE",
    "FINANCIAL_MTIS",
    "Effect",
    "Kind",
    "NetworkCode",
    "TransactionType",
    "identify",
    "response_mti",
    "reversed_type",
]


class Kind(enum.StrEnum):
    """Every transaction the project knows; the value is the CLI/JSON name."""

    SALE = "sale"
    VOID = "void"
    REFUND = "refund"
    BALANCE = "balance"
    PREAUTH = "preauth"
    PREAUTH_CANCEL = "preauth_cancel"
    COMPLETION = "preauth_complete"
    COMPLETION_VOID = "completion_void"
    SIGN_ON = "sign_on"
    SIGN_OFF = "sign_off"
    ECHO = "echo"
    REVERSAL = "reversal"
    SETTLEMENT = "settlement"
    BATCH_UPLOAD = "batch_upload"
    BATCH_UPLOAD_END = "batch_upload_end"

    @property
    def label(self) -> str:
        """The transaction's Chinese name on a receipt or screen."""
        return CATALOGUE[self].label


class Effect(enum.StrEnum):
    """What an approved transaction of this type does to the cardholder's money."""

    NONE = "none"  # balance inquiry, network and settlement messages
    DEBIT = "debit"  # sale, pre-auth completion: money moves to the merchant
    CREDIT = "credit"  # refund: money goes back to the card
    HOLD = "hold"  # pre-authorization: funds held, not yet moved
    RELEASE = "release"  # pre-auth cancel: the hold is lifted
    CANCEL = "cancel"  # void, completion void: the original never happened


class NetworkCode(enum.StrEnum):
    """60.3 values (``docs/protocol.md`` names the choices)."""

    NONE = "000"
    SIGN_ON_SINGLE = "001"  # sign-on, single-length (DES) working keys
    SIGN_OFF = "002"
    SIGN_ON = "003"  # sign-on, double-length (triple-DES) working keys
    SETTLEMENT = "201"
    BATCH_UPLOAD = "201"  # 0320 detail record (with 0320, 201 is the upload)
    BATCH_UPLOAD_END = "207"  # 0320 end of batch upload after "not balanced"
    ECHO = "301"


# Fields every request carries: trace, terminal, merchant, 60.
_ENVELOPE = frozenset({11, 41, 42, 60})


@dataclass(frozen=True)
class TransactionType:
    """One row of the catalogue."""

    kind: Kind
    label: str  # the Chinese name on a receipt or screen
    mti: str
    message_type: str  # 60.1
    network_code: str = NetworkCode.NONE  # 60.3
    processing_code: str | None = None  # field 3
    condition_code: str | None = None  # field 25
    effect: Effect = Effect.NONE
    reversible: bool = False
    originals: tuple[Kind, ...] = ()  # the kinds this one may refer to in 37/38/61
    request_fields: frozenset[int] = _ENVELOPE
    response_fields: frozenset[int] = frozenset({11, 12, 13, 39, 41, 42})
    echoed: tuple[int, ...] = (11, 41, 42)
    mac: bool = False  # field 64 on request and response
    reads_card: bool = False  # the terminal reads a card for it
    alternate_network_codes: tuple[str, ...] = ()  # other 60.3 values meaning the same

    @property
    def has_amount(self) -> bool:
        return 4 in self.request_fields

    @property
    def needs_original(self) -> bool:
        return bool(self.originals)

    @property
    def moves_money(self) -> bool:
        """Whether an approval changes what the card or the merchant holds."""
        return self.effect is not Effect.NONE

    @property
    def response_mti(self) -> str:
        return response_mti(self.mti)


_FIN_REQUEST = frozenset({3, 11, 25, 41, 42, 49, 60, 64})
_FIN_RESPONSE = frozenset({2, 3, 11, 12, 13, 14, 15, 25, 32, 37, 39, 41, 42, 49, 60, 63, 64})
_AMOUNT = frozenset({4})
_ORIGINAL = frozenset({37, 38, 61})
_FIN_ECHO = (3, 4, 11, 25, 41, 42)

_ROWS = (
    TransactionType(
        Kind.BALANCE, "余额查询", "0200", "01", processing_code="310000", condition_code="00",
        request_fields=_FIN_REQUEST, response_fields=_FIN_RESPONSE | {54},
        echoed=(3, 11, 25, 41, 42), mac=True, reads_card=True,
    ),
    TransactionType(
        Kind.PREAUTH, "预授权", "0100", "10", processing_code="030000", condition_code="06",
        effect=Effect.HOLD, reversible=True, request_fields=_FIN_REQUEST | _AMOUNT,
        response_fields=_FIN_RESPONSE | {4, 38}, echoed=_FIN_ECHO, mac=True, reads_card=True,
    ),
    TransactionType(
        Kind.PREAUTH_CANCEL, "预授权撤销", "0100", "11", processing_code="200000",
        condition_code="06", effect=Effect.RELEASE, reversible=True, originals=(Kind.PREAUTH,),
        request_fields=_FIN_REQUEST | _AMOUNT | _ORIGINAL, response_fields=_FIN_RESPONSE | {4},
        echoed=_FIN_ECHO, mac=True, reads_card=True,
    ),
    TransactionType(
        Kind.COMPLETION, "预授权完成", "0200", "20", processing_code="000000", condition_code="06",
        effect=Effect.DEBIT, reversible=True, originals=(Kind.PREAUTH,),
        request_fields=_FIN_REQUEST | _AMOUNT | _ORIGINAL,
        response_fields=_FIN_RESPONSE | {4, 38}, echoed=_FIN_ECHO, mac=True, reads_card=True,
    ),
    TransactionType(
        Kind.COMPLETION_VOID, "预授权完成撤销", "0200", "21", processing_code="200000",
        condition_code="06", effect=Effect.CANCEL, reversible=True, originals=(Kind.COMPLETION,),
        request_fields=_FIN_REQUEST | _AMOUNT | _ORIGINAL,
        response_fields=_FIN_RESPONSE | {4, 38}, echoed=_FIN_ECHO, mac=True, reads_card=True,
    ),
    TransactionType(
        Kind.SALE, "消费", "0200", "22", processing_code="000000", condition_code="00",
        effect=Effect.DEBIT, reversible=True, request_fields=_FIN_REQUEST | _AMOUNT,
        response_fields=_FIN_RESPONSE | {4, 38}, echoed=_FIN_ECHO, mac=True, reads_card=True,
    ),
    TransactionType(
        Kind.VOID, "消费撤销", "0200", "23", processing_code="200000", condition_code="00",
        effect=Effect.CANCEL, reversible=True, originals=(Kind.SALE,),
        request_fields=_FIN_REQUEST | _AMOUNT | _ORIGINAL,
        response_fields=_FIN_RESPONSE | {4, 38}, echoed=_FIN_ECHO, mac=True, reads_card=True,
    ),
    TransactionType(
        Kind.REFUND, "退货", "0220", "25", processing_code="200000", condition_code="00",
        effect=Effect.CREDIT, reversible=False, originals=(Kind.SALE, Kind.COMPLETION),
        request_fields=_FIN_REQUEST | _AMOUNT | _ORIGINAL,
        response_fields=_FIN_RESPONSE | {4}, echoed=_FIN_ECHO, mac=True, reads_card=True,
    ),
    TransactionType(
        Kind.REVERSAL, "冲正", "0400", "", request_fields=_FIN_REQUEST | _AMOUNT | {39},
        response_fields=_FIN_RESPONSE | {4}, echoed=_FIN_ECHO, mac=True,
    ),
    TransactionType(
        Kind.SIGN_ON, "签到", "0800", "00", NetworkCode.SIGN_ON,
        response_fields=frozenset({11, 12, 13, 32, 37, 39, 41, 42, 60, 62}),
        alternate_network_codes=(NetworkCode.SIGN_ON_SINGLE,),
    ),
    TransactionType(Kind.SIGN_OFF, "签退", "0820", "00", NetworkCode.SIGN_OFF),
    TransactionType(Kind.ECHO, "回响测试", "0820", "00", NetworkCode.ECHO),
    TransactionType(
        Kind.SETTLEMENT, "结算", "0500", "00", NetworkCode.SETTLEMENT,
        request_fields=_ENVELOPE | {15, 48, 49}, response_fields=frozenset(
            {11, 12, 13, 15, 32, 37, 39, 41, 42, 48, 49, 60}
        ),
    ),
    TransactionType(
        Kind.BATCH_UPLOAD, "批上送", "0320", "00", NetworkCode.BATCH_UPLOAD,
        request_fields=_ENVELOPE | {2, 3, 4, 37, 38, 48, 61},
    ),
    TransactionType(
        Kind.BATCH_UPLOAD_END, "批上送结束", "0320", "00", NetworkCode.BATCH_UPLOAD_END,
        request_fields=_ENVELOPE | {48},
    ),
)

#: Kind -> row, in the order above.
CATALOGUE: Mapping[Kind, TransactionType] = MappingProxyType({row.kind: row for row in _ROWS})

#: The request MTIs of money messages: these carry a MAC in field 64.
FINANCIAL_MTIS = frozenset({"0100", "0200", "0220", "0400"})

_BY_CODES: dict[tuple[str | None, str | None, str], TransactionType] = {
    (row.processing_code, row.condition_code, row.message_type): row
    for row in _ROWS
    if row.processing_code is not None
}
_BY_NETWORK: dict[tuple[str, str], TransactionType] = {}
for _row in _ROWS:
    if _row.processing_code is None and _row.kind is not Kind.REVERSAL:
        for _code in (_row.network_code, *_row.alternate_network_codes):
            _BY_NETWORK[(_row.mti, _code)] = _row
# Network management (sign-on, sign-off, echo) is told apart by 60.3 alone: a
# terminal accepts each as 0800 or 0820, as peers differ in which they send.
_NETWORK_MTIS = ("0800", "0820")
_BY_NETWORK_CODE = {
    code: row
    for (mti, code), row in _BY_NETWORK.items()
    if mti in _NETWORK_MTIS
}


def _check_table() -> None:
    """Two rows spelled the same on the wire would make identify() ambiguous."""
    financial = [row for row in _ROWS if row.processing_code is not None]
    if len(_BY_CODES) != len(financial):
        raise AssertionError("two catalogue rows share 3/25/60.1")


_check_table()


def identify(message: Message) -> TransactionType | None:
    """The catalogue row ``message`` (a request) is, or ``None`` if it is none of them.

    A reversal (0400) is identified as :attr:`Kind.REVERSAL`; what it reverses
    is :func:`reversed_type` of it.
    """
    sub60 = message.get(60)
    if not isinstance(sub60, Mapping):
        return None
    if message.mti == "0400":
        return CATALOGUE[Kind.REVERSAL]
    if message.mti in FINANCIAL_MTIS:
        row = _BY_CODES.get((message.get(3), message.get(25), sub60.get("message_type")))
        return row if row is not None and row.mti == message.mti else None
    code = str(sub60.get("network_code"))
    if message.mti in _NETWORK_MTIS:
        return _BY_NETWORK_CODE.get(code)
    return _BY_NETWORK.get((message.mti, code))


def reversed_type(message: Message) -> TransactionType | None:
    """For a 0400, the reversible row it reverses (by 3, 25 and 60.1, as the original had)."""
    sub60: Any = message.get(60)
    if message.mti != "0400" or not isinstance(sub60, Mapping):
        return None
    row = _BY_CODES.get((message.get(3), message.get(25), sub60.get("message_type")))
    return row if row is not None and row.reversible else None


def response_mti(mti: str) -> str:
    """0200 -> 0210, 0820 -> 0830; a response MTI stays as it is."""
    function = int(mti[2])
    return mti if function % 2 else f"{mti[:2]}{function + 1}{mti[3]}"
