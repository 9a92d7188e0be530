"""Fuzz the decoders and the link: random and mutated inputs, only ProtocolError may escape.

Run: ``.venv/bin/python benchmarks/fuzz.py [--count 1000000] [--seed N] [--save DIR]``.

Five targets share the count, all through the public API:

* ``decode/cup`` and ``decode/iso87ascii``: :func:`terminal.protocol.decode`; what
  decodes must re-encode and decode to the same message (a round-trip check).
* ``decode_frame``: one whole frame; when it is good, :class:`FrameDecoder` fed the
  same bytes in random slices must report the same DATA first (a differential check).
* ``FrameDecoder``: the same bytes in random slices and in one piece give the same
  events, whatever the input.
* ``LinkEndpoint``: random slices, clock jumps, polls and sends on a fake clock.

Inputs are the golden captures (tests/protocol/test_golden.py), encoded valid
messages of both dialects and their frames, each mutated 1-4 times (bit flips,
interesting bytes, inserts, deletes, truncation, duplication, splices), plus
purely random bytes. A fixed seed (printed) makes every run reproducible; the
input of each failure is printed in hex (and saved with ``--save``). Each input
runs under a wall-clock alarm (``--time-limit``); resident memory is sampled and
must stay flat. Exit status 1 when anything failed.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import os
import platform
import random
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from terminal.clock import FakeClock
from terminal.errors import ProtocolError
from terminal.link import (
    ACK,
    NAK,
    FrameDecoder,
    LinkEndpoint,
    LinkTimers,
    SendState,
    decode_frame,
    encode_frame,
)
from terminal.protocol import IccData, Message, Tlv, Tpdu, decode, encode, strip_length_prefix

__all__ = ["FuzzReport", "TargetResult", "main", "run"]

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SEED = 20261128
DEFAULT_COUNT = 1_000_000
#: Share of the count per target.
WEIGHTS = {
    "decode/cup": 3,
    "decode/iso87ascii": 2,
    "decode_frame": 1,
    "FrameDecoder": 2,
    "LinkEndpoint": 2,
}
INTERESTING = (0x00, 0x01, 0x02, 0x03, 0x06, 0x09, 0x15, 0x30, 0x39, 0x7F, 0x80, 0x99, 0x9F, 0xFF)


class InputTimeout(BaseException):
    """One input ran past the time limit (a BaseException so no ``except Exception`` eats it)."""


@dataclasses.dataclass
class TargetResult:
    """What one target did with its share of the inputs."""

    name: str
    inputs: int = 0
    accepted: int = 0  # decoded / produced at least one event or message
    protocol_errors: int = 0
    failures: list[tuple[str, bytes]] = dataclasses.field(default_factory=list)
    failure_count: int = 0
    slowest: float = 0.0
    seconds: float = 0.0


@dataclasses.dataclass
class FuzzReport:
    """The whole run: per-target results and the memory samples (bytes of RSS)."""

    seed: int
    count: int
    targets: list[TargetResult]
    rss_samples: list[int]
    rss_limit: int

    @property
    def rss_growth(self) -> int:
        """RSS at the end minus RSS once warmed up (after the first tenth of the samples)."""
        if len(self.rss_samples) < 2:
            return 0
        warm = self.rss_samples[max(1, len(self.rss_samples) // 10) - 1]
        return self.rss_samples[-1] - warm

    @property
    def ok(self) -> bool:
        return all(t.failure_count == 0 for t in self.targets) and self.rss_growth <= self.rss_limit


# -- seeds --------------------------------------------------------------------


def golden_captures() -> list[bytes]:
    """The two real CUP captures of the reference, without their TCP length prefix."""
    path = REPO / "tests" / "protocol" / "test_golden.py"
    spec = importlib.util.spec_from_file_location("_golden_captures", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [strip_length_prefix(module.SALE), module.ECHO]


def _test_card(separator: str) -> tuple[str, str]:
    """PAN and a track 2 of the simulator's approved test card (never written here)."""
    from simulator import load_cards

    card = load_cards()["approved"]
    return card.pan, f"{card.pan}{separator}{card.expiry}2010000"


