"""``terminal simulate`` as a shop's developer runs it: a separate process a POS opens."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import serial
from cup_requests import exchange, sale_request
from typer.testing import CliRunner

from terminal.cli.app import app

ANNOUNCE = re.compile(
    r"^Simulated terminal on (\S+) — open it with: terminal sale 12\.34 --port \1$"
)
STARTUP_LIMIT = 15.0
STOP_LIMIT = 5.0

runner = CliRunner()


@contextmanager
def _simulate(*options: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """Run ``terminal simulate OPTIONS`` and yield it with the address it announced."""
    process = subprocess.Popen(
        [sys.executable, "-m", "terminal", "simulate", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # Not unbuffered: the command itself must flush the line a script waits for.
        env={k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"},
    )
    try:
        ready, _, _ = select.select([process.stdout], [], [], STARTUP_LIMIT)
        assert ready, "terminal simulate printed nothing"
        line = process.stdout.readline().rstrip("\n")
        match = ANNOUNCE.match(line)
        if not match:
            process.kill()
            pytest.fail(f"unexpected first line {line!r}; stderr: {process.stderr.read()}")
        yield process, match.group(1)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(STOP_LIMIT)
        process.stdout.close()
        process.stderr.close()


def _stop(process: subprocess.Popen[str], signum: int) -> tuple[int, float]:
    started = time.monotonic()
    process.send_signal(signum)
    code = process.wait(STOP_LIMIT)
    return code, time.monotonic() - started


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_simulate_pty_prints_a_path_a_sale_goes_through_and_a_signal_stops_it(signum):
    with _simulate("--pty") as (process, path):
        assert path.startswith("/dev/")
        with serial.serial_for_url(path, timeout=0.05) as port:
            response = exchange(port, sale_request())
        assert (response.mti, response[39]) == ("0210", "00")
        code, took = _stop(process, signum)
        assert code == 0, process.stderr.read()
        assert took < STOP_LIMIT
        assert "Traceback" not in process.stderr.read()


def test_simulate_with_expired_card_declines_the_sale():
    with _simulate("--pty", "--card", "expired") as (process, path):
        with serial.serial_for_url(path, timeout=0.05) as port:
            response = exchange(port, sale_request())
        assert response[39] == "54"
        assert _stop(process, signal.SIGTERM)[0] == 0


def test_simulate_tcp_prints_a_socket_url_a_sale_goes_through():
    with _simulate("--tcp", "0") as (process, url):
        assert re.fullmatch(r"socket://127\.0\.0\.1:\d+", url) and not url.endswith(":0")
        with serial.serial_for_url(url, timeout=0.05) as port:
            response = exchange(port, sale_request())
        assert (response.mti, response[39]) == ("0210", "00")
        assert _stop(process, signal.SIGINT)[0] == 0


@pytest.mark.parametrize("options", [[], ["--pty", "--tcp", "0"]], ids=["neither", "both"])
def test_simulate_needs_exactly_one_of_pty_and_tcp(options):
    outcome = runner.invoke(app, ["simulate", *options])
    assert outcome.exit_code == 2
    assert "exactly one of --pty or --tcp" in _unboxed(outcome.output)


def test_simulate_refuses_a_missing_config_file(tmp_path):
    outcome = runner.invoke(app, ["simulate", "--pty", "--config", str(tmp_path / "no.toml")])
    assert outcome.exit_code == 2
    assert "does not exist" in _unboxed(outcome.output)


def test_simulate_refuses_a_bad_config_file(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text("[simulator]\nresponse_delay = -1\n")
    outcome = runner.invoke(app, ["simulate", "--pty", "--config", str(config)])
    assert outcome.exit_code == 2
    assert "response_delay" in outcome.output


def test_simulate_refuses_a_negative_delay():
    outcome = runner.invoke(app, ["simulate", "--pty", "--delay", "-1"])
    assert outcome.exit_code == 2


def test_simulate_refuses_an_unknown_card():
    outcome = runner.invoke(app, ["simulate", "--pty", "--card", "nosuch"])
    assert outcome.exit_code == 2
    assert "unknown card profile 'nosuch'" in outcome.output


def _unboxed(text: str) -> str:
    """Click's error text without rich's panel borders and line wrapping."""
    return " ".join(text.replace("│", " ").split())
