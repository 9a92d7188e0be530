"""``--json`` failures: a JSON error object on stdout for every failure, the text once on stderr."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from terminal.cli.app import app

runner = CliRunner()


def _config() -> Path:
    return Path(os.environ["TERMINAL_CONFIG"])


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        pytest.param(["sale", "abc"], 2, "not yuan", id="bad-amount"),
        pytest.param(["sale", "-1"], 2, "amount must be positive", id="negative-amount"),
        pytest.param(["sale"], 2, "AMOUNT", id="missing-argument"),
        pytest.param(["echo", "--bogus"], 2, "--bogus", id="unknown-option"),
        pytest.param(["echo", "--port", ""], 2, "--port is empty", id="empty-port"),
        pytest.param(["echo", "--port", "/dev/ttyS-none"], 3, "ttyS-none", id="no-device"),
        pytest.param(["echo", "--port", "socket://127.0.0.1"], 2, "no TCP port", id="bad-url"),
        pytest.param(["sale", "1", "--card", "nosuch"], 2, "nosuch", id="unknown-card"),
        pytest.param(["decode", "zz"], 2, "not hex", id="decode-bad-hex"),
    ],
)
def test_every_failure_prints_a_json_error_object_on_stdout(args, code, words):
    outcome = runner.invoke(app, [*args, "--json"])
    assert outcome.exit_code == code, outcome.output
    shown = json.loads(outcome.stdout)
    assert shown["exit_code"] == code
    assert words in shown["error"]
    assert words in outcome.stderr


def test_a_config_error_is_a_json_error_too():
    _config().write_text("[terminal]\nterminal = 5\n", encoding="utf-8")
    outcome = runner.invoke(app, ["sale", "1.00", "--json"])
    assert outcome.exit_code == 2
    assert "terminal" in json.loads(outcome.stdout)["error"]


def test_an_in_doubt_sale_gives_its_trace_in_json_and_its_message_once():
    _config().write_text("[link]\nresponse_timeout = 0.3\n", encoding="utf-8")
    assert runner.invoke(app, ["sign-on"]).exit_code == 0  # so the sale is what gets no answer
    outcome = runner.invoke(app, ["sale", "1.00", "--port", "sim://?delay=5", "--json"])
    assert outcome.exit_code == 3
    shown = json.loads(outcome.stdout)
    assert shown["in_doubt"] is True and shown["transaction"] == "sale"
    assert shown["trace"].isdigit() and shown["amount_fen"] == 100
    assert f"trace {shown['trace']}" in shown["error"]
    assert outcome.stderr.count("in doubt") == 1, outcome.stderr


def test_without_json_a_failure_prints_nothing_on_stdout():
    outcome = runner.invoke(app, ["sale", "-1"])
    assert outcome.exit_code == 2
    assert outcome.stdout == ""
    assert outcome.stderr.count("amount must be positive") == 1


def test_no_failure_text_repeats_a_card_number_like_digit_run():
    pan = "6214830117451467"
    outcome = runner.invoke(app, ["echo", "--port", f"/dev/ttyX{pan}", "--json"])
    assert outcome.exit_code == 3
    assert pan not in outcome.output
    assert "621483******1467" in json.loads(outcome.stdout)["error"]


def test_ctrl_c_outside_a_sale_is_a_json_error_too():
    import signal
    import subprocess
    import sys
    import time

    process = subprocess.Popen(
        [sys.executable, "-m", "terminal", "-vv", "echo", "--port", "sim://?delay=30", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # A shell's background job inherits SIGINT ignored (and Python keeps it so); a
        # Ctrl-C on a terminal reaches the foreground process, which is the case tested.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    # Interrupt only once the request is on the wire (a loaded PC can take seconds to
    # start Python): the -vv link log on stderr says when; stdout stays pure JSON.
    logged = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        logged.append(line)
        if not line or "frame out" in line:
            break
    assert "frame out" in logged[-1], "".join(logged)
    time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    assert json.loads(stdout) == {"error": "interrupted", "exit_code": 130}
    assert "Traceback" not in stderr
