"""Encode/decode speed of our codec against pyiso8583, printed as a table.

Run: ``.venv/bin/python benchmarks/codec.py`` (throughput table), ``--memory``
(a million decodes of random bitmaps: resident memory and garbage cycles), or
``--profile`` (where the time goes: construct's share, from cProfile).

Like is compared with like, in one process: pyiso8583 encodes from a copy of
its dict of strings (its ``encode`` edits the dict it gets) and decodes to its
dicts; ours builds the :class:`Message` inside the timed call and decodes to
one. Both check lengths, maxima, truncation and trailing bytes; ours also
checks digits and character sets. Every message is first encoded by both and
the bytes compared. The two libraries are interleaved round by round and timed
in CPU seconds (``time.process_time``), best round kept, so a neighbour on a
shared machine slows both alike.

Rows: *warm* repeats one message; *varying* cycles through 10,000 messages
that use 1,000 different bitmaps; *all-unique* gives every message its own
bitmap. ``cup`` has no pyiso8583 counterpart (TPDU, BCD, field 55 parsed into
``IccData``), so it is reported on its own.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import platform
import pstats
import random
import string
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import construct
import iso8583
from iso8583.specs import default as SPEC

from simulator import load_cards
from terminal.protocol import (
    FieldFormat,
    IccData,
    Message,
    Tlv,
    Tpdu,
    decode,
    encode,
    get_dialect,
)

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
SALE: dict[int, Any] = {
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
    41: "10008060",
    42: "898100000000001",
    49: "156",
    55: ICC.to_bytes(),
    64: bytes.fromhex("4432463142464232"),
}
#: A network-management message with a secondary bitmap.
ECHO: dict[int, Any] = {
    7: "0726120000",
    11: "000053",
    70: "301",
    100: "12345678901",
    128: b"\x01" * 8,
}
#: The same sale in the cup dialect: BCD, TPDU and header, 55 as IccData, 60 subfields.
CUP_SALE = Message(
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

ISO = get_dialect("iso87ascii")
CUP = get_dialect("cup")


# -- messages --------------------------------------------------------------------


def _value(fmt: FieldFormat, rnd: random.Random) -> Any:
    """A value for ``fmt``: full length when fixed, 1..12 long when variable."""
    size = fmt.length if not fmt.variable else rnd.randint(1, min(fmt.length, 12))
    if fmt.kind == "b":
        return bytes(rnd.randrange(256) for _ in range(size))
    alphabet = {
        "n": string.digits,
        "z": string.digits + "=",
        "an": string.ascii_letters + string.digits + " ",
        "ans": string.ascii_letters + string.digits + " -./#",
    }[fmt.kind]
    return "".join(rnd.choice(alphabet) for _ in range(size))


def _pyiso_doc(mti: str, fields: dict[int, Any]) -> dict[str, str]:
    doc = {"t": mti}
    for number, value in fields.items():
        doc[str(number)] = value.hex().upper() if isinstance(value, bytes) else str(value)
    return doc


class Case:
    """Messages of one benchmark row, as each library takes and gives them."""

    def __init__(self, label: str, messages: Sequence[tuple[str, dict[int, Any]]]) -> None:
        self.label = label
        self.ours = list(messages)
        shown = {
            id(f): (_pyiso_doc(m, f), encode(Message(m, f), "iso87ascii")) for m, f in messages
        }
        self.docs = [shown[id(fields)][0] for _, fields in messages]
        self.wire = [shown[id(fields)][1] for _, fields in messages]
        self.bitmaps = len({data[4:20] if data[4] & 0x80 else data[4:12] for data in self.wire})
        checked: set[int] = set()
        for (mti, fields), doc, data in zip(self.ours, self.docs, self.wire, strict=True):
            if id(fields) in checked:  # a warm row repeats one message
                continue
            checked.add(id(fields))
            theirs, _ = iso8583.encode(dict(doc), SPEC)
            if bytes(theirs) != data:
                raise SystemExit(f"{label}: our bytes differ from pyiso8583's for {sorted(fields)}")
            if decode(data, "iso87ascii") != Message(mti, fields):
                raise SystemExit(f"{label}: our round trip failed for {sorted(fields)}")

    @property
    def size(self) -> int:
        return sum(map(len, self.wire)) // len(self.wire)


def warm_case(label: str, mti: str, fields: dict[int, Any], count: int) -> Case:
    return Case(label, [(mti, fields)] * count)


def varying_case(label: str, count: int, bitmaps: int, seed: int = 8583) -> Case:
    """``count`` messages cycling through ``bitmaps`` distinct field sets (values
    differ per message too), drawn from every iso87ascii field pyiso8583 shares."""
    rnd = random.Random(seed)
    pool = [number for number in ISO.fields if number != 65]
    sets: set[tuple[int, ...]] = set()
    while len(sets) < bitmaps:
        sets.add(tuple(sorted(rnd.sample(pool, rnd.randint(5, 20)))))
    ordered = sorted(sets)
    messages = []
    for index in range(count):
        numbers = ordered[index % bitmaps]
        messages.append(("0200", {n: _value(ISO.fields[n], rnd) for n in numbers}))
    rnd.shuffle(messages)
    return Case(label, messages)


# -- timing ----------------------------------------------------------------------


def _cpu(run: Callable[[], object]) -> float:
    start = time.process_time()
    run()
    return time.process_time() - start


def interleaved(runs: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Best CPU seconds of each run, the runs taking turns ``repeat`` times."""
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(repeat):
        for name, run in runs.items():
            best[name] = min(best[name], _cpu(run))
    return best


