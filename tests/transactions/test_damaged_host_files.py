"""Damaged host files (journal, token key) are named and refused, never guessed."""

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
from terminal.journal import Journal

runner = CliRunner()


def _data() -> Path:
    return Path(os.environ["TERMINAL_DATA_DIR"])


def test_a_damaged_journal_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "journal.sqlite3"
    path.write_bytes(b"this is no database, and it is long enough to look like one" * 40)
    with pytest.raises(ConfigError) as caught:
        Journal(path)
    assert str(path) in str(caught.value) and "journal" in str(caught.value)
    assert path.read_bytes().startswith(b"this is no database")  # left for repair


def test_the_cli_refuses_a_damaged_journal_with_exit_2():
    journal = _data() / "journal.sqlite3"
    journal.parent.mkdir(parents=True, exist_ok=True)
    journal.write_bytes(b"garbage" * 200)
    outcome = runner.invoke(app, ["sale", "1.00"])
    assert outcome.exit_code == 2
    assert str(journal) in outcome.stderr
    assert "Traceback" not in outcome.output


def test_a_journal_path_through_a_regular_file_is_named(tmp_path):
    plain = tmp_path / "plain"
    plain.write_text("x")
    with pytest.raises(ConfigError) as caught:
        Journal(plain / "journal.sqlite3")
    assert str(plain / "journal.sqlite3") in str(caught.value)


def test_a_token_key_that_is_a_directory_is_refused_with_exit_2():
    _data().mkdir(parents=True, exist_ok=True)
    (_data() / "token.key").mkdir()
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
    _data().mkdir(parents=True, exist_ok=True)
    key = _data() / "token.key"
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
