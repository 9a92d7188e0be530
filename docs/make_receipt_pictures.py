"""Draw the receipt pictures in docs/ (``make pictures``): each layout through the virtual printer.

Run from the repository with the project installed. Every picture is a real
ESC/POS byte stream from python-escpos, interpreted by the virtual printer and
drawn dot for dot, so the pictures show what a 58 or 80 mm printer prints.
The card number is the simulator's test card, masked as the host keeps it.
"""

from __future__ import annotations

import sys
from pathlib import Path

from terminal.receipts import (
    Copy,
    Original,
    ReceiptData,
    SettlementLine,
    SettlementReport,
    open_printer,
    print_receipt,
)

DOCS = Path(__file__).resolve().parent
MERCHANT = {"merchant_name": "银联演示商户", "merchant_id": "898100000000001",
            "terminal_id": "10008060"}


def sale() -> ReceiptData:
    return ReceiptData(
        kind="sale", approved=True, response_code="00", response_text="交易成功",
        batch="000001", trace="000012", amount_fen=1234, card_masked="622609******0048",
        card_organisation="CUP", entry_mode="051", operator="01", rrn="112812000012",
        auth_code="835201", local_date="1128", local_time="101530", year="2026",
        simulated=True, **MERCHANT,
    )


def refund() -> ReceiptData:
    return ReceiptData(
        kind="refund", approved=True, response_code="00", response_text="交易成功",
        batch="000001", trace="000015", amount_fen=500, card_masked="622609******0048",
        card_organisation="CUP", entry_mode="051", operator="01", rrn="112812000015",
        auth_code="835377", local_date="1128", local_time="114205", year="2026",
        original=Original("112812000012", "000012", "000001", "1128", "835201"),
        reason="商品破损，顾客退货", simulated=True, **MERCHANT,
    )


def settlement() -> SettlementReport:
    return SettlementReport(
        batch="000001", sales=SettlementLine(3, 3702), completions=SettlementLine(1, 1000),
        voids=SettlementLine(1, 1234), refunds=SettlementLine(1, 500), balanced=True,
        local_date="1128", local_time="235901", year="2026", operator="01", simulated=True,
        **MERCHANT,
    )


def main(folder: Path = DOCS) -> list[Path]:
    written = []
    for profile, mm in (("cn-58", 58), ("cn-80", 80)):
        for name, data in (("sale", sale()), ("refund", refund()), ("settlement", settlement())):
            with open_printer(f"virtual://?profile={profile}") as printer:
                print_receipt(printer, data, Copy.CUSTOMER if name != "settlement" else None)
                paper = printer.virtual.save(folder, f"receipt-{mm}mm-{name}")
            if paper.png is None:
                sys.exit(paper.problem)
            paper.text_path.unlink()
            written.append(paper.png)
    return written


if __name__ == "__main__":
    for path in main(Path(sys.argv[1]) if len(sys.argv) > 1 else DOCS):
        print(path)
