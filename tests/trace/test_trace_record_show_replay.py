"""Wire traces: a session recorded with card data masked, shown decoded, replayed as the device."""

from __future__ import annotations

import dataclasses
import json

import pytest
from typer.testing import CliRunner

from simulator import load_cards
from simulator.replay import ReplayTerminal, exchanges_of
from simulator.serve import PtySimulator
from terminal.card_data import luhn_valid
from terminal.cli.app import app
from terminal.protocol import decode, encode
from terminal.protocol.identity import identifies_simulator
from terminal.trace import TraceError, TraceWriter, read_trace
from tests.leaks.scanner import scan_bytes


def _record_sale(tmp_path, *args: str) -> tuple[object, object]:
    trace = tmp_path / "sale.trace"
    port = f"sim://?ledger={tmp_path / 'ledger.json'}"
    # Sign on first (working keys kept by both ends), so the traced sale is one exchange.
    assert CliRunner().invoke(app, ["sign-on", "--port", port]).exit_code == 0
    outcome = CliRunner().invoke(
        app, ["--trace", str(trace), "sale", "12.34", "--json", "--port", port, *args]
    )
    return outcome, trace


def _no_card_number_in(data: bytes) -> None:
    text = data.decode("latin-1")
    for card in load_cards():
        assert card.pan not in text, card.name
        assert card.pan.encode().hex() not in text.lower().replace(":", ""), card.name
        assert card.pan not in text.replace(" ", "").replace(":", ""), card.name
    assert [str(finding) for finding in scan_bytes(data)] == []


def test_a_traced_sale_records_each_frame_and_answer_with_direction_and_time(tmp_path):
    outcome, path = _record_sale(tmp_path)
    assert outcome.exit_code == 0, outcome.output
    lines = path.read_text().splitlines()
    header = json.loads(lines[0])
    assert header["format"] == "terminal-trace" and header["version"] == 2
    assert header["port"] == "sim://"  # the query (ledger, card) is not kept
    events = [(r.direction, r.kind) for r in read_trace(path).records]
    assert events == [("tx", "frame"), ("rx", "ack"), ("rx", "frame"), ("tx", "ack")]
    times = [r.t for r in read_trace(path).records]
    assert times == sorted(times)


def test_a_trace_file_holds_no_full_card_number_in_any_form(tmp_path):
    outcome, path = _record_sale(tmp_path, "--card", "contactless")
    assert outcome.exit_code in (0, 1), outcome.output
    data = path.read_bytes()
    # The masked number is there (first 6 digits hex-encoded in BCD), so the scan saw frames.
    assert load_cards()["contactless"].pan[:6] in data.decode().replace(":", "")
    _no_card_number_in(data)


def test_trace_show_prints_the_frames_decoded_with_the_card_number_masked(tmp_path):
    _, path = _record_sale(tmp_path)
    shown = CliRunner().invoke(app, ["trace", "show", str(path)])
    assert shown.exit_code == 0, shown.output
    pan = load_cards()["approved"].pan
    assert "frame 0200" in shown.output and "frame 0210" in shown.output
    assert f"{pan[:6]}******{pan[-4:]}" in shown.output
    assert "POS → terminal" in shown.output and "ACK" in shown.output
    _no_card_number_in(shown.output.encode())


def test_trace_record_runs_the_command_and_passes_its_exit_code_on(tmp_path):
    path = tmp_path / "declined.trace"
    port = f"sim://?ledger={tmp_path / 'ledger.json'}"
    assert CliRunner().invoke(app, ["sign-on", "--port", port]).exit_code == 0
    outcome = CliRunner().invoke(
        app, ["trace", "record", str(path), "sale", "12.34", "--card", "expired", "--port", port],
    )
    assert outcome.exit_code == 1, outcome.output  # declined
    assert [r.kind for r in read_trace(path).frames()] == ["frame", "frame"]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("", "empty"),
        ('{"format": "other"}\n', "not a terminal-trace"),
        ('{"format": "terminal-trace", "version": 9}\n', "version 9"),
        ('{"format": "terminal-trace", "version": 1}\n{"t": 0, "dir": "up", "kind": "ack"}\n',
         ":2: 'dir'"),
        ('{"format": "terminal-trace", "version": 1}\nnot json\n', ":2: not JSON"),
    ],
)
def test_a_broken_trace_file_is_refused_naming_the_line(tmp_path, content, reason):
    path = tmp_path / "x.trace"
    path.write_text(content)
    with pytest.raises(TraceError, match=reason):
        read_trace(path)
    shown = CliRunner().invoke(app, ["trace", "show", str(path)])
    assert shown.exit_code == 2 and reason in shown.output


