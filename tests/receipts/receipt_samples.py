"""Sample slips for every transaction kind, with a masked card from the simulator's test cards."""

from __future__ import annotations

from simulator import load_cards
from terminal.card_data import protect_pan
from terminal.receipts.model import Original, ReceiptData

KINDS = ("sale", "void", "refund", "balance", "preauth", "preauth_cancel", "preauth_complete",
         "completion_void", "reversal")
WITH_ORIGINAL = {"void", "refund", "preauth_complete", "completion_void", "preauth_cancel",
                 "reversal"}
KEY = b"k" * 32


def sample_card():
    """The simulator's approving test card, as the host keeps it (masked + token)."""
    card = next(c for c in load_cards() if c.name == "approved")
    return card.pan, protect_pan(card.pan, KEY)


def receipt(kind: str = "sale", trace: str = "000045", **changes) -> ReceiptData:
    """An approved slip of ``kind`` with everything a slip can carry."""
    _, protected = sample_card()
    values = dict(
        kind=kind, approved=True, response_code="00", response_text="交易成功",
        merchant_name="银联演示商户", merchant_id="898100000000001", terminal_id="10008060",
        batch="000001", trace=trace, amount_fen=None if kind == "balance" else 1234,
        balance_fen=98765 if kind == "balance" else None, card_masked=protected.masked,
        card_organisation="CUP", entry_mode="051", operator="01",
        rrn=f"1128{trace}00", auth_code="A1B2C3", local_date="1128", local_time="123456",
        year="2026",
        original=Original("112800004400", "000044", "000001", "1127", "654321")
        if kind in WITH_ORIGINAL else None,
        reason="商品破损，顾客退货" if kind == "refund" else None,
        simulated=True,
    )
    values.update(changes)
    return ReceiptData(**values)
