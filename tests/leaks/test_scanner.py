"""The strict scanner finds what an outside one would, hex digests included."""

from __future__ import annotations

import hashlib
import struct
import zlib

from terminal.digest_text import colon_hex
from tests.leaks.scanner import DEFAULT_MODES, Mode, card_like_runs, luhn_valid, scan_bytes

PAN = "6226090000000048"  # the simulator's approved card: Luhn-valid


def _runs(data: bytes, mode: Mode | tuple[Mode, ...] = DEFAULT_MODES) -> list[str]:
    return [digits for _, digits in card_like_runs(data, mode)]


def test_a_card_number_is_found_plain_in_groups_and_inside_other_text():
    assert _runs(f"card {PAN} ok".encode()) == [PAN]
    assert _runs(b"x6226 0900 0000 0048y") == [PAN]
    assert _runs(b'{"n":"6226-0900-0000-0048"}') == [PAN]
    assert _runs(b"\x00\x17sale" + PAN.encode() + b"\xff") == [PAN]


def test_a_grouped_number_is_found_within_a_longer_row_of_groups():
    assert _runs(b"12 6226 0900 0000 0048 77") == [PAN]


def test_runs_that_are_no_card_number_are_passed_over():
    assert _runs(PAN[:-1].encode() + b"9") == []  # the check digit is wrong
    assert _runs(b"0" * 16) == []  # one digit repeated
    assert _runs(b"1" + PAN.encode() + b"0000", Mode.ANCHORED) == []  # 21 digits: too long
    assert _runs(b"6226.0900.0000.0048") == []  # dots are no separator a scanner accepts


def _buried(head: str, tail: str) -> str:
    """``head + PAN + tail`` with the first digit of ``head`` chosen so that the run's first
    19 digits (what an unanchored regex matches first) fail the Luhn check."""
    for digit in "123456789":
        run = digit + head[1:] + PAN + tail
        if not luhn_valid(run[:19]) and not luhn_valid(run[19:]):
            return run
    raise AssertionError("no run found")


def test_an_anchored_scanner_passes_over_a_card_number_inside_a_longer_run():
    run = _buried("317", "52047")  # 24 digits: no card is that long
    assert _runs(run.encode(), Mode.ANCHORED) == []


def test_a_greedy_scanner_checks_the_first_19_digits_of_a_longer_run():
    nineteen = "6226090000000000006"
    assert luhn_valid(nineteen)
    run = f"x{nineteen}52047y".encode()
    assert _runs(run, Mode.ANCHORED) == []
    assert _runs(run, Mode.GREEDY) == [nineteen]
    assert nineteen in _runs(run, Mode.WINDOWS)
    assert _runs(b"61 " + PAN.encode() + b" 1", Mode.GREEDY) == []  # first 19 digits: not valid


def test_a_window_scanner_finds_a_card_number_anywhere_inside_a_longer_run():
    run = _buried("317", "52047")
    assert _runs(run.encode(), Mode.GREEDY) == []  # its matches: 19 digits, then 5
    found = list(card_like_runs(f"ab{run}cd".encode(), Mode.WINDOWS))
    assert (5, PAN) in found  # the offset of the card's first digit
    grouped = f"{run[:7]} {run[7:15]}-{run[15:]}"
    assert PAN in _runs(grouped.encode(), Mode.WINDOWS)


def test_windows_find_what_the_other_modes_find_and_the_default_is_both_regexes():
    samples = [f"card {PAN} ok", "12 6226 0900 0000 0048 77", "x622609000000000000652047y",
               _buried("317", "52047"), "1" + PAN + "0000"]
    for sample in samples:
        every = set(card_like_runs(sample.encode(), Mode.WINDOWS))
        anchored = set(card_like_runs(sample.encode(), Mode.ANCHORED))
        greedy = set(card_like_runs(sample.encode(), Mode.GREEDY))
        assert anchored | greedy <= every
        assert set(card_like_runs(sample.encode())) == anchored | greedy
    assert _runs(b"1" + PAN.encode() + b"0000", Mode.WINDOWS) != []  # the 21-digit run


def test_every_window_of_a_15_digit_merchant_id_is_checked_only_in_window_mode():
    merchant = "898100000000001"  # the simulator's field 42: not Luhn-valid itself
    assert _runs(merchant.encode()) == []
    assert _runs(merchant.encode(), Mode.WINDOWS) == ["98100000000001"]


def test_a_finding_shows_the_run_masked_with_where_it_was():
    [finding] = scan_bytes(f"abc {PAN}".encode(), "out.txt")
    assert (finding.source, finding.offset, finding.length) == ("out.txt", 4, 16)
    assert finding.masked == "622609******0048" and PAN not in str(finding)


def _v3_digest() -> str:
    """A chain hash as schema version 3 kept it (lowercase hex) that a scanner flags: the
    first of SHA-256("0"), SHA-256("1"), ... with a Luhn-valid all-digit stretch."""
    for n in range(10_000):
        digest = hashlib.sha256(str(n).encode()).hexdigest()
        if _runs(digest.encode()):
            return digest
    raise AssertionError("no flagged digest in 10000")


def test_a_hex_digest_as_version_3_stored_it_is_flagged_and_as_version_4_is_not():
    digest = _v3_digest()
    row = b'\x81\x03\x07\x00\x15entries' + digest.encode() + digest[::-1].encode()
    assert scan_bytes(row) != []  # what an outside scanner reported in our journals
    stored = bytes.fromhex(digest)
    assert scan_bytes(b'\x81\x03\x07\x00\x15entries' + stored) == []
    assert scan_bytes(colon_hex(stored).encode()) == []


def test_colon_hex_never_holds_a_run_of_more_than_two_digits():
    assert scan_bytes(colon_hex(bytes.fromhex(PAN)).encode()) == []
    assert max(len(part) for part in colon_hex(bytes(range(48, 58))).split(":")) == 2


def test_text_in_a_png_is_read_compressed_or_not():
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + b"\0\0\0\0"

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", bytes(13))
           + chunk(b"zTXt", b"Comment\0\0" + zlib.compress(f"card {PAN}".encode()))
           + chunk(b"IEND", b""))
    [finding] = scan_bytes(png, "slip.png")
    assert finding.source == "slip.png [zTXt]"
