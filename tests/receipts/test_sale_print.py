"""``terminal sale ... --print``: both copies on the printer, the exit code the money's."""

from __future__ import annotations

import json
import re

import zxingcpp
from PIL import Image
from typer.testing import CliRunner

from simulator import load_cards
from terminal.cli.app import app
from terminal.cli.print_jobs import data_dir, open_queue
from terminal.receipts import LookupKey

runner = CliRunner()
PNG = re.compile(r"virtual printer: PNG (\S+)")


def test_sale_print_puts_both_copies_through_the_virtual_printer_with_a_lookup_code():
    outcome = runner.invoke(app, ["sale", "12.34", "--print", "--json"])
    assert outcome.exit_code == 0, outcome.output
    result = json.loads(outcome.stdout)  # stdout stays pure JSON
    png = PNG.search(outcome.stderr).group(1)
    picture = Image.open(png)
    text = picture.text["Description"]
    assert text.count("银联POS签购单") == 2
    assert "商户存根" in text and "持卡人存根" in text and "RMB 12.34" in text
    keys = {LookupKey.parse(code.text) for code in zxingcpp.read_barcodes(picture)}
    assert keys == {LookupKey(result["rrn"], result["trace"], result["date"], "10008060")}
    queue = open_queue({})
    assert queue.pending() == [] and len(queue.all()) == 2
    queue.close()


def test_a_printer_that_cannot_print_keeps_the_receipts_and_the_sale_still_exits_0():
    outcome = runner.invoke(app, ["sale", "5.00", "--print", "--printer",
                                  "virtual://?state=cover-open"])
    assert outcome.exit_code == 0, outcome.output
    assert "cover open" in outcome.stderr and "2 receipt(s) waiting" in outcome.stderr
    waiting = runner.invoke(app, ["printer", "queue", "--json"])
    assert waiting.exit_code == 1
    assert [job["state"] for job in json.loads(waiting.stdout)["jobs"]] == ["queued", "queued"]
    printed = runner.invoke(app, ["printer", "queue", "--print"])
    assert printed.exit_code == 0, printed.output
    assert printed.stdout.count("持卡人存根") == 1


def test_an_unreachable_printer_does_not_change_the_exit_code():
    outcome = runner.invoke(app, ["sale", "5.00", "--print", "--printer",
                                  "tcp://127.0.0.1:1?timeout=0.2"])
    assert outcome.exit_code == 0, outcome.output
    assert "not reachable" in outcome.stderr


def test_a_declined_sale_prints_nothing():
    outcome = runner.invoke(app, ["sale", "5.00", "--print", "--card", "expired"])
    assert outcome.exit_code == 1
    queue = open_queue({})
    assert queue.all() == []
    queue.close()


def test_no_card_number_anywhere_a_printed_sale_leaves_a_trace():
    for card in ("approved", "contactless"):
        outcome = runner.invoke(app, ["sale", "3.00", "--print", "--card", card])
        assert outcome.exit_code == 0, outcome.output
    blobs = [path.read_bytes() for path in data_dir().rglob("*") if path.is_file()]
    blobs += [Image.open(p).text["Description"].encode()
              for p in data_dir().rglob("*.png")]
    assert any(b"622609" in blob for blob in blobs)  # the masked number: the scan saw slips
    for card in load_cards():
        assert not any(card.pan.encode() in blob for blob in blobs), card.name


def test_the_config_files_printer_table_chooses_the_printer_and_its_paper(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[printer]\nurl = "virtual://"\nprofile = "cn-80"\n', "utf-8")
    outcome = runner.invoke(app, ["sale", "12.34", "--print", "--config", str(config)])
    assert outcome.exit_code == 0, outcome.output
    assert Image.open(PNG.search(outcome.stdout).group(1)).width == 576 + 32
    assert "商户名称 MERCHANT NAME" in outcome.stdout  # the 80 mm template's label
