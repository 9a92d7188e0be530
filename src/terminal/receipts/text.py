"""A sale slip (签购单) as plain text lines, the layout a CUP POS prints.

Width is counted in display columns (a CJK character takes two), since the
same lines go to a 58 mm printer of 32 columns. Only the masked card number
ever reaches a receipt.
"""

from __future__ import annotations

import unicodedata

from terminal.transactions.amount import format_fen
from terminal.transactions.result import TransactionResult

__all__ = ["CUSTOMER_COPY", "MERCHANT_COPY", "SIMULATOR_MARK", "render_text_receipt"]

MERCHANT_COPY = "商户存根"
#: Heads a slip printed from the simulator, so that nobody files it as a payment.
SIMULATOR_MARK = "*** 模拟 SIMULATOR ***"
CUSTOMER_COPY = "持卡人存根"
WIDTH = 32


def render_text_receipt(
    result: TransactionResult,
    *,
    merchant_name: str,
    copy: str = MERCHANT_COPY,
    width: int = WIDTH,
    simulated: bool = False,
) -> str:
    """The slip for ``result``, ``width`` columns wide, ending in a newline.

    ``simulated`` (the exchange was with the simulator) puts
    :data:`SIMULATOR_MARK` first, so the slip cannot pass for a real payment.
    """
    rule = "-" * width
    lines = [_centre(SIMULATOR_MARK, width)] if simulated else []
    lines += [
        _centre("银联POS签购单", width),
        _centre(copy, width),
        rule,
        _pair("商户名称", merchant_name, width),
        _pair("商户编号", result.merchant_id, width),
        _pair("终端编号", result.terminal_id, width),
        rule,
        _pair("卡号", result.card.masked if result.card else "-", width),
        _pair("卡组织", result.card_organisation or "-", width),
        _pair("交易类型", f"{result.kind.label}/{result.kind.name}", width),
        _pair("批次号", result.batch, width),
        _pair("凭证号", result.trace, width),
        _pair("授权码", result.auth_code or "-", width),
        _pair("参考号", result.rrn or "-", width),
        _pair("日期/时间", _when(result), width),
        rule,
    ]
    if result.amount_fen is not None:
        lines.append(_pair("金额", f"RMB {format_fen(result.amount_fen)}", width))
    if result.balance_fen is not None:
        lines.append(_pair("余额", f"RMB {format_fen(result.balance_fen)}", width))
    lines.append(_pair("应答", f"{result.response.code} {result.response.operator_message}", width))
    lines.append(rule)
    if copy == MERCHANT_COPY and result.approved:
        lines += ["持卡人签名:", "", "", "本人确认以上交易，同意将其记入本卡账户"]
    else:
        lines.append(_centre("请妥善保管", width))
    return "\n".join(lines) + "\n"


def _when(result: TransactionResult) -> str:
    date, time = result.local_date, result.local_time
    if not (date and time):
        return "-"
    return f"{date[:2]}/{date[2:]} {time[:2]}:{time[2:4]}:{time[4:]}"


def display_width(text: str) -> int:
    """Columns ``text`` takes on a receipt printer (wide CJK glyphs count two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pair(label: str, value: str, width: int) -> str:
    gap = width - display_width(label) - display_width(value)
    if gap < 1:
        return f"{label}:\n{' ' * max(0, width - display_width(value))}{value}"
    return label + " " * gap + value


def _centre(text: str, width: int) -> str:
    pad = max(0, (width - display_width(text)) // 2)
    return " " * pad + text
