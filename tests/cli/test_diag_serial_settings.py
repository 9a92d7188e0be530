"""``terminal diag`` opens the line with the config file's [serial] settings and shows them."""

from __future__ import annotations

import os
from pathlib import Path

from typer.testing import CliRunner

from terminal.cli.app import app

runner = CliRunner()


def test_diag_opens_the_port_with_the_configured_line_settings_and_shows_them():
    config = Path(os.environ["TERMINAL_CONFIG"])
    config.write_text('[serial]\nbaudrate = 4800\nparity = "E"\n', encoding="utf-8")
    outcome = runner.invoke(app, ["diag", "--prompt-timeout", "0.1"])
    first_check = next(line for line in outcome.stdout.splitlines() if "1. port opens" in line)
    assert first_check.startswith("[PASS]"), outcome.output
    assert "baud rate 4800 baud (= 4800)" in first_check
    assert "parity E (= E)" in first_check
