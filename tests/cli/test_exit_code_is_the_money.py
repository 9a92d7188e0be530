"""The exit code tells the truth about the money, whatever becomes of the output.

Real processes: an approved sale charged the card even when stdout cannot show
Chinese (a Windows console, ``PYTHONIOENCODING=cp1252``/``ascii``) or the reader
has closed the pipe (``terminal sale 1.00 --receipt | true``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

SALES = [pytest.param("approved", 0, id="approved"), pytest.param("expired", 1, id="declined")]


def _terminal(*args: str, encoding: str | None = None, **popen: object) -> subprocess.Popen:
    env = dict(os.environ)
    env.pop("PYTHONIOENCODING", None)
    if encoding is not None:
        env["PYTHONIOENCODING"] = encoding
    return subprocess.Popen(
        [sys.executable, "-m", "terminal", *args], env=env, stderr=subprocess.PIPE, **popen
    )


@pytest.mark.parametrize("encoding", ["cp1252", "ascii"])
@pytest.mark.parametrize(("card", "code"), SALES)
def test_a_stdout_that_cannot_show_chinese_does_not_change_the_exit_code(card, code, encoding):
    process = _terminal("sale", "12.34", "--receipt", "--card", card, encoding=encoding,
                        stdout=subprocess.PIPE)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == code, stderr.decode()
    text = stdout.decode(encoding)
    assert text.splitlines()[0].startswith("SIMULATOR")  # the result was shown, degraded
    assert ("12.34" in text) and (card != "approved" or "RMB 12.34" in text)
    assert b"Traceback" not in stderr


@pytest.mark.parametrize("encoding", ["cp1252", "ascii"])
def test_json_on_a_narrow_stdout_keeps_every_character_as_an_escape(encoding):
    process = _terminal("sale", "12.34", "--json", encoding=encoding, stdout=subprocess.PIPE)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr.decode()
    assert json.loads(stdout.decode(encoding))["message"] == "交易成功"


@pytest.mark.parametrize(("card", "code"), SALES)
def test_a_closed_stdout_pipe_does_not_change_the_exit_code(card, code):
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the sale ends: `| true`
    try:
        process = _terminal("sale", "12.34", "--receipt", "--card", card, stdout=write_end)
    finally:
        os.close(write_end)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == code, stderr.decode()
    assert b"stdout was closed" in stderr
    assert b"Traceback" not in stderr and b"Exception ignored" not in stderr
