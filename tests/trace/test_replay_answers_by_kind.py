"""A replayed session answers each live request from the recorded exchange of its kind.

The POS on a developer's laptop does not send exactly what the field POS sent:
an echo test first, a balance enquiry, a void, a pending reversal. Each live
request gets the next recorded exchange of its own kind (MTI, 3, 60.1 and the
catalogue row); one whose kind the recording holds no more of gets silence,
never another kind's answer. The sessions are recorded for real (the CLI
against ``sim://`` with ``--trace``); the replay is driven through its link
(a POS end on a fake clock) and, end to end, by the host over a pty.
"""

from __future__ import annotations

import json
import logging

import pytest
from typer.testing import CliRunner

from simulator import load_cards
from simulator.recording import UNDECODED, RequestKind
from simulator.replay import ReplayTerminal, exchanges_of
from simulator.serve import PtySimulator
from terminal.cli.app import app
from terminal.clock import FakeClock
from terminal.errors import ProtocolError
from terminal.link import ACK, decode_frame, encode_frame
from terminal.protocol import Message, decode, encode
from terminal.trace import read_trace
from tests.lane import add_staff, password
from tests.simulator.sim_requests import network, reversal, sale, transaction
from tests.trace.replay_rig import record, simulate

SALE = ["sale", "12.34"]
OTHER_SALE = ["sale", "5.67"]
ECHO = ["echo"]
SIGN_ON = ["sign-on"]


class Pos:
    """The POS end of a replay's link, on a fake clock: frames a request, ACKs the answer."""

    def __init__(self, device: ReplayTerminal) -> None:
        self.device = device

    def ask(self, request: Message | bytes) -> Message | None:
        data = request if isinstance(request, bytes) else encode(request)
        self.device.feed(encode_frame(data))
        output = self.device.read_output()
        assert output[:1] == bytes([ACK]), output.hex(" ")
        if len(output) == 1:
            return None
        self.device.feed(bytes([ACK]))
        return decode(decode_frame(output[1:]))


def _replay(trace, **options) -> Pos:
    device = ReplayTerminal(read_trace(trace), clock=FakeClock(), keep_timing=False, **options)
    return Pos(device)


def _recorded_requests(trace) -> list[Message]:
    return [decode(exchange.request) for exchange in exchanges_of(read_trace(trace))]


def _live(recorded: Message, trace_number: str) -> Message:
    """A recorded request sent again by the live POS: its trace counter has moved on; no MAC
    (these tests are about matching, not keys)."""
    return recorded.with_fields({11: trace_number, 64: None})


def _money(response: Message) -> tuple:
    return (response.mti, response[39], response[4], response[37], response[38])


def _recorded_money(shown: dict) -> tuple:
    return ("0210", shown["response_code"], f"{shown['amount_fen']:012d}", shown["rrn"],
            shown["auth_code"])


# -- through the link -----------------------------------------------------------------


def test_an_echo_test_before_the_recorded_sale_gets_no_answer_and_the_sale_gets_its_own(
    tmp_path,
):
    trace, recorded = record(tmp_path, SALE)
    pos = _replay(trace, keep_macs=True)
    assert pos.ask(network("301", "0820")) is None
    sale = pos.ask(_live(_recorded_requests(trace)[0], "000090"))
    assert sale is not None and _money(sale) == _recorded_money(recorded[0])
    assert sale[11] == "000090"  # the live trace, echoed
    assert pos.device.unanswered_kinds == {"echo test": 1}
    assert pos.device.remaining == 0


def test_a_live_echo_test_gets_the_echo_recorded_after_the_sale(tmp_path):
    trace, recorded = record(tmp_path, SALE, ECHO)
    pos = _replay(trace, keep_macs=True)
    echo = pos.ask(network("301", "0820", f11="000091"))
    assert echo is not None and (echo.mti, echo[39], echo[11]) == ("0830", "00", "000091")
    sale = pos.ask(_live(_recorded_requests(trace)[0], "000092"))
    assert sale is not None and _money(sale) == _recorded_money(recorded[0])
    assert (pos.device.unanswered, pos.device.remaining) == (0, 0)


def test_a_void_where_the_recording_has_only_sales_gets_no_answer_and_a_warning_naming_it(
    tmp_path, caplog
):
    trace, recorded = record(tmp_path, SALE, OTHER_SALE)
    first, second = _recorded_requests(trace)
    pos = _replay(trace, keep_macs=True)
    answered = pos.ask(_live(first, "000101"))
    void = transaction("void", 1234, trace="000102", original=answered)
    with caplog.at_level(logging.WARNING, logger="simulator.replay"):
        assert pos.ask(void) is None
    assert ("a void (0200 3=200000 60.1=23) has no recorded answer left: no answer; "
            "the recording still holds 1 sale") in caplog.text
    then = pos.ask(_live(second, "000103"))
    assert [_money(answered), _money(then)] == [_recorded_money(r) for r in recorded]
    assert pos.device.unanswered_kinds == {"void": 1}