def iso_rows(cases: Iterable[Case], repeat: int) -> list[tuple[str, float, float, float, float]]:
    rows = []
    for case in cases:
        ours, docs, wire = case.ours, case.docs, case.wire

        def their_encode(docs: list[dict[str, str]] = docs) -> None:
            for doc in docs:
                iso8583.encode(dict(doc), SPEC)

        def our_encode(ours: list[tuple[str, dict[int, Any]]] = ours) -> None:
            for mti, fields in ours:
                encode(Message(mti, fields), "iso87ascii")

        def their_decode(wire: list[bytes] = wire) -> None:
            for data in wire:
                iso8583.decode(data, SPEC)

        def our_decode(wire: list[bytes] = wire) -> None:
            for data in wire:
                decode(data, "iso87ascii")

        best = interleaved(
            {"te": their_encode, "oe": our_encode, "td": their_decode, "od": our_decode}, repeat
        )
        n = len(wire)
        rows.append(
            (
                f"{case.label} ({case.size} B, {case.bitmaps} bitmap{'s' * (case.bitmaps > 1)})",
                n / best["te"],
                n / best["td"],
                n / best["oe"],
                n / best["od"],
            )
        )
    return rows


def cup_rates(count: int, repeat: int) -> tuple[float, float, int]:
    data = encode(CUP_SALE, "cup")
    if decode(data, "cup") != CUP_SALE:
        raise SystemExit("cup: round trip failed")
    fields, tpdu, header = CUP_SALE.fields, CUP_SALE.tpdu, CUP_SALE.header

    def our_encode() -> None:
        for _ in range(count):
            encode(Message("0200", fields, tpdu, header), "cup")

    def our_decode() -> None:
        for _ in range(count):
            decode(data, "cup")

    best = interleaved({"oe": our_encode, "od": our_decode}, repeat)
    return count / best["oe"], count / best["od"], len(data)


