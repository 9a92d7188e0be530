"""The bring-up checks, in the order a technician works: each needs the ones before it.

port opens with its settings → link answers (NAK to a broken frame) → sign-on
(terminal id, batch, keys) → echo → a 0.01 sale and its void → printer status →
a test receipt. A check whose prerequisite did not pass is skipped with the
reason; a check that passes records its measurements with their limits.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from terminal.bringup.bench import Bench
from terminal.bringup.model import CheckResult, Measurement, Outcome
from terminal.bringup.operator import YES_NO
from terminal.errors import LinkError, ProtocolError, TerminalError
from terminal.journal import staff
from terminal.link import NAK, encode_frame
from terminal.protocol import Message, decode
from terminal.transactions.client import TerminalClient
from terminal.transactions.errors import TransactionInDoubt
from terminal.transactions.result import TransactionResult
from terminal.transactions.rules import Refused, Rule

__all__ = ["CHECKS", "Check", "CheckFailed", "CheckSkipped", "run_check"]

NO_OPERATOR = "no operator response"
#: The test sale: 0.01 yuan.
TEST_AMOUNT_FEN = 1
RTT_LIMIT_MS = 3000.0
RESENDS_LIMIT = 1


class CheckFailed(Exception):
    """The device did not do what the check needs; the message is the technician's hint."""


class CheckSkipped(Exception):
    """The check could not be made (nothing to check, nobody answered); the reason."""


@dataclass(frozen=True, slots=True)
class Check:
    """One step: ``run`` returns its measurements or raises CheckFailed/CheckSkipped."""

    name: str
    title: str
    run: Callable[[Bench], list[Measurement]]
    requires: tuple[str, ...] = ()


def run_check(bench: Bench, number: int, check: Check, done: dict[str, Outcome]) -> CheckResult:
    """Run ``check`` unless a prerequisite in ``done`` (name → outcome) did not pass."""
    missing = [name for name in check.requires if done.get(name) is not Outcome.PASS]
    if missing:
        titles = ", ".join(_TITLES.get(name, name) for name in missing)
        return CheckResult(number, check.name, check.title, Outcome.SKIP,
                           f"skipped: needs {titles}, which did not pass")
    transcript = bench.transcript(number, check.name)
    started = time.monotonic()
    measurements: list[Measurement] = []
    try:
        measurements = check.run(bench)
    except CheckFailed as exc:
        outcome, hint = Outcome.FAIL, str(exc)
    except CheckSkipped as exc:
        outcome, hint = Outcome.SKIP, str(exc)
    except TerminalError as exc:
        outcome, hint = Outcome.FAIL, f"{type(exc).__name__}: {exc}"
    except Exception as exc:  # a bug of ours must not hide the checks after it
        outcome, hint = Outcome.FAIL, f"unexpected {type(exc).__name__} in the check: {exc}"
    else:
        bad = [m for m in measurements if m.outcome is Outcome.FAIL]
        outcome = Outcome.FAIL if bad else Outcome.PASS
        hint = "; ".join(m.text() for m in bad)
    return CheckResult(number, check.name, check.title, outcome, hint,
                       time.monotonic() - started, measurements, str(transcript))


# -- the checks ---------------------------------------------------------------------


def port_opens(bench: Bench) -> list[Measurement]:
    from terminal.transport import open_port

    line = bench.settings.serial  # the config file's [serial] table, 9600 8N1 by default
    try:
        port = open_port(bench.settings.port, **line.as_port_options())
    except TerminalError as exc:
        raise CheckFailed(f"{exc} — check the port name, the cable, and that no other "
                          "program has the port open") from None
    bench.attach(port)
    return [
        Measurement("baud rate", getattr(port, "baudrate", line.baudrate), "baud",
                    expected=line.baudrate),
        Measurement("data bits", getattr(port, "bytesize", line.bytesize),
                    expected=line.bytesize),
        Measurement("parity", getattr(port, "parity", line.parity), expected=line.parity),
        Measurement("stop bits", getattr(port, "stopbits", line.stopbits),
                    expected=line.stopbits),
    ]


