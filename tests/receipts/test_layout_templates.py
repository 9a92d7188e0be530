"""Templates are data, checked when loaded: a mistake shows at start, not on a slip."""

from __future__ import annotations

import pytest
from receipt_samples import receipt

from terminal.errors import ConfigError
from terminal.receipts import Copy, SettlementLine, SettlementReport, render_document
from terminal.receipts.cells import cells
from terminal.receipts.layout import load_template, parse_template

HEAD = 'document = "transaction"\ncolumns = 32\n'


@pytest.mark.parametrize(
    ("row", "complaint"),
    [
        ('type = "pair"\nlabel = "x"\nvalue = "{pan}"', "unknown field {pan}"),
        ('type = "banner"', "type must be one of"),
        ('type = "text"\ntext = "x"\nsize = "huge"', "size must be one of"),
        ('type = "text"\ntext = "x"\nwhen = "paid"', "unknown field 'paid'"),
        ('type = "columns"\ncells = ["a", "b"]\nwidths = [10, 10]', "add up to 20"),
        ('type = "rule"\nchar = "＝"', "one cell"),
        ('type = "qr"\ndata = "{lookup}"\nmodule = 40', "module must be"),
        ('type = "text"\ntext = "x"\ncolour = "red"', "has no colour"),
    ],
)
def test_a_bad_row_is_refused_naming_the_file_and_row(row, complaint):
    with pytest.raises(ConfigError) as caught:
        parse_template(HEAD + "[[row]]\n" + row, source="bad.toml")
    assert "bad.toml row 1" in str(caught.value) and complaint in str(caught.value)


@pytest.mark.parametrize("document", ["transaction", "settlement"])
@pytest.mark.parametrize("columns", [32, 48])
def test_every_packaged_template_loads(document, columns):
    assert load_template(document, columns).columns == columns


def test_a_long_merchant_name_wraps_instead_of_losing_its_end():
    name = "北京市朝阳区建国路八十八号银联演示便利店"
    text = render_document(receipt(merchant_name=name), Copy.MERCHANT, 32).text()
    assert name in text.replace("\n", "").replace(" ", "")


def test_an_amount_too_wide_for_its_column_is_moved_not_cut():
    report = SettlementReport("银联演示商户", "898100000000001", "10008060", "000001",
                              sales=SettlementLine(12, 999_999_999_999))
    text = render_document(report, None, 32).text()
    assert "RMB 9999999999.99" in text
    assert all(cells(line) <= 32 for line in text.splitlines())


def test_settlement_report_counts_and_sums_each_category_apart_and_the_net():
    report = SettlementReport(
        "银联演示商户", "898100000000001", "10008060", "000007",
        sales=SettlementLine(3, 3702), completions=SettlementLine(1, 1000),
        voids=SettlementLine(1, 1234), refunds=SettlementLine(2, 500), balanced=False,
    )
    lines = render_document(report, None, 48).text().splitlines()
    sale = next(line for line in lines if line.startswith("消费 SALE"))
    assert sale.endswith("3       RMB 37.02")  # count and amount right-aligned in columns
    assert any(line.startswith("退货 REFUND") and "RMB 5.00" in line for line in lines)
    assert any("净额" in line and line.endswith("RMB 29.68") for line in lines)
    assert any("不平 NOT BALANCED" in line for line in lines)


def test_every_transaction_kind_of_the_catalogue_has_a_printed_name():
    from terminal.protocol.catalogue import Kind
    from terminal.receipts.names import KIND_NAMES

    assert {kind.value for kind in Kind} == set(KIND_NAMES)
