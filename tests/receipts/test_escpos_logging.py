"""Importing our receipts (and so python-escpos) leaves the program's logging alone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_importing_the_cli_puts_no_handler_on_the_root_logger():
    # python-escpos calls logging.basicConfig() on import; without the guard the root
    # logger gets a stderr handler and every library warning is printed twice over.
    code = (
        "import logging, sys\n"
        "import terminal.cli.app\n"
        "assert 'escpos' in sys.modules\n"
        "print(len(logging.getLogger().handlers))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, env=env)
    assert shown.stdout.strip() == "0"