def link_answers(bench: Bench) -> list[Measurement]:
    """A frame with a broken LRC must be NAKed within the ACK timeout."""
    assert bench.traced is not None
    port = bench.traced
    broken = bytearray(encode_frame(b"\x00" * 4))
    broken[-1] ^= 0xFF
    limit = bench.settings.timers.ack_timeout
    _drain(port)
    started = time.monotonic()
    port.write(bytes(broken))
    got = b""
    while time.monotonic() - started < limit:
        port.timeout = 0.05
        got += port.read(64)
        if NAK in got:
            break
    elapsed = (time.monotonic() - started) * 1000
    if NAK not in got:
        raise CheckFailed(f"no NAK within {limit:g} s to a broken frame: the terminal does not "
                          "answer on the link — is it on, is the cable in, is it set to 9600 8N1?")
    return [Measurement("NAK time", elapsed, "ms", high=limit * 1000)]


def _exchange(
    bench: Bench, what: str, request: Callable[[TerminalClient], TransactionResult]
) -> tuple[TransactionResult, list[Measurement]]:
    """Run one request; its result and the round trip and link resends it cost, measured."""
    before = _resends(bench)
    started = time.monotonic()
    try:
        result = request(_client(bench))
    except (LinkError, ProtocolError) as exc:
        raise CheckFailed(f"{what} got no usable answer: {exc}") from None
    rtt = (time.monotonic() - started) * 1000
    _note_device(bench, result)
    return result, [
        Measurement("round trip", rtt, "ms", high=RTT_LIMIT_MS),
        Measurement("link resends", _resends(bench) - before, high=RESENDS_LIMIT),
    ]


def sign_on(bench: Bench) -> list[Measurement]:
    result, costs = _exchange(bench, "sign-on", lambda client: client.sign_on())
    if not result.approved:
        raise CheckFailed(f"sign-on refused: {result.response.code} "
                          f"{result.response.operator_message} — check the terminal id "
                          "and merchant id in the config")
    keys = "present" if 62 in _last_response(bench) else "absent"
    bench.facts.update(terminal_id=result.terminal_id, merchant_id=result.merchant_id,
                       batch=result.batch, working_keys=keys)
    return [
        Measurement("terminal id", result.terminal_id,
                    expected=bench.settings.terminal.terminal_id),
        Measurement("batch", result.batch),
        Measurement("working keys", keys),
        Measurement("device", "simulator" if result.simulated else "terminal"),
        *costs,
    ]


def echo(bench: Bench) -> list[Measurement]:
    result, costs = _exchange(bench, "echo", lambda client: client.echo())
    if not result.approved:
        raise CheckFailed(f"echo answered {result.response.code}")
    return costs


def sale_and_void(bench: Bench) -> list[Measurement]:
    client = _client(bench)
    if bench.settings.supervisor is None and _staffed(client):
        raise CheckSkipped("this lane has operators, so the test sale's void needs a supervisor"
                           " — run again with --supervisor ID")
    answer = bench.settings.operator.ask(
        "Insert the test card now",
        bench.settings.prompt_timeout,
        context={"port": bench.port, "card": bench.settings.card},
    )
    if answer is None:
        raise CheckSkipped(f"{NO_OPERATOR} to 'insert the test card' — not a device fault")
    started = time.monotonic()
    try:
        sale = client.sale(TEST_AMOUNT_FEN)
    except TransactionInDoubt as exc:
        raise CheckFailed(f"the 0.01 test sale is in doubt (trace {exc.trace}): {exc} — "
                          "reverse it before the next test") from None
    sale_ms = (time.monotonic() - started) * 1000
    _note_device(bench, sale)
    if not sale.approved:
        raise CheckFailed(f"the 0.01 test sale was declined: {sale.response.code} "
                          f"{sale.response.operator_message}")
    bench.sale = sale
    started = time.monotonic()
    code = _void(bench, sale)
    void_ms = (time.monotonic() - started) * 1000
    if code != "00":
        raise CheckFailed(f"the void of test sale {sale.rrn} was answered {code}: "
                          "the 0.01 sale stands — void it on the terminal")
    return [
        Measurement("sale round trip", sale_ms, "ms", high=RTT_LIMIT_MS),
        Measurement("void round trip", void_ms, "ms", high=RTT_LIMIT_MS),
        Measurement("void response code", code, expected="00"),
    ]


