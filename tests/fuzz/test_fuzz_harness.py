"""The fuzz script (benchmarks/fuzz.py) runs clean on a small count and catches what it should.

The million-input run is a benchmark (its figures are in the notes); here a few
thousand inputs prove the harness reaches past the first checks of every target
and that a target raising anything but ProtocolError, or hanging, is reported.
"""

from __future__ import annotations

import os
import random
import time

import pytest

from benchmarks import fuzz
from terminal.errors import ProtocolError


def test_a_short_run_of_every_target_lets_only_protocol_errors_out():
    report = fuzz.run(2500, seed=7)
    assert report.ok, [(t.name, t.failures) for t in report.targets]
    assert sum(t.inputs for t in report.targets) == 2500
    for target in report.targets:
        # Every target both accepts some inputs and refuses some: the mutations are
        # neither all fatal nor all harmless.
        assert target.accepted > 0, target.name
        assert target.name in ("FrameDecoder", "LinkEndpoint") or target.protocol_errors > 0


def test_the_same_seed_gives_the_same_inputs():
    corpus = fuzz.golden_captures()
    first = list(fuzz.inputs(random.Random("1/x"), corpus, 200))
    again = list(fuzz.inputs(random.Random("1/x"), corpus, 200))
    assert first == again
    assert len(set(first)) > 150


def test_an_exception_other_than_protocol_error_is_a_failure_with_its_input():
    result = fuzz.TargetResult("broken")

    def target(data: bytes, rng: random.Random) -> bool:
        if data == b"bad":
            raise KeyError("boom")
        raise ProtocolError("refused", field="x")

    for data in (b"ok", b"bad", b"ok"):
        fuzz._one(result, target, data, random.Random(0), time_limit=1.0)
    assert result.protocol_errors == 2
    assert result.failure_count == 1
    reason, data = result.failures[0]
    assert data == b"bad" and reason.startswith("KeyError")


@pytest.mark.skipif(os.name != "posix", reason="the per-input alarm is SIGALRM")
def test_an_input_that_runs_past_the_time_limit_is_a_failure():
    result = fuzz.TargetResult("slow")

    def target(data: bytes, rng: random.Random) -> bool:
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            pass
        return True

    fuzz._one(result, target, b"x", random.Random(0), time_limit=0.05)
    assert result.failure_count == 1
    assert "more than 0.05 s" in result.failures[0][0]


def test_the_report_fails_when_memory_grows_past_its_limit():
    report = fuzz.FuzzReport(1, 10, [], [100] * 10 + [100 + 2048], rss_limit=1024)
    assert not report.ok
    lines: list[str] = []
    fuzz.print_report(report, lines.append)
    assert lines[-1] == "FAILED"
