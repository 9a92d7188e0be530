"""``terminal decode`` / ``encode``: card data masked by default, in output and error texts."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from terminal.cli.app import app
from terminal.protocol import IccData, Message, Tlv, Tpdu, decode, encode

runner = CliRunner()
PAN = "6214830117451467"  # the golden-vector test card
TRACK2 = f"{PAN}D25122011234567890"
PIN_BLOCK = bytes.fromhex("A1B2C3D4E5F60718")
CHIP = IccData((Tlv("5A", bytes.fromhex(PAN)), Tlv("57", bytes.fromhex(f"{PAN}D251220F")),
                Tlv("9F26", bytes(8))))


def _message(dialect: str = "cup") -> bytes:
    fields = {2: PAN, 3: "000000", 4: "000000001234", 11: "000001", 22: "051", 25: "00",
              35: TRACK2, 41: "10008060", 42: "898100000000001", 49: "156", 52: PIN_BLOCK,
              55: CHIP, 60: {"message_type": "22", "batch": "000001"}}
    if dialect == "cup":
        return encode(Message("0200", fields, tpdu=Tpdu.fromhex("6000060000"),
                              header="603200320002"))
    track1 = f"B{PAN}^TEST/CARD^2512201000000000"
    plain = {2: PAN, 3: "000000", 4: "000000001234", 11: "000001", 35: TRACK2.replace("D", "="),
             45: track1, 52: PIN_BLOCK}
    return encode(Message("0200", plain), dialect)


def _secrets() -> list[str]:
    """Text that would show card data: the PAN's middle, the track's tail, the PIN block."""
    return [PAN[6:12], "0117451467", "2011234567890", PIN_BLOCK.hex(), "e5f60718",
            "01 17 45", "c3 d4 e5", "12 34 56 78"]


def _leaks(text: str) -> list[str]:
    return [secret for secret in _secrets() if secret in text.lower()]


def test_decode_masks_pan_tracks_pin_block_and_chip_card_number():
    outcome = runner.invoke(app, ["decode", _message().hex()])
    assert outcome.exit_code == 0, outcome.output
    fields = json.loads(outcome.stdout)["fields"]
    assert fields["2"] == "621483******1467"
    assert fields["35"] == "621483******1467" + "*" * (len(TRACK2) - 16)
    assert fields["52"] == ":".join(["**"] * 8)
    assert fields["55"]["5A"] == "621483******1467"
    assert fields["55"]["57"].startswith("621483******1467") and set(fields["55"]["57"][16:]) == {
        "*"}
    assert fields["55"]["9F26"] == "0000000000000000"  # what is not card data stays
    assert _leaks(outcome.stdout) == []


def test_decode_masks_track_1_in_the_ascii_dialect():
    message = _message("iso87ascii").hex()
    outcome = runner.invoke(app, ["decode", "--dialect", "iso87ascii", message])
    assert outcome.exit_code == 0, outcome.output
    fields = json.loads(outcome.stdout)["fields"]
    assert fields["45"].startswith("B621483******1467") and "TEST/CARD" not in fields["45"]
    assert _leaks(outcome.stdout) == []


def test_reveal_shows_card_data_in_clear():
    outcome = runner.invoke(app, ["decode", "--reveal", _message().hex()])
    fields = json.loads(outcome.stdout)["fields"]
    assert (fields["2"], fields["35"], fields["52"]) == (PAN, TRACK2, PIN_BLOCK.hex(":").upper())
    assert fields["55"]["5A"] == PAN


def test_encode_takes_what_decode_printed_masked_or_revealed():
    data = _message()
    masked = runner.invoke(app, ["decode", data.hex()]).stdout
    revealed = runner.invoke(app, ["decode", "--reveal", data.hex()]).stdout
    from_revealed = runner.invoke(app, ["encode", revealed])
    assert from_revealed.exit_code == 0, from_revealed.output
    assert from_revealed.stdout.strip() == data.hex()
    from_masked = runner.invoke(app, ["encode", masked])
    assert from_masked.exit_code == 0, from_masked.output
    again = decode(bytes.fromhex(from_masked.stdout.strip()))
    assert again[2] == "6214830000001467" and again[4] == "000000001234"
    assert again[52] == bytes(8)


def _corruptions(data: bytes):
    for index in range(len(data)):
        for byte in (0xFF, 0xAA):
            if data[index] != byte:
                yield index, data[:index] + bytes([byte]) + data[index + 1 :]


def test_no_decode_error_text_shows_card_data():
    data = _message()
    checked = 0
    for index, broken in _corruptions(data):
        outcome = runner.invoke(app, ["decode", broken.hex(), "--json"])
        if outcome.exit_code == 0:
            continue
        checked += 1
        assert _leaks(outcome.output) == [], (index, outcome.stderr)
    assert checked > 100  # the sweep really produced errors to look at


def test_reveal_shows_the_bytes_around_a_fault():
    data = _message()
    at = data.index(bytes.fromhex("000000000000001234")) + 3  # inside field 4
    broken = data[:at] + b"\xff" + data[at + 1 :]
    masked = runner.invoke(app, ["decode", broken.hex()])
    revealed = runner.invoke(app, ["decode", "--reveal", broken.hex()])
    assert masked.exit_code == revealed.exit_code == 2
    assert "field 4" in masked.stderr and ">ff<" in masked.stderr
    assert "**" in masked.stderr and "14 67" not in masked.stderr
    assert "14 67" in revealed.stderr  # the PAN's last bytes, before the fault


def test_an_encode_error_does_not_quote_a_card_number():
    obj = {"mti": "0200", "fields": {"2": PAN, "35": f"{PAN}=2512X"}}
    outcome = runner.invoke(app, ["encode", "--dialect", "iso87ascii", json.dumps(obj)])
    assert outcome.exit_code == 2
    assert "field 35" in outcome.stderr
    assert PAN not in outcome.stderr and "0117451467" not in outcome.stderr


@pytest.mark.parametrize("command", [["decode", "--help"], ["encode", "--help"]],
                         ids=["decode", "encode"])
def test_help_explains_reveal(command):
    outcome = runner.invoke(app, command, terminal_width=200)
    assert "--reveal" in outcome.stdout
