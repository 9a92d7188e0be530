"""What a receipt calls things: transaction types and entry modes, in Chinese and English.

Keyed by the transaction kind's name (``sale``, ``void``, ...), the values of
the catalogue's :class:`~terminal.protocol.catalogue.Kind`, so a new catalogue
row needs one row here and no code (a test holds the two tables together).
``signature`` says whether the merchant copy carries a cardholder signature
line (money leaves or returns to the card on the cardholder's word).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ENTRY_MODES", "KIND_NAMES", "KindName", "entry_mode_name", "kind_name"]


@dataclass(frozen=True, slots=True)
class KindName:
    """A transaction type as printed: ``消费 SALE``."""

    chinese: str
    english: str
    signature: bool = False

    @property
    def both(self) -> str:
        return f"{self.chinese} {self.english}"


KIND_NAMES: dict[str, KindName] = {
    "sale": KindName("消费", "SALE", signature=True),
    "void": KindName("消费撤销", "VOID", signature=True),
    "refund": KindName("退货", "REFUND", signature=True),
    "balance": KindName("余额查询", "BALANCE"),
    "preauth": KindName("预授权", "PRE-AUTH", signature=True),
    "preauth_cancel": KindName("预授权撤销", "PRE-AUTH CANCEL", signature=True),
    "preauth_complete": KindName("预授权完成", "AUTH COMPLETE", signature=True),
    "completion_void": KindName("预授权完成撤销", "COMPLETE VOID", signature=True),
    "reversal": KindName("冲正", "REVERSAL"),
    "settlement": KindName("结算", "SETTLEMENT"),
    "sign_on": KindName("签到", "SIGN-ON"),
    "sign_off": KindName("签退", "SIGN-OFF"),
    "echo": KindName("回响测试", "ECHO TEST"),
    "batch_upload": KindName("批上送", "BATCH UPLOAD"),
    "batch_upload_end": KindName("批上送结束", "BATCH UPLOAD END"),
}

# Field 22's first two digits (PAN entry mode).
ENTRY_MODES: dict[str, str] = {
    "01": "手输 MANUAL",
    "02": "刷卡 SWIPE",
    "05": "插卡 CHIP",
    "07": "挥卡 CONTACTLESS",
    "90": "刷卡 SWIPE",
    "91": "挥卡 CONTACTLESS",
    "95": "插卡 CHIP",
    "96": "刷卡 FALLBACK",
    "98": "挥卡 CONTACTLESS",
}


def kind_name(kind: str) -> KindName:
    """The printed name of ``kind``; an unknown kind is an error, not a blank on paper."""
    try:
        return KIND_NAMES[kind]
    except KeyError:
        raise KeyError(f"no receipt name for transaction kind {kind!r}") from None


def entry_mode_name(field_22: str | None) -> str:
    """``051`` -> ``插卡 CHIP``; empty when unknown (the row is then left off)."""
    if not field_22:
        return ""
    return ENTRY_MODES.get(field_22[:2], "")
