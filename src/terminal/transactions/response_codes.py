"""Field 39 response codes: what each means and what the operator is told.

The table is data from the CUP POS conventions (``shared/reference/cup-pos.md``);
a code not in it is still reported, as "unknown response code", never hidden.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["APPROVED", "ResponseCode", "describe"]

APPROVED = "00"


@dataclass(frozen=True, slots=True)
class ResponseCode:
    code: str
    meaning: str
    operator_message: str

    @property
    def approved(self) -> bool:
        return self.code == APPROVED


_TABLE: dict[str, tuple[str, str]] = {
    "00": ("approved", "交易成功"),
    "01": ("refer to card issuer", "请持卡人与发卡银行联系"),
    "03": ("invalid merchant", "无效商户"),
    "04": ("pick up card", "没收卡"),
    "05": ("do not honour", "持卡人认证失败"),
    "12": ("invalid transaction", "无效交易"),
    "13": ("invalid amount", "无效金额"),
    "14": ("invalid card number", "无效卡号"),
    "22": ("suspected malfunction / operation error", "操作有误，请重试"),
    "25": ("original transaction not found", "找不到原始交易"),
    "30": ("format error", "报文格式错误"),
    "33": ("expired card", "过期的卡"),
    "40": ("function not supported", "请求的功能尚不支持"),
    "41": ("lost card", "挂失卡"),
    "43": ("stolen card", "被窃卡"),
    "51": ("insufficient funds", "余额不足"),
    "54": ("expired card", "过期的卡"),
    "55": ("incorrect PIN", "密码错"),
    "57": ("transaction not permitted to cardholder", "不允许持卡人进行的交易"),
    "58": ("transaction not permitted to terminal", "不允许终端进行的交易"),
    "61": ("exceeds amount limit", "超出金额限制"),
    "64": ("original amount incorrect", "原始金额不正确"),
    "75": ("PIN tries exceeded", "密码错误次数超限"),
    "90": ("cut-off in progress", "日切处理中，请稍后"),
    "94": ("duplicate transmission", "重复交易"),
    "96": ("system malfunction", "系统故障"),
    "97": ("terminal not registered", "终端未登记"),
    "98": ("issuer timeout", "发卡方超时"),
    "A0": ("MAC error", "校验错，请重新签到"),
}


def describe(code: str) -> ResponseCode:
    """The meaning and operator message of ``code``; unknown codes are named as such."""
    meaning, message = _TABLE.get(code, ("unknown response code", f"未知应答码 {code}"))
    return ResponseCode(code, meaning, message)
