"""Encode/decode throughput of our codec against pyiso8583, printed as a table.

Run: ``.venv/bin/python benchmarks/codec.py [--number N] [--repeat R]``.
Like is compared with like: pyiso8583 encodes from, and decodes to, its dict
of strings (a copy per encode, since its ``encode`` edits the dict it gets);
ours from/to a :class:`Message`. Both validate lengths, maxima and trailing
bytes; ours also checks digits and character sets. Best of ``repeat`` runs.
"""

from __future__ import annotations

import argparse
import platform
import random
import sys
import time
import timeit
from collections.abc import Callable

import construct
import iso8583
from iso8583.specs import default as SPEC

from simulator import load_cards
from terminal.protocol import IccData, Message, Tlv, Tpdu, decode, encode
from terminal.protocol.codec import codec_for

# The chip data of the reference's 0200 sale (shared/reference/cup-golden.md), tag by
# tag: 19 tags, 138 bytes of BER-TLV.
ICC = IccData(
    tuple(
        Tlv(tag, bytes.fromhex(value))
        for tag, value in (
            ("9F26", "ACF958C80FF74403"),
            ("9F27", "80"),
            ("9F10", "07010103A0A802010A010000000000328E7BDA"),
            ("9F37", "5FEA9AF8"),
            ("9F36", "0196"),
            ("95", "008004E000"),
            ("9A", "160726"),
            ("9C", "00"),
            ("9F02", "000000000001"),
            ("5F2A", "0156"),
            ("82", "7C00"),
            ("9F1A", "0156"),
            ("9F33", "E0F0C8"),
            ("9F34", "420300"),
            ("9F35", "22"),
            ("84", "A000000333010101"),
            ("9F09", "0030"),
            ("9F1E", b"50703665".hex()),  # IFD serial number, ASCII
            ("9F03", "000000000000"),
        )
    )
)
# The simulator's approved test card: no card number is written here.
CARD = load_cards()["approved"]

#: A 17-field 0200 like the reference's: field 55 a ~140-byte TLV, 64 a MAC.
SALE = {
    2: CARD.pan,
    3: "000000",
    4: "000000001234",
    7: "0726120000",
    11: "000052",
    12: "120000",
    13: "0726",
    14: "2403",
    22: "051",
    23: "000",
    25: "00",
    35: f"{CARD.pan}={CARD.expiry}2201196300759631",
    37: "000000123456",
    41: "10008060",
    42: "898100000000001",
    49: "156",
    55: ICC.to_bytes(),
    64: bytes.fromhex("4432463142464232"),
}
del SALE[37]  # 17 fields
#: A network-management message with a secondary bitmap.
ECHO = {7: "0726120000", 11: "000053", 70: "301", 100: "12345678901", 128: b"\x01" * 8}


def _iso_dict(mti: str, fields: dict[int, object]) -> dict[str, str]:
    doc = {"t": mti}
    for number, value in fields.items():
        doc[str(number)] = value.hex().upper() if isinstance(value, bytes) else str(value)
    return doc


def best(func: Callable[[], object], number: int, repeat: int) -> float:
    """Messages per second of the best of ``repeat`` runs of ``number`` calls."""
    return number / min(timeit.repeat(func, number=number, repeat=repeat))


def first_sight(count: int = 100) -> tuple[float, float]:
    """Microseconds to decode a message whose bitmap the codec has never seen (the
    plan's Struct is built and compiled), and to decode the same messages again
    (cached): the cold path, which the throughput table does not show."""
    rnd = random.Random(8583)
    seen = codec_for("iso87ascii").plans.by_bitmap
    numbers = sorted(SALE)
    wire: dict[bytes, bytes] = {}
    while len(wire) < count:
        chosen = rnd.sample(numbers, rnd.randint(6, len(numbers)))
        data = encode(Message("0200", {n: SALE[n] for n in chosen}), "iso87ascii")
        bitmap = data[4:12]
        if bitmap not in seen:
            wire[bitmap] = data
    messages = list(wire.values())
    start = time.perf_counter()
    for data in messages:
        decode(data, "iso87ascii")
    cold = time.perf_counter() - start
    start = time.perf_counter()
    for data in messages:
        decode(data, "iso87ascii")
    warm = time.perf_counter() - start
    return cold / count * 1e6, warm / count * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    n, r = args.number, args.repeat

    rows = []
    for name, mti, fields in (
        ("0200 sale, 17 fields", "0200", SALE),
        ("0800, secondary", "0800", ECHO),
    ):
        message = Message(mti, fields)
        ours = encode(message, "iso87ascii")
        doc = _iso_dict(mti, fields)
        theirs, _ = iso8583.encode(dict(doc), SPEC)
        if bytes(theirs) != ours:
            print(f"{name}: our bytes differ from pyiso8583's", file=sys.stderr)
            return 1
        if decode(ours, "iso87ascii") != message:
            print(f"{name}: our round trip failed", file=sys.stderr)
            return 1
        their_enc = best(lambda doc=doc: iso8583.encode(dict(doc), SPEC), n, r)
        their_dec = best(lambda data=ours: iso8583.decode(data, SPEC), n, r)
        our_enc = best(lambda m=message: encode(m, "iso87ascii"), n, r)
        our_dec = best(lambda data=ours: decode(data, "iso87ascii"), n, r)
        rows.append((f"{name} ({len(ours)} B)", their_enc, their_dec, our_enc, our_dec))

    cup_message = Message(
        "0200",
        {
            **{k: v for k, v in SALE.items() if k not in (7, 12, 13)},
            35: SALE[35].replace("=", "D"),
            55: ICC,
            60: {"message_type": "22", "batch": "000006", "network_code": "000"},
        },
        Tpdu(0x60, 6, 0),
        "603200320002",
    )
    cup_bytes = encode(cup_message, "cup")
    assert decode(cup_bytes, "cup") == cup_message
    cup_enc = best(lambda: encode(cup_message, "cup"), n, r)
    cup_dec = best(lambda: decode(cup_bytes, "cup"), n, r)

    print(
        f"Python {platform.python_version()}, construct {construct.version_string}, "
        f"pyiso8583 {iso8583.__version__}; best of {r} x {n} messages"
    )
    print()
    print(
        "| message | pyiso8583 enc/s | pyiso8583 dec/s | ours enc/s | ours dec/s | enc x | dec x |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    worst = float("inf")
    for label, te, td, oe, od in rows:
        print(
            f"| iso87ascii {label} | {te / 1000:.1f}k | {td / 1000:.1f}k | {oe / 1000:.1f}k "
            f"| {od / 1000:.1f}k | {oe / te:.2f} | {od / td:.2f} |"
        )
        worst = min(worst, oe / te, od / td)
    print(
        f"| cup 0200 sale, TLV 55 parsed ({len(cup_bytes)} B) | - | - | {cup_enc / 1000:.1f}k "
        f"| {cup_dec / 1000:.1f}k | - | - |"
    )
    cold, warm = first_sight()
    print()
    print(
        f"first sight: decoding an iso87ascii 0200 with a never-seen bitmap takes {cold:.0f} µs "
        f"(plan built and compiled; {warm:.0f} µs once cached), mean of 100 bitmaps"
    )
    print(f"worst ratio vs pyiso8583: {worst:.2f}x (target 1.5x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
