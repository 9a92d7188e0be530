"""The printer commands as a user runs them: the pictures in docs/, the served printer."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from terminal.receipts import LookupKey

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.parametrize("mm", [58, 80])
@pytest.mark.parametrize("name", ["sale", "refund", "settlement"])
def test_the_pictures_in_docs_are_slips_with_chinese_and_a_lookup_code(mm, name):
    picture = Image.open(DOCS / f"receipt-{mm}mm-{name}.png")
    assert picture.width == {58: 384, 80: 576}[mm] + 32
    text = picture.text["Description"]
    assert "模拟 SIMULATOR" in text and "银联演示商户" in text
    codes = zxingcpp.read_barcodes(picture)
    if name == "settlement":
        assert "结算单" in text and codes == []
    else:
        assert LookupKey.parse(codes[0].text).terminal_id == "10008060"


def test_printer_simulate_serves_a_9100_style_printer_and_writes_each_slip(tmp_path):
    env = {**os.environ, "TERMINAL_DATA_DIR": str(tmp_path)}
    server = subprocess.Popen(
        [sys.executable, "-m", "terminal", "printer", "simulate", "--tcp", "0",
         "--out", str(tmp_path / "paper")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=env,
    )
    try:
        first = server.stdout.readline()
        url = first.split()[3]
        assert url.startswith("tcp://127.0.0.1:"), first

        def status() -> subprocess.CompletedProcess[str]:
            """``terminal printer status`` of the served printer, in a process of its own."""
            return subprocess.run(
                [sys.executable, "-m", "terminal", "printer", "status", "--printer", url],
                capture_output=True, text=True, env=env, timeout=30,
            )

        def tell(command: str) -> str:
            """Type ``command`` at the server's console; what it says back."""
            server.stdin.write(f"{command}\n")
            server.stdin.flush()
            return server.stderr.readline().strip()

        ready = status()
        assert ready.returncode == 0 and "ready" in ready.stdout
        assert tell("cover-open") == "virtual printer: cover-open"
        opened = status()
        assert opened.returncode == 1 and "cover-open" in opened.stdout
        assert tell("cover-close") == "virtual printer: cover-close"
        from terminal.receipts.printers import open_printer

        sys.path.insert(0, str(Path(__file__).parent))
        from receipt_samples import receipt

        from terminal.receipts import Copy, print_receipt

        with open_printer(url) as printer:
            print_receipt(printer, receipt("sale"), Copy.MERCHANT)
            assert printer.confirm_printed(10)
        line = server.stdout.readline()
        assert line.startswith("slip 1: ") and line.strip().endswith(".png")
        assert Image.open(line.split(": ", 1)[1].strip()).text["Description"].count("凭证号") == 1
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)
    assert server.returncode == 0
