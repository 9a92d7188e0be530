"""``terminal decode`` / ``terminal encode`` through Typer's test runner."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from terminal.cli.app import app

RUNNER = CliRunner()
ECHO_HEX = (
    "600006000060320099000208200000000000C0001031313030303238343538353239303034383134"
    "303030310011000000013010"
)


def test_decode_prints_the_json_shape() -> None:
    result = RUNNER.invoke(app, ["decode", ECHO_HEX])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["mti"] == "0820"
    assert shown["fields"]["60"] == {"message_type": "00", "batch": "000001", "network_code": "301"}


def test_decode_reads_spaced_hex_from_stdin_with_length_prefix() -> None:
    framed = "00 34\n" + " ".join(ECHO_HEX[i : i + 2] for i in range(0, len(ECHO_HEX), 2))
    result = RUNNER.invoke(app, ["decode", "--length-prefix", "-"], input=framed)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["header"] == "603200990002"


def test_decode_errors_exit_2_with_the_reason() -> None:
    for args in (
        ["decode", "zz"],
        ["decode", ECHO_HEX[:30]],
        ["decode", "--length-prefix", "0001" + ECHO_HEX],
        ["decode", "--dialect", "nope", ECHO_HEX],
    ):
        result = RUNNER.invoke(app, args)
        assert result.exit_code == 2, args
        assert "error:" in result.stderr


def test_encode_round_trips_what_decode_prints() -> None:
    shown = RUNNER.invoke(app, ["decode", ECHO_HEX]).stdout
    result = RUNNER.invoke(app, ["encode", "-"], input=shown)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == ECHO_HEX.lower()
    prefixed = RUNNER.invoke(app, ["encode", "--length-prefix", shown])
    assert prefixed.stdout.strip() == "0034" + ECHO_HEX.lower()


def test_encode_iso87ascii_and_errors() -> None:
    obj = {"mti": "0200", "fields": {"3": "000000", "64": ":".join(["00"] * 8)}}
    result = RUNNER.invoke(app, ["encode", "--dialect", "iso87ascii", json.dumps(obj)])
    assert result.exit_code == 0, result.output
    back = RUNNER.invoke(app, ["decode", "--dialect", "iso87ascii", result.stdout.strip()])
    assert json.loads(back.stdout) == obj
    for bad in ("{", json.dumps({"mti": "0200", "fields": {"3": "1"}})):
        failed = RUNNER.invoke(app, ["encode", "--dialect", "iso87ascii", bad])
        assert failed.exit_code == 2
        assert "error:" in failed.stderr


def test_decode_frame_unwraps_a_serial_frame() -> None:
    frame = pytest.importorskip("terminal.link.frame")
    data = bytes.fromhex(ECHO_HEX)
    framed = frame.encode_frame(data)
    result = RUNNER.invoke(app, ["decode", "--frame", framed.hex()])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["mti"] == "0820"
    bad = bytearray(framed)
    bad[-1] ^= 0xFF  # wrong LRC
    result = RUNNER.invoke(app, ["decode", "--frame", bad.hex()])
    assert result.exit_code == 2
    assert "error:" in result.stderr