def test_a_reversal_the_recording_lacks_is_named_for_what_it_reverses(tmp_path, caplog):
    trace, _ = record(tmp_path, SALE)
    pos = _replay(trace, keep_macs=True)
    with caplog.at_level(logging.WARNING, logger="simulator.replay"):
        assert pos.ask(reversal(_live(_recorded_requests(trace)[0], "000104"))) is None
    assert "a reversal of a sale (0400 3=000000 60.1=22) has no recorded answer" in caplog.text
    assert pos.device.remaining == 1


def test_a_sign_off_is_not_answered_with_the_recorded_echo_though_both_are_0820_60_1_00(
    tmp_path,
):
    trace, _ = record(tmp_path, ECHO)
    pos = _replay(trace, keep_macs=True)
    assert pos.ask(network("002", "0820")) is None  # 60.3 tells them apart: the catalogue's row
    assert pos.device.unanswered_kinds == {"sign-off": 1}
    assert pos.ask(network("301", "0820"))[39] == "00"


def test_a_request_that_does_not_decode_gets_no_answer_and_takes_nothing_from_the_recording(
    tmp_path, caplog
):
    trace, recorded = record(tmp_path, SALE)
    pos = _replay(trace, keep_macs=True)
    with caplog.at_level(logging.WARNING, logger="simulator.replay"):
        assert pos.ask(b"\x60\x00\x06\x00\x00\x01") is None  # a link frame, no message
    assert "a request that does not decode" in caplog.text
    sale = pos.ask(_live(_recorded_requests(trace)[0], "000105"))
    assert sale is not None and _money(sale) == _recorded_money(recorded[0])
    assert pos.device.unanswered_kinds == {UNDECODED: 1}


def test_a_request_that_does_not_decode_is_logged_without_the_card_number_around_the_fault(
    tmp_path, caplog
):
    trace, _ = record(tmp_path, SALE)
    pan = load_cards()["approved"].pan
    data = bytearray(encode(sale(f2=pan)))
    after_pan = data.index(bytes.fromhex(pan)) + len(pan) // 2
    data[after_pan] = 0xAA  # field 3 right after the card number: not BCD
    with pytest.raises(ProtocolError) as raised:
        decode(bytes(data))
    spaced = bytes.fromhex(pan).hex(" ")
    assert spaced in str(raised.value)  # the error's own text shows the bytes around it
    pos = _replay(trace, keep_macs=True)
    with caplog.at_level(logging.WARNING, logger="simulator.replay"):
        assert pos.ask(bytes(data)) is None
    assert "does not decode (field 3" in caplog.text
    assert spaced not in caplog.text and pan not in caplog.text


def test_a_sign_on_recorded_after_an_echo_test_is_played_not_answered_by_the_replay(tmp_path):
    trace, _ = record(tmp_path, ECHO, SIGN_ON, SALE)
    pos = _replay(trace)
    sign_on = pos.ask(_live(_recorded_requests(trace)[1], "000106"))
    assert sign_on is not None and sign_on[39] == "00"
    assert pos.device.own_answers == 0 and pos.device.unplayed() == {"echo test": 1, "sale": 1}


def test_a_sign_on_the_recording_has_only_after_a_sale_is_answered_by_the_replay(tmp_path):
    # The sale was MAC'd under keys from a sign-on the recording does not hold.
    trace, _ = record(tmp_path, SALE, SIGN_ON)
    pos = _replay(trace)
    sign_on = pos.ask(_live(_recorded_requests(trace)[1], "000107"))
    assert sign_on is not None and sign_on[39] == "00"
    assert pos.device.own_answers == 1 and pos.device.remaining == 2


def test_the_final_report_counts_what_was_not_played_and_what_got_no_answer_by_kind(tmp_path):
    trace, _ = record(tmp_path, SALE, ECHO, OTHER_SALE)
    pos = _replay(trace, keep_macs=True)
    first = _recorded_requests(trace)[0]
    pos.ask(_live(first, "000108"))
    pos.ask(network("002", "0820"))
    pos.ask(transaction("refund", 100, trace="000109"))
    pos.ask(transaction("refund", 200, trace="000110"))
    assert pos.device.final_report() == (
        "2 of 3 recorded exchange(s) not played: 1 echo test, 1 sale; "
        "3 live request(s) got no answer: 1 sign-off, 2 refund(s)"
    )