def valid_messages(dialect: str) -> list[bytes]:
    """Encoded valid requests and responses of ``dialect``."""
    pan, track2 = _test_card("D" if dialect == "cup" else "=")
    icc = IccData((Tlv("9F26", bytes(8)), Tlv("9F27", b"\x80"), Tlv("95", bytes(5)),
                   Tlv("9F10", bytes(range(18)))))
    common = {41: "10008060", 42: "898100000000001", 11: "000123"}
    messages: list[Message]
    if dialect == "cup":
        tpdu, header = Tpdu(0x60, 0x0006, 0x0000), "603200320002"
        sixty = {"message_type": "22", "batch": "000001", "network_code": "000"}
        messages = [
            Message("0200", {**common, 2: pan, 3: "000000", 4: "000000001234", 22: "051",
                             25: "00", 35: track2, 49: "156", 55: icc, 60: sixty}, tpdu, header),
            Message("0210", {**common, 2: pan, 3: "000000", 4: "000000001234", 12: "103015",
                             13: "0314", 25: "00", 37: "123456789012", 38: "A1B2C3",
                             39: "00", 49: "156", 60: sixty}, tpdu, header),
            Message("0800", {**common, 60: {"message_type": "00", "batch": "000001",
                                            "network_code": "001"}}, tpdu, header),
            Message("0820", {**common}, tpdu, header),
        ]
    else:
        messages = [
            Message("0200", {**common, 2: pan, 3: "000000", 4: "000000001234",
                             35: track2, 49: "156", 55: encode_icc(icc)}),
            Message("0210", {**common, 3: "000000", 4: "000000001234", 37: "123456789012",
                             39: "00", 49: "156"}),
            Message("0800", {**common, 70: "001"}),
        ]
    return [encode(message, dialect) for message in messages]


def encode_icc(icc: IccData) -> bytes:
    """``icc`` as plain bytes (iso87ascii keeps field 55 as bytes)."""
    return icc.to_bytes()


def frame_seeds(messages: list[bytes]) -> list[bytes]:
    """Frames of ``messages``, lone ACK/NAK, and frames back to back with answers between."""
    frames = [encode_frame(m) for m in messages]
    seeds = [*frames, bytes([ACK]), bytes([NAK]), encode_frame(b"")]
    seeds.append(bytes([ACK]) + frames[0] + bytes([NAK]) + frames[-1])
    seeds.append(frames[0] + frames[0])
    return seeds


# -- mutation -------------------------------------------------------------------