def printer_status(bench: Bench) -> list[Measurement]:
    from terminal.receipts import open_printer
    from terminal.receipts.status import PrinterState

    if not bench.settings.printer:
        raise CheckSkipped("no --printer given")
    bench.printer = open_printer(bench.settings.printer)
    status = bench.printer.status()
    replies = " ".join("--" if r is None else f"{r:02X}" for r in status.replies)
    measurements = [Measurement("status bytes (DLE EOT 1-4)", replies)]
    if status.state not in (PrinterState.READY, PrinterState.PAPER_NEAR_END):
        raise CheckFailed(f"printer is {status.state.value}"
                          f"{': ' + status.reason if status.reason else ''} "
                          f"(status bytes {replies}) — load paper, close the cover, "
                          "switch it online")
    measurements.append(Measurement("state", status.state.value))
    return measurements


def receipt_prints(bench: Bench) -> list[Measurement]:
    printer = bench.printer
    escpos = printer.escpos
    escpos.text("TERMINAL BRING-UP TEST RECEIPT\n")
    escpos.text(f"terminal {bench.facts.get('terminal_id', '?')}\n")
    escpos.text(time.strftime("%Y-%m-%d %H:%M:%S\n"))
    escpos.cut()
    timeout = bench.settings.receipt_timeout
    answer = bench.settings.operator.ask(
        "Did the receipt print and cut? y/n", timeout,
        context={"printed": printer.confirm_printed}, choices=YES_NO,
    )
    if answer is None:
        raise CheckSkipped(f"{NO_OPERATOR} to 'did the receipt print and cut' — "
                           "not a device fault")
    if answer != "y":
        raise CheckFailed("the test receipt did not print and cut — check paper, cutter, "
                          "and the printer's code page")
    return [Measurement("operator", "printed and cut")]


# -- helpers ---------------------------------------------------------------------------


def _client(bench: Bench):
    assert bench.client is not None
    return bench.client


def _note_device(bench: Bench, result: TransactionResult) -> None:
    """Record whether the device under test is the simulator (its answers say so: a
    report of a simulator must never pass for a terminal's). Once said, it stays said."""
    bench.facts["simulator"] = bool(bench.facts.get("simulator")) or result.simulated


def _resends(bench: Bench) -> int:
    return bench.link.endpoint.stats.resends if bench.link is not None else 0


def _last_response(bench: Bench) -> Message:
    data = bench.traced.last_frames.get("rx", b"") if bench.traced else b""
    try:
        return decode(data)
    except ProtocolError:
        return Message("0000")


def _staffed(client: TerminalClient) -> bool:
    """Whether the POS's lane has operators: then a void needs a supervisor's grant."""
    rules = client.rules
    return rules is not None and staff.staffed(rules.journal.connection, client.lane)


def _drain(port) -> None:
    port.timeout = 0.05
    while port.read(256):
        pass


def _void(bench: Bench, sale) -> str:
    """Void ``sale`` by its RRN (the host finds it in the journal); the response code."""
    try:
        return _client(bench).void(rrn=sale.rrn, supervisor=bench.settings.supervisor).response.code
    except TransactionInDoubt as exc:
        raise CheckFailed(f"the void of test sale {sale.rrn} is in doubt (trace {exc.trace}): "
                          f"{exc} — reverse it") from None
    except (LinkError, ProtocolError) as exc:
        raise CheckFailed(f"the void of test sale {sale.rrn} got no usable answer: {exc} — "
                          "void it on the terminal") from None
    except Refused as exc:
        if exc.rule is not Rule.NEEDS_SUPERVISOR:
            raise
        # The supervisor's authorisation ran out (or was spent) during the run.
        raise CheckFailed(f"the test sale {sale.rrn} stands: {exc.detail} — terminal void"
                          f" --rrn {sale.rrn} --supervisor ID") from None


CHECKS: tuple[Check, ...] = (
    Check("port", "port opens with its settings", port_opens),
    Check("link", "link answers ACK/NAK", link_answers, ("port",)),
    Check("sign_on", "sign-on (terminal id, batch, keys)", sign_on, ("link",)),
    Check("echo", "echo", echo, ("sign_on",)),
    Check("sale_void", "0.01 sale and its void", sale_and_void, ("echo",)),
    Check("printer_status", "printer status", printer_status),
    Check("receipt", "test receipt", receipt_prints, ("printer_status",)),
)
_TITLES = {check.name: check.title for check in CHECKS}
