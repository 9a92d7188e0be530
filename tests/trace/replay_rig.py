"""What the replay tests share: a session recorded in the field, and ``terminal simulate``
run in a process of its own whose stderr is read once it stopped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from typer.testing import CliRunner

from terminal.cli.app import app

runner = CliRunner()


def record(tmp_path: Path, *commands: list[str]) -> tuple[Path, list[dict]]:
    """``commands`` recorded into one trace against ``sim://`` (in this process), after a
    sign-on that is not recorded; the trace and each command's ``--json`` result."""
    trace = tmp_path / "field.trace"
    port = f"sim://?ledger={tmp_path / 'field-books.json'}"
    assert runner.invoke(app, ["sign-on", "--port", port]).exit_code == 0
    results = []
    for command in commands:
        outcome = runner.invoke(app, ["--trace", str(trace), *command, "--json", "--port", port])
        assert outcome.exit_code == 0, outcome.output
        results.append(json.loads(outcome.stdout))
    return trace, results


@contextmanager
def simulate(*options: str, env: Mapping[str, str]) -> Iterator[tuple[str, list[str]]]:
    """``terminal simulate --pty OPTIONS`` in its own process, with ``env`` added to this
    one's; yields the pty's path and a list that holds the process's stderr once it stopped
    (SIGTERM, which it must survive with exit code 0)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "terminal", "simulate", "--pty", *options],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **env},
    )
    stderr: list[str] = []
    try:
        line = process.stdout.readline()
        assert line.startswith("Simulated terminal on "), line
        yield line.split()[3], stderr
    finally:
        process.terminate()
        stderr.append(process.communicate(timeout=10)[1])
    assert process.returncode == 0, stderr[0]