def mutate(rng: random.Random, data: bytes, corpus: list[bytes]) -> bytes:
    """``data`` changed 1-4 times by the mutators below (a copy; ``data`` is left alone)."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        _MUTATORS[rng.randrange(len(_MUTATORS))](rng, out, corpus)
    return bytes(out)


def _flip_bit(rng: random.Random, out: bytearray, corpus: list[bytes]) -> None:
    if out:
        out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)


def _random_byte(rng: random.Random, out: bytearray, corpus: list[bytes]) -> None:
    if out:
        out[rng.randrange(len(out))] = rng.randrange(256)


def _interesting_byte(rng: random.Random, out: bytearray, corpus: list[bytes]) -> None:
    if out:
        out[rng.randrange(len(out))] = rng.choice(INTERESTING)


def _insert(rng: random.Random, out: bytearray, corpus: list[bytes]) -> None:
    at = rng.randint(0, len(out))
    out[at:at] = rng.randbytes(rng.randint(1, 8))


def _delete(rng: random.Random, out: bytearray, corpus: list[bytes]) -> None:
    if out:
        at = rng.randrange(len(out))
        del out[at : at + rng.randint(1, 16)]


def _truncate(rng: random.Random, out: bytearray, corpus: list[bytes]) -> None:
    del out[rng.randint(0, len(out)) :]


def _duplicate(rng: random.Random, out: bytearray, corpus: list[bytes]) -> None:
    if out:
        at = rng.randrange(len(out))
        chunk = out[at : at + rng.randint(1, 32)]
        where = rng.randint(0, len(out))
        out[where:where] = chunk


def _splice(rng: random.Random, out: bytearray, corpus: list[bytes]) -> None:
    other = rng.choice(corpus)
    cut, other_cut = rng.randint(0, len(out)), rng.randint(0, len(other))
    out[cut:] = other[other_cut:]


_MUTATORS: tuple[Callable[[random.Random, bytearray, list[bytes]], None], ...] = (
    _flip_bit, _flip_bit, _random_byte, _interesting_byte, _interesting_byte,
    _insert, _delete, _truncate, _duplicate, _splice,
)


def inputs(
    rng: random.Random, corpus: list[bytes], count: int, payloads: list[bytes] | None = None
) -> Iterator[bytes]:
    """``count`` inputs: the seeds as they are, then a fifth random bytes, the rest mutated.

    With ``payloads`` (for the frame targets) a third of the mutated inputs are
    good frames around a mutated payload, so the checks past the LRC get exercised.
    """
    for i in range(count):
        roll = rng.random()
        if i < len(corpus):
            yield corpus[i]
        elif roll < 0.2:
            yield rng.randbytes(rng.randint(0, 300))
        elif payloads and roll < 0.45:
            yield encode_frame(mutate(rng, rng.choice(payloads), payloads)[:9999])
        else:
            yield mutate(rng, rng.choice(corpus), corpus)


# -- targets: each raises only ProtocolError, or AssertionError for a broken property ----


def check_decode(dialect: str) -> Callable[[bytes, random.Random], bool]:
    def target(data: bytes, rng: random.Random) -> bool:
        message = decode(data, dialect)
        again = decode(encode(message, dialect), dialect)
        assert again == message, "decoded message does not survive encode/decode"
        return True

    return target


def check_decode_frame(data: bytes, rng: random.Random) -> bool:
    payload = decode_frame(data)
    events = _feed_in_slices(FrameDecoder(), data, rng)
    assert events and getattr(events[0], "data", None) == payload, (
        "FrameDecoder disagrees with decode_frame on a good frame"
    )
    return True


def check_frame_decoder(data: bytes, rng: random.Random) -> bool:
    whole = FrameDecoder().feed(data, 0.0)
    sliced = _feed_in_slices(FrameDecoder(), data, rng)
    assert whole == sliced, "events depend on how the bytes were sliced"
    return bool(whole)


def check_link_endpoint(data: bytes, rng: random.Random) -> bool:
    clock = FakeClock()
    timers = LinkTimers()
    endpoint = LinkEndpoint(timers, clock)
    got = False
    at = 0
    while at < len(data):
        step = rng.randint(1, 64)
        endpoint.feed(data[at : at + step])
        at += step
        if rng.random() < 0.3:
            clock.advance(rng.random() * timers.ack_timeout * 1.5)
            endpoint.poll()
        if rng.random() < 0.1 and endpoint.send_state is not SendState.WAITING_ACK:
            endpoint.send(data[: rng.randint(0, 64)])
        out = endpoint.data_to_write()
        assert isinstance(out, bytes)
        while (message := endpoint.pop_message()) is not None:
            assert isinstance(message, bytes)
            got = True
    deadline = endpoint.next_deadline()
    if deadline is not None:
        clock.advance(max(0.0, deadline - clock.now()) + timers.ack_timeout * timers.max_sends)
        endpoint.poll()
        endpoint.data_to_write()
    assert endpoint.send_state is not SendState.WAITING_ACK or endpoint.next_deadline(), (
        "endpoint awaits an ACK with no timer running"
    )
    return got


def _feed_in_slices(decoder: FrameDecoder, data: bytes, rng: random.Random) -> list[object]:
    events: list[object] = []
    at = 0
    while at < len(data):
        step = rng.randint(1, 16)
        events += decoder.feed(data[at : at + step], 0.0)
        at += step
    return events


# -- the run ---------------------------------------------------------------------------


def run(
    count: int,
    seed: int,
    *,
    time_limit: float = 0.5,
    rss_limit: int = 32 * 1024 * 1024,
    progress: Callable[[str], None] | None = None,
) -> FuzzReport:
    """Fuzz every target with ``count`` inputs in all (shared by :data:`WEIGHTS`)."""
    cup = [*golden_captures(), *valid_messages("cup")]
    ascii87 = valid_messages("iso87ascii")
    frames = frame_seeds(cup)
    Target = Callable[[bytes, random.Random], bool]
    plan: list[tuple[str, Target, list[bytes], list[bytes] | None]] = [
        ("decode/cup", check_decode("cup"), cup, None),
        ("decode/iso87ascii", check_decode("iso87ascii"), ascii87, None),
        ("decode_frame", check_decode_frame, frames, cup),
        ("FrameDecoder", check_frame_decoder, frames, cup),
        ("LinkEndpoint", check_link_endpoint, frames, cup),
    ]
    total_weight = sum(WEIGHTS.values())
    results: list[TargetResult] = []
    rss: list[int] = []
    for index, (name, target, corpus, payloads) in enumerate(plan):
        share = count * WEIGHTS[name] // total_weight
        if index == len(plan) - 1:
            share = count - sum(r.inputs for r in results)
        rng = random.Random(f"{seed}/{name}")
        result = TargetResult(name)
        started = time.perf_counter()
        for i, data in enumerate(inputs(rng, corpus, share, payloads)):
            _one(result, target, data, rng, time_limit)
            if i % 10_000 == 0:
                rss.append(resident_bytes())
        result.seconds = time.perf_counter() - started
        results.append(result)
        if progress:
            progress(f"{name}: {result.inputs} inputs in {result.seconds:.1f} s")
    rss.append(resident_bytes())
    return FuzzReport(seed, count, results, rss, rss_limit)


def _one(
    result: TargetResult,
    target: Callable[[bytes, random.Random], bool],
    data: bytes,
    rng: random.Random,
    time_limit: float,
) -> None:
    result.inputs += 1
    started = time.perf_counter()
    try:
        with _alarm(time_limit):
            if target(data, rng):
                result.accepted += 1
    except ProtocolError:
        result.protocol_errors += 1
    except InputTimeout:
        _fail(result, data, f"took more than {time_limit} s")
    except Exception as exc:
        where = traceback.extract_tb(exc.__traceback__)[-1]
        _fail(result, data, f"{type(exc).__name__}: {exc} ({Path(where.filename).name}:"
                            f"{where.lineno})")
    elapsed = time.perf_counter() - started
    result.slowest = max(result.slowest, elapsed)


def _fail(result: TargetResult, data: bytes, reason: str) -> None:
    result.failure_count += 1
    if len(result.failures) < 20:
        result.failures.append((reason, data))


@contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    """Raise :class:`InputTimeout` in this thread after ``seconds`` (POSIX main thread only)."""
    if not hasattr(signal, "setitimer") or os.name != "posix":
        yield
        return
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _on_alarm(signum: int, frame: object) -> None:
    raise InputTimeout


def resident_bytes() -> int:
    """This process's resident set size now (Linux ``/proc``; peak RSS elsewhere)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def print_report(report: FuzzReport, out: Callable[[str], None] = print) -> None:
    out(f"seed {report.seed}, {report.count} inputs, Python {platform.python_version()}")
    out("")
    out(f"{'target':<18} {'inputs':>9} {'accepted':>9} {'ProtocolError':>14} "
        f"{'failures':>9} {'slowest ms':>11} {'µs/input':>9}")
    for t in report.targets:
        per = t.seconds / t.inputs * 1e6 if t.inputs else 0.0
        out(f"{t.name:<18} {t.inputs:>9} {t.accepted:>9} {t.protocol_errors:>14} "
            f"{t.failure_count:>9} {t.slowest * 1000:>11.2f} {per:>9.1f}")
    mib = 1024 * 1024
    samples = report.rss_samples
    out("")
    out(f"RSS {samples[0] / mib:.1f} MiB at start, {samples[-1] / mib:.1f} MiB at end, "
        f"growth after warm-up {report.rss_growth / mib:+.1f} MiB "
        f"(limit {report.rss_limit / mib:.0f} MiB)")
    for t in report.targets:
        for reason, data in t.failures:
            out(f"FAIL {t.name}: {reason}\n     input {data.hex()}")
    out("OK" if report.ok else "FAILED")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--time-limit", type=float, default=0.5, help="seconds per input")
    parser.add_argument("--save", type=Path, help="write each failing input here as .bin")
    args = parser.parse_args(argv)
    print(f"fuzzing with seed {args.seed} (reproduce: --seed {args.seed} --count {args.count})",
          flush=True)
    report = run(args.count, args.seed, time_limit=args.time_limit,
                 progress=lambda line: print(line, file=sys.stderr, flush=True))
    print_report(report)
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
        for t in report.targets:
            for n, (_, data) in enumerate(t.failures):
                (args.save / f"{t.name.replace('/', '_')}-{n}.bin").write_bytes(data)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