def test_a_sale_recorded_after_its_sign_on_replays_once_the_host_signs_on_with_the_replay(
    tmp_path,
):
    outcome, path = _record_sale(tmp_path)
    assert outcome.exit_code == 0, outcome.output
    recorded = json.loads(outcome.stdout)
    trace = read_trace(path)
    assert len(exchanges_of(trace)) == 1
    # The host still holds the keys of its (unrecorded) sign-on, which the replay never
    # issued: the replay answers A0 as a restarted terminal would, the host signs on
    # (answered by the replay itself, outside the recording) and sends the sale again,
    # whose recorded answer is re-signed with the new keys.
    with PtySimulator(ReplayTerminal(trace)) as sim:
        replayed = CliRunner().invoke(app, ["sale", "12.34", "--json", "--port", sim.path])
        remaining, resigned = sim.device.remaining, sim.device.resigner.resigned
    assert replayed.exit_code == 0, replayed.output
    shown = json.loads(replayed.stdout)
    assert (shown["rrn"], shown["auth_code"], shown["card"]) == (
        recorded["rrn"], recorded["auth_code"], recorded["card"]
    )
    assert shown["trace"] != recorded["trace"]  # the live trace, echoed in its place
    assert (remaining, resigned) == (0, 1)


def test_a_replay_that_keeps_the_recorded_macs_leaves_a_macd_sale_in_doubt(tmp_path):
    outcome, path = _record_sale(tmp_path)
    assert outcome.exit_code == 0, outcome.output
    with PtySimulator(ReplayTerminal(read_trace(path), keep_macs=True)) as sim:
        replayed = CliRunner().invoke(app, ["sale", "12.34", "--json", "--port", sim.path])
    assert replayed.exit_code == 3, replayed.output
    assert "MAC" in replayed.output


def test_simulate_replay_refuses_a_file_that_is_not_a_trace(tmp_path):
    path = tmp_path / "x.trace"
    path.write_text("hello\n")
    outcome = CliRunner().invoke(app, ["simulate", "--pty", "--replay", str(path)])
    assert outcome.exit_code == 2
    assert "not JSON" in outcome.output


def test_trace_show_prints_a_mac_so_that_no_card_like_digit_run_appears():
    # A CUP MAC is eight ASCII hex characters; their hex is sixteen decimal digits, and
    # this one passes the Luhn check, so shown as one run it would look like a card number.
    from terminal.protocol import Message, Tpdu, encode
    from terminal.trace import TraceFile, TraceRecord
    from terminal.trace.show import render_trace

    mac = b"4A82EB7E"
    assert luhn_valid(mac.hex())
    data = encode(Message("0800", {11: "000001", 41: "10008060", 64: mac},
                          tpdu=Tpdu(), header="603200320002"), "cup")
    trace = TraceFile("2026-11-28T00:00:00+00:00", "sim://", "cup",
                      (TraceRecord(0.0, "tx", "frame", data),))
    shown = "\n".join(render_trace(trace))
    assert "34:41:38:32:45:42:37:45" in shown
    _no_card_number_in(shown.encode())


def test_a_session_recorded_into_one_file_is_appended_to_with_time_going_on(tmp_path):
    path = tmp_path / "session.trace"
    port = f"sim://?ledger={tmp_path / 'ledger.json'}"
    for command in (["sign-on"], ["sale", "1.00"], ["balance"]):
        outcome = CliRunner().invoke(app, ["--trace", str(path), *command, "--port", port])
        assert outcome.exit_code == 0, outcome.output
    lines = path.read_text().splitlines()
    assert sum('"format"' in line for line in lines) == 1  # one header, three commands
    trace = read_trace(path)
    assert len(exchanges_of(trace)) == 3
    times = [r.t for r in trace.records]
    assert times == sorted(times)


def test_a_trace_is_never_appended_to_a_file_that_is_not_one(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("my notes\n")
    outcome = CliRunner().invoke(
        app, ["--trace", str(path), "echo", "--port", f"sim://?ledger={tmp_path / 'l.json'}"]
    )
    assert outcome.exit_code == 2
    assert "not a trace file" in outcome.output
    assert path.read_text() == "my notes\n"


def test_a_mac_verdict_other_than_ok_or_bad_is_refused_naming_the_line(tmp_path):
    path = tmp_path / "x.trace"
    path.write_text('{"format": "terminal-trace", "version": 1}\n'
                    '{"t": 0, "dir": "rx", "kind": "frame", "hex": "00", "mac": "maybe"}\n')
    with pytest.raises(TraceError, match=":2: 'mac'"):
        read_trace(path)


def test_a_replayed_field_session_says_simulator_though_the_real_terminal_did_not(tmp_path):
    outcome, path = _record_sale(tmp_path)
    assert outcome.exit_code == 0, outcome.output
    _as_from_a_real_terminal(path)
    assert not any(identifies_simulator(decode(r.data))
                   for r in read_trace(path).frames() if r.direction == "rx")
    with PtySimulator(ReplayTerminal(read_trace(path))) as sim:
        replayed = CliRunner().invoke(app, ["sale", "12.34", "--json", "--port", sim.path])
    assert replayed.exit_code == 0, replayed.output
    assert json.loads(replayed.stdout)["simulated"] is True  # no money moved on the laptop


def _as_from_a_real_terminal(path) -> None:
    """Rewrite a trace as a real terminal's: its answers without the simulator's mark (59)."""
    trace = read_trace(path)
    writer = TraceWriter(path, port="/dev/ttyUSB0")
    try:
        for record in trace.records:
            if record.kind == "frame" and record.direction == "rx":
                unmarked = decode(record.data).with_fields({59: None})
                record = dataclasses.replace(record, data=encode(unmarked))
            writer.write(record)
    finally:
        writer.close()
