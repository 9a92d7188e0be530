"""Field 39 response codes: meaning, operator texts and what the host does next.

Protocol data read by both ends of the wire: the POS host describes the code it
received, the simulator answers with the named constants (:class:`Rc`). The
table follows ``shared/reference/cup-pos.md``; a code not in it is still
reported ("unknown response code"), never hidden, and its action is to decline.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["APPROVED", "Action", "Rc", "ResponseCode", "describe"]


class Rc(enum.StrEnum):
    """The response codes this project gives or recognises by name."""

    APPROVED = "00"
    REFER_TO_ISSUER = "01"
    INVALID_MERCHANT = "03"
    PICK_UP = "04"
    DO_NOT_HONOUR = "05"
    INVALID_TRANSACTION = "12"
    INVALID_AMOUNT = "13"
    INVALID_CARD = "14"
    OPERATION_ERROR = "22"
    ORIGINAL_NOT_FOUND = "25"
    FORMAT_ERROR = "30"
    EXPIRED_CARD_33 = "33"
    NOT_SUPPORTED = "40"
    LOST_CARD = "41"
    STOLEN_CARD = "43"
    INSUFFICIENT_FUNDS = "51"
    EXPIRED_CARD = "54"
    INCORRECT_PIN = "55"
    NOT_PERMITTED_CARDHOLDER = "57"
    NOT_PERMITTED_TERMINAL = "58"
    EXCEEDS_LIMIT = "61"
    ORIGINAL_AMOUNT_INCORRECT = "64"
    PIN_TRIES_EXCEEDED = "75"
    CUT_OFF = "90"
    DUPLICATE = "94"
    SYSTEM_MALFUNCTION = "96"
    NOT_REGISTERED = "97"
    ISSUER_TIMEOUT = "98"
    MAC_ERROR = "A0"


APPROVED = Rc.APPROVED.value


class Action(enum.StrEnum):
    """What the host does after a response with this code."""

    DONE = "done"  # approved: print the receipt
    DECLINE = "decline"  # tell the cashier; nothing moved
    RETRY = "retry"  # a passing fault at the acquirer: the same request may be tried later
    SIGN_ON = "sign_on"  # keys or session are stale: sign on again before the next request
    REVERSE = "reverse"  # the acquirer may have booked it: reverse a reversible transaction


@dataclass(frozen=True, slots=True)
class ResponseCode:
    """One field 39 value as the host explains it."""

    code: str
    meaning: str  # English, for logs and the JSON result
    operator_message: str  # Chinese, for the cashier's screen and the receipt
    action: Action

    @property
    def approved(self) -> bool:
        return self.code == APPROVED

    @property
    def english(self) -> str:
        """The English operator text (the meaning, capitalised)."""
        return self.meaning[:1].upper() + self.meaning[1:]


_D, _R, _S, _V = Action.DECLINE, Action.RETRY, Action.SIGN_ON, Action.REVERSE

_TABLE: dict[str, tuple[str, str, Action]] = {
    Rc.APPROVED: ("approved", "交易成功", Action.DONE),
    Rc.REFER_TO_ISSUER: ("refer to card issuer", "请持卡人与发卡银行联系", _D),
    Rc.INVALID_MERCHANT: ("invalid merchant", "无效商户", _D),
    Rc.PICK_UP: ("pick up card", "没收卡", _D),
    Rc.DO_NOT_HONOUR: ("do not honour", "持卡人认证失败", _D),
    Rc.INVALID_TRANSACTION: ("invalid transaction", "无效交易", _D),
    Rc.INVALID_AMOUNT: ("invalid amount", "无效金额", _D),
    Rc.INVALID_CARD: ("invalid card number", "无效卡号", _D),
    Rc.OPERATION_ERROR: ("suspected malfunction / operation error", "操作有误，请重试", _R),
    Rc.ORIGINAL_NOT_FOUND: ("original transaction not found", "找不到原始交易", _D),
    Rc.FORMAT_ERROR: ("format error", "报文格式错误", _D),
    Rc.EXPIRED_CARD_33: ("expired card", "过期的卡", _D),
    Rc.NOT_SUPPORTED: ("function not supported", "请求的功能尚不支持", _D),
    Rc.LOST_CARD: ("lost card", "挂失卡", _D),
    Rc.STOLEN_CARD: ("stolen card", "被窃卡", _D),
    Rc.INSUFFICIENT_FUNDS: ("insufficient funds", "余额不足", _D),
    Rc.EXPIRED_CARD: ("expired card", "过期的卡", _D),
    Rc.INCORRECT_PIN: ("incorrect PIN", "密码错", _D),
    Rc.NOT_PERMITTED_CARDHOLDER: (
        "transaction not permitted to cardholder", "不允许持卡人进行的交易", _D,
    ),
    Rc.NOT_PERMITTED_TERMINAL: (
        "transaction not permitted to terminal", "不允许终端进行的交易", _D,
    ),
    Rc.EXCEEDS_LIMIT: ("exceeds amount limit", "超出金额限制", _D),
    Rc.ORIGINAL_AMOUNT_INCORRECT: ("original amount incorrect", "原始金额不正确", _D),
    Rc.PIN_TRIES_EXCEEDED: ("PIN tries exceeded", "密码错误次数超限", _D),
    Rc.CUT_OFF: ("cut-off in progress", "日切处理中，请稍后", _R),
    Rc.DUPLICATE: ("duplicate transmission", "重复交易", _D),
    Rc.SYSTEM_MALFUNCTION: ("system malfunction", "系统故障", _R),
    Rc.NOT_REGISTERED: ("terminal not registered", "终端未登记", _D),
    Rc.ISSUER_TIMEOUT: ("issuer timeout", "发卡方超时", _V),
    Rc.MAC_ERROR: ("MAC error", "校验错，请重新签到", _S),
}


def describe(code: str) -> ResponseCode:
    """The meaning, operator text and next action of ``code``; unknown codes are named."""
    found = _TABLE.get(code)
    if found is None:
        return ResponseCode(code, "unknown response code", f"未知应答码 {code}", Action.DECLINE)
    meaning, message, action = found
    return ResponseCode(code, meaning, message, action)
