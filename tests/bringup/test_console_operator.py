"""Operator prompts at a console: answered in time, asked again, or reported as nobody there.

The technician types at a real terminal (a pty here, a console window on a shop
PC); what they type late, or what is not an answer, must never decide a check.
"""

from __future__ import annotations

import io
import os
import select
import subprocess
import sys
import threading
import time

import pytest

from terminal.bringup import ConsoleOperator
from terminal.bringup.operator import YES_NO


def _type_later(feeder, text: str, after: float = 0.2) -> threading.Timer:
    def write() -> None:
        feeder.write(text)
        feeder.flush()

    timer = threading.Timer(after, write)
    timer.start()
    return timer


def _console():
    read_end, write_end = os.pipe()
    return os.fdopen(read_end), os.fdopen(write_end, "w"), io.StringIO()


def test_a_prompt_nobody_answers_times_out_with_none_and_says_so():
    stdin, feeder, shown = _console()
    with stdin, feeder:
        operator = ConsoleOperator(stdin, shown)
        assert operator.ask("Insert the test card now", 0.1, context={}) is None
    assert "Insert the test card now (0.1 s) (no answer)" in shown.getvalue()


def test_a_late_answer_to_a_timed_out_prompt_does_not_answer_the_next_one():
    stdin, feeder, shown = _console()
    with stdin, feeder:
        operator = ConsoleOperator(stdin, shown)
        assert operator.ask("Insert the test card now", 0.1, context={}) is None
        feeder.write("y\n")  # typed after "(no answer)": meant for the card prompt
        feeder.flush()
        time.sleep(0.3)  # the reader has it queued
        timer = _type_later(feeder, "n\n")
        answer = operator.ask("Did the receipt print and cut? y/n", 5.0, context={},
                              choices=YES_NO)
        timer.join()
    assert answer == "n"


def test_an_answer_that_is_not_a_choice_is_asked_again_in_the_time_left():
    stdin, feeder, shown = _console()
    with stdin, feeder:
        operator = ConsoleOperator(stdin, shown)
        timer = _type_later(feeder, "maybe\nYES\n")
        answer = operator.ask("Did the receipt print and cut? y/n", 5.0, context={},
                              choices=YES_NO)
        timer.join()
    assert answer == "y"
    assert "please answer y/n" in shown.getvalue()


def test_closed_input_is_no_operator_response_at_once_not_after_the_timeout():
    stdin, feeder, shown = _console()
    with stdin:
        operator = ConsoleOperator(stdin, shown)
        feeder.close()
        started = time.monotonic()
        assert operator.ask("Insert the test card now", 60.0, context={}) is None
        assert operator.ask("Did the receipt print and cut? y/n", 60.0, context={},
                            choices=YES_NO) is None
    assert time.monotonic() - started < 30  # far from the two 60 s timeouts


def _read_until(fd: int, text: bytes, seen: bytearray, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while text not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                seen += os.read(fd, 4096)
            except OSError:  # the child closed its end
                break
    return text in seen


@pytest.mark.skipif(os.name != "posix", reason="a pty stands in for the technician's console")
def test_diag_at_a_real_terminal_takes_enter_for_the_card_and_y_after_a_wrong_answer(tmp_path):
    main, child = os.openpty()
    diag = subprocess.Popen(
        [sys.executable, "-m", "terminal", "diag", "--printer", "virtual://",
         "--prompt-timeout", "30"],
        stdin=child, stdout=child, stderr=child, close_fds=True,
    )
    os.close(child)
    seen = bytearray()
    try:
        assert _read_until(main, b"Insert the test card now (30 s) ", seen), seen.decode()
        os.write(main, b"\n")
        assert _read_until(main, b"Did the receipt print and cut? y/n (30 s) ", seen), \
            seen.decode()
        os.write(main, b"perhaps\n")
        assert _read_until(main, b"please answer y/n", seen), seen.decode()
        os.write(main, b"y\n")
        _read_until(main, b"ALL CHECKS PASSED", seen)
        assert diag.wait(30) == 0, seen.decode()
    finally:
        if diag.poll() is None:
            diag.kill()
            diag.wait()
        os.close(main)
    text = seen.decode()
    assert "[PASS] 5. 0.01 sale and its void" in text
    assert "[PASS] 7. test receipt" in text
    assert "(30 s) (30 s)" not in text
