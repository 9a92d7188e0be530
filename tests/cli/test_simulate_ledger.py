"""``terminal simulate --ledger PATH``: checked at start; a fault later is a ledger error."""

from __future__ import annotations

import sqlite3

import pytest
from typer.testing import CliRunner

import simulator.serve
from terminal.cli.app import app

runner = CliRunner()


def test_a_ledger_path_through_a_regular_file_is_refused_before_serving(tmp_path):
    plain = tmp_path / "plain"
    plain.write_text("x")
    outcome = runner.invoke(app, ["simulate", "--tcp", "0", "--ledger", str(plain / "books.db")])
    assert outcome.exit_code == 2
    assert f"ledger file {plain / 'books.db'} cannot be written" in outcome.stderr
    assert "Simulated terminal on" not in outcome.stdout  # never announced


def test_a_ledger_path_that_is_a_directory_is_refused_before_serving(tmp_path):
    outcome = runner.invoke(app, ["simulate", "--pty", "--ledger", str(tmp_path)])
    assert outcome.exit_code == 2
    assert "cannot be written" in outcome.stderr and "directory" in outcome.stderr


@pytest.mark.parametrize(
    "fault",
    [sqlite3.OperationalError("database or disk is full"), OSError(28, "No space left on device")],
    ids=["sqlite-full", "disk-full"],
)
def test_a_fault_while_serving_is_reported_as_a_ledger_error(tmp_path, monkeypatch, fault):
    """A full disk cannot be made real in a test: the serve loop raises what it would."""

    def serve_then_fail(device, host, port, *, stop, on_ready, **_):
        on_ready(f"socket://{host}:5999")
        raise fault

    monkeypatch.setattr(simulator.serve, "serve_tcp", serve_then_fail)
    ledger = tmp_path / "books.db"
    outcome = runner.invoke(app, ["simulate", "--tcp", "0", "--ledger", str(ledger)])
    assert outcome.exit_code == 2
    assert f"ledger error: ledger file {ledger}" in outcome.stderr
    assert "cannot listen" not in outcome.stderr


def test_a_port_in_use_is_still_a_listening_error(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        outcome = runner.invoke(
            app, ["simulate", "--tcp", str(port), "--ledger", str(tmp_path / "books.db")]
        )
    assert outcome.exit_code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in outcome.stderr