def throughput(number: int, varying: int, repeat: int) -> int:
    cases = [
        warm_case("warm 0200 sale, 17 fields", "0200", SALE, number),
        warm_case("warm 0800, secondary bitmap", "0800", ECHO, number),
        varying_case("varying", varying, 1000),
        varying_case("all-unique", varying, varying, seed=1987),
    ]
    rows = iso_rows(cases, repeat)
    cup_enc, cup_dec, cup_size = cup_rates(number, repeat)
    print(
        f"Python {platform.python_version()}, construct {construct.version_string}, "
        f"pyiso8583 {iso8583.__version__}; CPU time, best of {repeat} interleaved rounds; "
        f"warm rows {number} messages, varying rows {varying}"
    )
    print()
    print(
        "| iso87ascii | pyiso8583 enc/s | pyiso8583 dec/s | ours enc/s | ours dec/s "
        "| enc × | dec × |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    worst_warm = worst_varying = float("inf")
    for label, te, td, oe, od in rows:
        print(
            f"| {label} | {te / 1000:.1f}k | {td / 1000:.1f}k | {oe / 1000:.1f}k "
            f"| {od / 1000:.1f}k | {oe / te:.2f} | {od / td:.2f} |"
        )
        if label.startswith("warm"):
            worst_warm = min(worst_warm, oe / te, od / td)
        else:
            worst_varying = min(worst_varying, oe / te, od / td)
    print()
    print(f"| cup 0200 sale, 55 parsed ({cup_size} B) | ours enc/s | ours dec/s |")
    print("|---|---:|---:|")
    print(f"| warm | {cup_enc / 1000:.1f}k | {cup_dec / 1000:.1f}k |")
    print()
    print(
        f"worst ratio vs pyiso8583: warm {worst_warm:.2f}× (target 2×), "
        f"varying bitmaps {worst_varying:.2f}× (target 1.5×)"
    )
    return 0


# -- memory ------------------------------------------------------------------------


def _rss_kib() -> int:
    """Resident set size now (Linux ``/proc``), else the peak from ``resource``."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
    except OSError:
        import resource

        return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


class RandomBitmaps:
    """Wire messages with random field sets, put together from pre-encoded fields
    (fast enough to make a million), so every decode sees a fresh bitmap."""

    def __init__(self, seed: int = 4) -> None:
        self.rnd = random.Random(seed)
        self.pool = [number for number in ISO.fields if number != 65]
        self.pieces = {}
        for number in self.pool:
            data = encode(
                Message("0200", {number: _value(ISO.fields[number], self.rnd)}), "iso87ascii"
            )
            self.pieces[number] = data[20:] if number > 64 else data[12:]

    def message(self) -> bytes:
        numbers = sorted(self.rnd.sample(self.pool, self.rnd.randint(3, 16)))
        secondary = numbers[-1] > 64
        bits = (1 << 127) if secondary else 0
        for number in numbers:
            bits |= 1 << (128 - number)
        bitmap = bits.to_bytes(16, "big") if secondary else (bits >> 64).to_bytes(8, "big")
        return b"0200" + bitmap + b"".join(self.pieces[n] for n in numbers)


def memory(count: int) -> int:
    source = RandomBitmaps()
    # Garbage cycles per message: with the collector off, what does a full
    # collection find after a batch?
    batch = [source.message() for _ in range(10_000)]
    messages = [decode(data, "iso87ascii") for data in batch[:10]]
    gc.collect()
    gc.disable()
    try:
        for data in batch:
            decode(data, "iso87ascii")
        decode_cycles = gc.collect()
        for message in messages * 1000:
            encode(message, "iso87ascii")
        encode_cycles = gc.collect()
    finally:
        gc.enable()
    print(
        f"garbage collector: {decode_cycles} object(s) in cycles after 10,000 decodes, "
        f"{encode_cycles} after 10,000 encodes"
    )
    probe = RandomBitmaps()  # the same sequence the measured run below draws
    distinct = len({probe.message()[4:20] for _ in range(100_000)})
    del probe
    gc.collect()
    print(f"distinct bitmaps among the first 100,000 messages: {distinct:,}")
    print()
    print("| decodes of random bitmaps | resident KiB | CPU s |")
    print("|---:|---:|---:|")
    source = RandomBitmaps()
    step = max(1, count // 10)
    start = time.process_time()
    for index in range(1, count + 1):
        decode(source.message(), "iso87ascii")
        if index == 1 or index % step == 0:
            print(f"| {index:,} | {_rss_kib():,} | {time.process_time() - start:.1f} |")
    return 0


# -- profile ----------------------------------------------------------------------


def _category(filename: str) -> str:
    if filename == "":
        return "construct-compiled"  # the module construct's .compile() generates
    if os.sep + "construct" + os.sep in filename:
        return "construct library"
    if os.sep + "terminal" + os.sep + "protocol" + os.sep in filename:
        return "terminal.protocol"
    return "other"


def profile(number: int) -> int:
    """Share of CPU time by who runs it; built-in calls count for their caller."""
    iso_data = encode(Message("0200", SALE), "iso87ascii")
    cup_data = encode(CUP_SALE, "cup")
    work = {
        "iso87ascii decode": lambda: decode(iso_data, "iso87ascii"),
        "iso87ascii encode": lambda: encode(Message("0200", SALE), "iso87ascii"),
        "cup decode (55 parsed)": lambda: decode(cup_data, "cup"),
        "cup encode": lambda: encode(
            Message("0200", CUP_SALE.fields, CUP_SALE.tpdu, CUP_SALE.header), "cup"
        ),
    }
    categories = ["construct library", "construct-compiled", "terminal.protocol", "other"]
    print(f"| {number} calls | " + " | ".join(categories) + " |")
    print("|---|" + "---:|" * len(categories))
    for label, call in work.items():
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(number):
            call()
        profiler.disable()
        stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
        spent = dict.fromkeys(categories, 0.0)
        for (filename, _, _), (_, _, own, _, callers) in stats.items():
            if filename == "~":  # a built-in: charge each caller its part
                for (caller_file, _, _), (_, _, part, _) in callers.items():
                    spent[_category(caller_file)] += part
            else:
                spent[_category(filename)] += own
        total = sum(spent.values()) or 1.0
        print(f"| {label} | " + " | ".join(f"{spent[c] / total:.0%}" for c in categories) + " |")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=20_000, help="messages per warm row")
    parser.add_argument("--varying", type=int, default=10_000, help="messages per varying row")
    parser.add_argument("--repeat", type=int, default=5, help="interleaved rounds")
    parser.add_argument(
        "--memory",
        type=int,
        nargs="?",
        const=1_000_000,
        default=0,
        help="decode this many random bitmaps (default 1,000,000)",
    )
    parser.add_argument(
        "--profile",
        type=int,
        nargs="?",
        const=5_000,
        default=0,
        help="profile this many calls of each kind (default 5,000)",
    )
    args = parser.parse_args(argv)
    if args.memory:
        return memory(args.memory)
    if args.profile:
        return profile(args.profile)
    return throughput(args.number, args.varying, args.repeat)


if __name__ == "__main__":
    sys.exit(main())
