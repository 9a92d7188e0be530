"""Damaged host files (trace counter, token key) are named and refused, never guessed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from terminal.card_data import KEY_BYTES, load_token_key
from terminal.cli.app import app
from terminal.errors import ConfigError
from terminal.transactions.state import HostState

runner = CliRunner()


def _home() -> Path:
    return Path(os.environ["TERMINAL_CONFIG"]).parent


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        pytest.param('{"last_trace": "abc"}', "last_trace must be a whole number", id="text-trace"),
        pytest.param('{"last_trace": -1}', "last_trace must be a whole number", id="negative"),
        pytest.param('{"last_trace": 1000000}', "last_trace must be a whole number", id="too-big"),
        pytest.param('{"batch": 7}', "batch must be 6 digits", id="number-batch"),
        pytest.param('{"last_trace": 1, "extra": 1}', "unknown key extra", id="unknown-key"),
        pytest.param("[]", "it holds list", id="list"),
        pytest.param("null", "it holds null", id="null"),
        pytest.param("1.5", "it holds float", id="float"),
        pytest.param("{", "not JSON", id="not-json"),
    ],
)
def test_a_damaged_state_file_is_refused_naming_the_file(tmp_path, text, problem):
    path = tmp_path / "host-state.json"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        HostState(path).next_trace()
    assert str(path) in str(caught.value) and problem in str(caught.value)
    assert path.read_text() == text  # left for the user to repair, not overwritten


def test_the_cli_refuses_a_damaged_state_file_with_exit_2():
    state = _home() / "host-state.json"
    state.write_text('{"last_trace": "abc"}')
    outcome = runner.invoke(app, ["sale", "1.00"])
    assert outcome.exit_code == 2
    assert str(state) in outcome.stderr and "damaged" in outcome.stderr
    assert "Traceback" not in outcome.output


def test_a_state_file_that_is_not_utf8_is_named(tmp_path):
    path = tmp_path / "host-state.json"
    path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ConfigError, match="not UTF-8"):
        HostState(path).next_trace()


def test_a_state_path_through_a_regular_file_is_named(tmp_path):
    plain = tmp_path / "plain"
    plain.write_text("x")
    with pytest.raises(ConfigError, match="part of its path is a file") as caught:
        HostState(plain / "host-state.json").next_trace()
    assert str(plain / "host-state.json") in str(caught.value)


def test_a_token_key_that_is_a_directory_is_refused_with_exit_2():
    (_home() / "token.key").mkdir()
    outcome = runner.invoke(app, ["sale", "1.00"])
    assert outcome.exit_code == 2
    assert "token key" in outcome.stderr and "directory" in outcome.stderr


@pytest.mark.parametrize("size", [0, 16, KEY_BYTES + 1])
def test_a_token_key_of_the_wrong_size_is_refused_and_never_replaced(tmp_path, size):
    path = tmp_path / "token.key"
    path.write_bytes(b"k" * size)
    with pytest.raises(ConfigError) as caught:
        load_token_key(path)
    message = str(caught.value)
    assert str(path) in message and "damaged" in message
    assert "restore" in message and "delete it" in message  # how to recover
    assert path.read_bytes() == b"k" * size


def test_the_cli_refuses_a_short_token_key_with_exit_2():
    key = _home() / "token.key"
    key.write_bytes(b"short")
    outcome = runner.invoke(app, ["sale", "1.00", "--json"])
    assert outcome.exit_code == 2
    assert str(key) in outcome.stderr
    assert key.read_bytes() == b"short"


# Each process is ready (imports done) and then, for each round, waits for the round's
# shared start time, so that all twelve ask for a new key within the same milliseconds.
# Several rounds, because one race on two cores may happen to interleave harmlessly.
_ROUNDS = 8
_MAKE_KEYS = """
import sys, time
from pathlib import Path
from terminal.card_data import KEY_BYTES, load_token_key
directory, start = Path(sys.argv[1]), float(sys.argv[2])
for round in range(int(sys.argv[3])):
    time.sleep(max(0.0, start + 0.2 * round - time.time()))
    print(load_token_key(directory / str(round) / "token.key").hex())
"""


def test_twelve_processes_creating_the_key_at_once_end_with_one_key(tmp_path):
    start = str(time.time() + 3.0)
    processes = [
        subprocess.Popen([sys.executable, "-c", _MAKE_KEYS, str(tmp_path), start, str(_ROUNDS)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(12)
    ]
    results = [process.communicate(timeout=60) for process in processes]
    assert all(process.returncode == 0 for process in processes), results
    for round in range(_ROUNDS):
        path = tmp_path / str(round) / "token.key"
        keys = {stdout.split()[round] for stdout, _ in results}
        assert keys == {path.read_bytes().hex()}, f"round {round}: {len(keys)} keys"
        assert len(path.read_bytes()) == KEY_BYTES
        assert os.stat(path).st_mode & 0o777 == 0o600
        assert [p.name for p in path.parent.iterdir()] == ["token.key"]  # no temporary left
