"""Every transaction kind at both widths, printed through python-escpos into the virtual
printer: Chinese intact, columns aligned, a QR code that decodes to the lookup keys,
REPRINT marked, and no card number in the bytes or the picture."""

from __future__ import annotations

import re

import pytest
import zxingcpp
from PIL import Image
from receipt_samples import KINDS, receipt, sample_card

from simulator.printer import render_png, render_text
from terminal.card_data import luhn_valid
from terminal.receipts import Copy, LookupKey, print_receipt, render_document
from terminal.receipts.cells import cells
from terminal.receipts.names import kind_name
from terminal.receipts.printers import open_printer

WIDTHS = {"cn-58": 32, "cn-80": 48}
CARD_LIKE = re.compile(rb"(?<!\d)\d{13,19}(?!\d)")


def printed(data, copy, profile):
    with open_printer(f"virtual://?profile={profile}") as printer:
        print_receipt(printer, data, copy)
        return printer.virtual


@pytest.mark.parametrize("profile", WIDTHS)
@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_prints_chinese_intact_in_aligned_columns(kind, profile, tmp_path):
    columns = WIDTHS[profile]
    device = printed(receipt(kind), Copy.MERCHANT, profile)
    assert device.unknown == []
    [slip] = device.cut_slips
    lines = slip.text_lines(device.dots)
    text = "\n".join(lines)
    name = kind_name(kind)
    assert name.chinese in text and name.english in text
    assert "银联演示商户" in text and "商户存根" in text and "模拟 SIMULATOR" in text
    for line in lines:
        if "[QR " not in line:
            assert cells(line) <= columns, line
    # label ... value rows end on the right edge: the columns line up
    for label in ("凭证号 ", "批次号 ", "参考号 ", "金额 " if kind != "balance" else "余额 "):
        row = next(line for line in lines if line.startswith(label))
        assert cells(row) == columns, row
    assert "622609" in text and "****" in text


@pytest.mark.parametrize("profile", WIDTHS)
@pytest.mark.parametrize("kind", KINDS)
def test_the_qr_code_decodes_to_the_keys_lookup_accepts(kind, profile, tmp_path):
    data = receipt(kind)
    device = printed(data, Copy.CUSTOMER, profile)
    png = render_png(device.cut_slips, device.dots, tmp_path / "slip.png")
    found = zxingcpp.read_barcodes(Image.open(png))
    assert [code.format.name for code in found] == ["QRCode"]
    key = LookupKey.parse(found[0].text)
    assert key == LookupKey(data.rrn, data.trace, "1128", "10008060")
    assert key.lookup_arguments() == ["--rrn", data.rrn, "--trace", data.trace, "--date", "1128"]


@pytest.mark.parametrize("profile", WIDTHS)
@pytest.mark.parametrize("kind", KINDS)
def test_a_reprint_of_each_kind_says_so_on_top(kind, profile):
    device = printed(receipt(kind).as_reprint(), Copy.MERCHANT, profile)
    lines = device.cut_slips[0].text_lines(device.dots)
    assert "重打印 REPRINT" in "\n".join(lines[:3])
    reprint_title = next(row for row in device.cut_slips[0].rows if "REPRINT" in row.text)
    assert {(g.width, g.height) for g in reprint_title.glyphs} == {(2, 2)}
    original = printed(receipt(kind), Copy.MERCHANT, profile)
    assert "REPRINT" not in render_text(original.slips, original.dots)


def test_merchant_copy_has_the_signature_line_and_the_customer_copy_not():
    merchant = render_document(receipt("sale"), Copy.MERCHANT, 32).text()
    customer = render_document(receipt("sale"), Copy.CUSTOMER, 32).text()
    assert "持卡人签名" in merchant and "持卡人签名" not in customer
    assert "持卡人存根" in customer


def test_void_refund_and_completion_show_the_original_and_the_refund_reason():
    refund = render_document(receipt("refund"), Copy.MERCHANT, 48).text()
    assert "112800004400" in refund and "000044" in refund and "11/27" in refund
    assert "商品破损，顾客退货" in refund
    sale = render_document(receipt("sale"), Copy.MERCHANT, 48).text()
    assert "原参考号" not in sale


@pytest.mark.parametrize("profile", WIDTHS)
def test_no_card_number_in_the_byte_stream_or_the_png_text(profile, tmp_path):
    pan, _ = sample_card()
    for kind in KINDS:
        device = printed(receipt(kind), Copy.MERCHANT, profile)
        png = render_png(device.cut_slips, device.dots, tmp_path / f"{kind}.png")
        text_layer = Image.open(png).text["Description"]
        assert "622609" in text_layer  # the masked number is there: the scan saw the slip
        for blob in (bytes(device.received), text_layer.encode("utf-8"), png.read_bytes()):
            assert pan.encode() not in blob
            runs = [r for r in CARD_LIKE.findall(blob)
                    if len(set(r)) > 2 and luhn_valid(r.decode())]
            assert runs == [], kind


def test_gbk_printer_gets_gbk_bytes_and_a_substitute_for_what_gbk_lacks():
    data = receipt("refund", reason="损坏—退货 €5")
    device = printed(data, Copy.MERCHANT, "gbk-58")
    assert device.unknown == []
    text = render_text(device.slips, device.dots)
    assert "损坏—退货 EUR5" in text.replace("\n", "")
    assert "退货原因".encode("gbk") in bytes(device.received)


def test_chinese_is_enlarged_with_fs_and_gs_not_only_esc():
    device = printed(receipt("sale"), Copy.MERCHANT, "cn-58")
    title = next(row for row in device.cut_slips[0].rows if row.text.startswith("银联POS签购单"))
    assert {(g.width, g.height) for g in title.glyphs} == {(2, 2)}
    assert b"\x1c\x26" in bytes(device.received)  # FS &: Chinese mode on
    assert b"\x1c\x21\x0c" in bytes(device.received)  # FS ! double width and height


def test_the_png_draws_chinese_with_a_cjk_font(tmp_path):
    device = printed(receipt("sale"), Copy.MERCHANT, "cn-58")
    png = render_png(device.cut_slips, device.dots, tmp_path / "slip.png")
    image = Image.open(png).convert("L")
    assert image.width == 384 + 32
    # The title row holds Chinese glyphs drawn in ink, not blank boxes: count dark dots
    # in the cell of the first character "银" (double size, centred).
    row_top = 16 + sum(r.height for r in device.cut_slips[0].rows[:1])
    box = image.crop((16 + 56, row_top, 16 + 56 + 48, row_top + 48))
    dark = sum(box.histogram()[:128])
    assert 150 < dark < 48 * 48 * 0.8