@pytest.mark.parametrize(
    ("message", "words"),
    [
        (network("301", "0820"), "an echo test (0820 60.1=00)"),
        (network("003", "0800"), "a sign-on (0800 60.1=00)"),
        (transaction("balance"), "a balance enquiry (0200 3=310000 60.1=01)"),
        (transaction("preauth", 100), "a pre-authorization (0100 3=030000 60.1=10)"),
        (Message("0300", {11: "000001"}), "an unknown 0300 request"),
    ],
)
def test_a_request_kind_is_said_in_plain_words_with_its_spelling(message, words):
    assert str(RequestKind.of(message)) == words


# -- the host over a pty --------------------------------------------------------------


class Laptop:
    """The developer's host: a fresh data directory with staff, waiting 1 s for an answer."""

    def __init__(self, root, monkeypatch: pytest.MonkeyPatch) -> None:
        self.config = root / "laptop.toml"
        self.data = root / "laptop-data"
        self._monkeypatch = monkeypatch

    def enter(self) -> None:
        """From now on this process's commands are the laptop's (after the field recorded)."""
        self._monkeypatch.setenv("TERMINAL_CONFIG", str(self.config))
        self._monkeypatch.setenv("TERMINAL_DATA_DIR", str(self.data))
        self.config.write_text("")
        add_staff(default=None)
        self.config.write_text(
            '[link]\nresponse_timeout = 1.0\n\n[operators]\ndefault_operator = "sue"\n'
        )

    @property
    def env(self) -> dict[str, str]:
        return {"TERMINAL_CONFIG": str(self.config), "TERMINAL_DATA_DIR": str(self.data)}


@pytest.fixture
def laptop(tmp_path, monkeypatch) -> Laptop:
    return Laptop(tmp_path, monkeypatch)


def _run(port: str, *args: str, stdin: str | None = None) -> tuple[int, dict]:
    outcome = CliRunner().invoke(app, [*args, "--json", "--port", port], input=stdin)
    return outcome.exit_code, json.loads(outcome.stdout)


def _shown_money(code: int, shown: dict) -> tuple:
    return (code, shown.get("response_code"), shown.get("amount_fen"), shown.get("rrn"),
            shown.get("auth_code"))


def test_a_balance_enquiry_the_field_did_not_send_leaves_the_recorded_sale_to_the_sale(
    tmp_path, laptop
):
    trace, recorded = record(tmp_path, SALE)
    laptop.enter()
    with PtySimulator(ReplayTerminal(read_trace(trace))) as sim:
        assert _run(sim.path, "sign-on")[0] == 0  # answered by the replay: keys
        balance_code, _ = _run(sim.path, "balance")
        sale = _run(sim.path, "sale", "12.34")
        unanswered = dict(sim.device.unanswered_kinds)
    assert balance_code != 0  # timed out: a silent terminal
    assert _shown_money(*sale) == _shown_money(0, recorded[0])
    assert unanswered == {"balance enquiry": 1}


def test_two_recorded_sales_answer_the_live_sales_around_a_void_the_recording_lacks(
    tmp_path, laptop
):
    trace, recorded = record(tmp_path, SALE, OTHER_SALE)
    laptop.enter()
    with PtySimulator(ReplayTerminal(read_trace(trace))) as sim:
        assert _run(sim.path, "sign-on")[0] == 0
        first = _run(sim.path, "sale", "12.34")
        void_code, _ = _run(sim.path, "void", "--rrn", first[1]["rrn"], "--supervisor", "sue",
                            "--password-stdin", stdin=f"{password('sue')}\n")
        # The host reverses the void left in doubt before its next sale: unrecorded too.
        second = _run(sim.path, "sale", "5.67")
        unanswered, remaining = dict(sim.device.unanswered_kinds), sim.device.remaining
    assert void_code == 3  # no answer: in doubt
    assert [_shown_money(*first), _shown_money(*second)] == [
        _shown_money(0, shown) for shown in recorded
    ]
    assert unanswered == {"void": 1, "reversal of a void": 1}
    assert remaining == 0


def test_simulate_replay_says_each_unanswered_request_at_once_and_the_count_at_the_end(
    tmp_path, laptop
):
    trace, recorded = record(tmp_path, SALE, OTHER_SALE)
    laptop.enter()
    with simulate("--replay", str(trace), env=laptop.env) as (port, stderr):
        assert _run(port, "sign-on")[0] == 0
        assert _run(port, "echo")[0] != 0
        sale = _run(port, "sale", "12.34")
    assert _shown_money(*sale) == _shown_money(0, recorded[0])
    assert "2 recorded exchange(s) (2 sale(s)), each live request answered from the next " \
           "recorded one of its kind" in stderr[0]
    assert ("replay: an echo test (0820 60.1=00) has no recorded answer left: no answer; "
            "the recording still holds 2 sale(s)") in stderr[0]
    assert ("Replay ended: 1 of 2 recorded exchange(s) not played: 1 sale; 1 live request(s) "
            "got no answer: 1 echo test; 1 answered by the replay itself (working keys).") \
        in stderr[0]
